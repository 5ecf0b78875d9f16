import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { adamw, lion, muonWithAdamW, type Orthogonalizer } from 'muon-tfjs';

/** The optimizers the benchmark compares. */
export const OPTIMIZER_KINDS = ['muon', 'adamw', 'sgd', 'lion'] as const;
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];

/** Everything an optimizer needs besides its learning rate. */
export interface OptimizerContext {
  model: tfl.LayersModel;
  /** Learning rate of the AdamW group inside the Muon hybrid (the lr chosen for AdamW). */
  auxLearningRate: number;
  /**
   * Muon's orthogonalization kernel; absent: Muon's default (`fastestOrthogonalizer()`). Set by
   * `npm run bench:model-step` to time the TF.js kernel on the same optimizer.
   */
  orthogonalize?: Orthogonalizer;
}

/** One compared optimizer: how to build it, its lr grid and fixed hyper-parameters. */
export interface OptimizerSpec {
  kind: OptimizerKind;
  /** Display name in tables and plots. */
  label: string;
  /** Learning rates tried on the held-out split. */
  grid: readonly number[];
  /** Fixed hyper-parameters, for the report. */
  hyperParameters: Record<string, number | string | boolean>;
  create(learningRate: number, context: OptimizerContext): tf.Optimizer;
}

const ADAMW = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 } as const;
const MUON = { momentum: 0.95, nesterov: true, nsSteps: 5, weightDecay: 0.01 } as const;
const LION = { beta1: 0.9, beta2: 0.99, weightDecay: 0.1 } as const;
const SGD = { momentum: 0.9 } as const;

/**
 * The four compared optimizers. Grids bracket each method's usual values (5 points, about ×3
 * apart, one point above the usual range, since short tuning runs favour large rates);
 * weight decays follow each method's reference (AdamW 0.01 as in PyTorch, Muon 0.01 as in
 * KellerJordan/Muon's README example, Lion 10× AdamW's as its paper advises). The Muon hybrid's
 * AdamW group uses the same betas, eps and decay as the AdamW baseline, and AdamW's chosen lr.
 */
const SPECS: Record<OptimizerKind, OptimizerSpec> = {
  muon: {
    kind: 'muon',
    label: 'Muon (+AdamW)',
    grid: [0.01, 0.02, 0.05, 0.1, 0.2],
    hyperParameters: { ...MUON, coefficients: 'jordan', lrAdjust: 'original', auxiliary: 'AdamW (same settings as AdamW, its chosen lr)' },
    create: (learningRate, { model, auxLearningRate, orthogonalize }) => muonWithAdamW(model, {
      muon: { learningRate, ...MUON, ...(orthogonalize && { orthogonalize }) },
      adamw: { learningRate: auxLearningRate, ...ADAMW },
    }),
  },
  adamw: {
    kind: 'adamw',
    label: 'AdamW',
    grid: [3e-4, 1e-3, 3e-3, 1e-2, 3e-2],
    hyperParameters: { ...ADAMW },
    create: (learningRate) => adamw({ learningRate, ...ADAMW }),
  },
  sgd: {
    kind: 'sgd',
    label: 'SGD momentum',
    grid: [0.01, 0.03, 0.1, 0.3, 1],
    hyperParameters: { ...SGD, implementation: 'tf.train.momentum' },
    create: (learningRate) => tf.train.momentum(learningRate, SGD.momentum),
  },
  lion: {
    kind: 'lion',
    label: 'Lion',
    grid: [1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
    hyperParameters: { ...LION },
    create: (learningRate) => lion({ learningRate, ...LION }),
  },
};

/** The spec of one optimizer kind. */
export function optimizerSpec(kind: OptimizerKind): OptimizerSpec {
  return SPECS[kind];
}
