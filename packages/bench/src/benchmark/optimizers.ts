import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { SOPHIA_HESSIAN_INTERVAL, adamw, hybrid, lion, muonWithAdamW, provideHessianEstimate, sophia, type Orthogonalizer, type TransformOptimizer } from 'muon-tfjs';
import type { Batch } from './task.js';

/** The optimizers the benchmark can compare (`--optimizers`). */
export const OPTIMIZER_KINDS = ['muon', 'adamw', 'sgd', 'lion', 'normuon', 'sophia', 'muon-auto'] as const;
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];

/**
 * The optimizers a plain `npm run bench` compares: NorMuon and Sophia join once the re-tuning
 * protocol (issue 12, items 4–5) has been run for them on a quiet machine.
 */
export const DEFAULT_OPTIMIZER_KINDS: readonly OptimizerKind[] = ['muon', 'adamw', 'sgd', 'lion'];

/** What an optimizer may do after each step, besides the step itself (Sophia's Hessian estimate). */
export interface AfterStepContext {
  optimizer: tf.Optimizer;
  model: tfl.LayersModel;
  /** This step's batch, still alive. */
  batch: Batch;
}

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
  /** Trains the model's embeddings, head, biases and gains with AdamW at AdamW's chosen lr. */
  usesAuxiliaryAdamW: boolean;
  /** Work after every step, timed as part of the optimizer step. */
  afterStep?(context: AfterStepContext): void;
}

const ADAMW = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 } as const;
const MUON = { momentum: 0.95, nesterov: true, nsSteps: 5, weightDecay: 0.01 } as const;
const LION = { beta1: 0.9, beta2: 0.99, weightDecay: 0.1 } as const;
const SGD = { momentum: 0.9 } as const;
const NORMUON = { ...MUON, beta2: 0.95 } as const;
/**
 * ρ = 1, not the reference's 0.05 (GPT-2 scale, tens of thousands of steps). Without bias
 * correction, h after n estimates is (1 − β₂ⁿ) of its level: with β₂ = 0.99 and k = 10, 10 % after
 * 100 steps. On the bench MLP (steps 50–100, lr 3e-3, seed 1) ρ = 0.05 left 5 % of the entries
 * unclipped, a sign-momentum step in effect, ρ = 1 27 %, with the lowest loss; the reference
 * README advises keeping that fraction in 0.1–0.5.
 */
const SOPHIA = { beta1: 0.965, beta2: 0.99, rho: 1, weightDecay: 0.2 } as const;

/**
 * The four compared optimizers. Grids bracket each method's usual values (5 points, about ×3
 * apart, one point above the usual range, since short tuning runs favour large rates);
 * weight decays follow each method's reference (AdamW 0.01 as in PyTorch, Muon 0.01 as in
 * KellerJordan/Muon's README example, Lion 10× AdamW's as its paper advises). The Muon hybrid's
 * AdamW group uses the same betas, eps and decay as the AdamW baseline, and AdamW's chosen lr.
 */
const SPECS: Record<OptimizerKind, OptimizerSpec> = {
  muon: muonSpec('muon', 'Muon (+AdamW)', { nsSteps: MUON.nsSteps, coefficients: 'jordan' }),
  // Layer-aware Newton–Schulz (issue 15): every setting of 'muon' but the schedule, chosen per layer.
  'muon-auto': muonSpec('muon-auto', 'Muon auto-NS (+AdamW)', { nsSteps: 'auto' }),
  adamw: {
    kind: 'adamw',
    label: 'AdamW',
    grid: [3e-4, 1e-3, 3e-3, 1e-2, 3e-2],
    hyperParameters: { ...ADAMW },
    create: (learningRate) => adamw({ learningRate, ...ADAMW }),
    usesAuxiliaryAdamW: false,
  },
  sgd: {
    kind: 'sgd',
    label: 'SGD momentum',
    grid: [0.01, 0.03, 0.1, 0.3, 1],
    hyperParameters: { ...SGD, implementation: 'tf.train.momentum' },
    create: (learningRate) => tf.train.momentum(learningRate, SGD.momentum),
    usesAuxiliaryAdamW: false,
  },
  lion: {
    kind: 'lion',
    label: 'Lion',
    grid: [1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
    hyperParameters: { ...LION },
    create: (learningRate) => lion({ learningRate, ...LION }),
    usesAuxiliaryAdamW: false,
  },
  normuon: {
    kind: 'normuon',
    label: 'NorMuon (+AdamW)',
    grid: [0.01, 0.02, 0.05, 0.1, 0.2],
    hyperParameters: { ...NORMUON, coefficients: 'jordan', lrAdjust: 'original', auxiliary: 'AdamW (same settings as AdamW, its chosen lr)' },
    // The default routing's labels: hidden matrices → 'muon' (here NorMuon), the rest → 'adamw'.
    create: (learningRate, { model, auxLearningRate, orthogonalize }) => hybrid(model, {
      groups: {
        muon: { optimizer: 'normuon', options: { learningRate, ...NORMUON, ...(orthogonalize && { orthogonalize }) } },
        adamw: { optimizer: 'adamw', options: { learningRate: auxLearningRate, ...ADAMW } },
      },
    }),
    usesAuxiliaryAdamW: true,
  },
  sophia: {
    kind: 'sophia',
    label: 'SophiaG',
    grid: [1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
    hyperParameters: { ...SOPHIA, hessianInterval: SOPHIA_HESSIAN_INTERVAL, hessianEstimator: 'Gauss–Newton–Bartlett on the step\'s batch' },
    create: (learningRate) => sophia({ learningRate, ...SOPHIA }),
    usesAuxiliaryAdamW: false,
    // After every k-th step, on the batch just trained on (the reference uses the next batch):
    // labels sampled from the model's logits; its cost is part of the optimizer's time.
    afterStep({ optimizer, model, batch }) {
      const o = optimizer as TransformOptimizer;
      if (o.iterations % SOPHIA_HESSIAN_INTERVAL === 0) provideHessianEstimate(o, model, batch.x, { outputs: 'logits', seed: o.iterations });
    },
  },
};

/** The Muon hybrid with the Newton–Schulz setting given (fixed steps and coefficients, or 'auto'). */
function muonSpec(kind: OptimizerKind, label: string, newtonSchulz: { nsSteps: number; coefficients: 'jordan' } | { nsSteps: 'auto' }): OptimizerSpec {
  const { nsSteps: _, ...muon } = MUON;
  return {
    kind,
    label,
    grid: [0.01, 0.02, 0.05, 0.1, 0.2],
    hyperParameters: { ...muon, ...newtonSchulz, lrAdjust: 'original', auxiliary: 'AdamW (same settings as AdamW, its chosen lr)' },
    create: (learningRate, { model, auxLearningRate, orthogonalize }) => muonWithAdamW(model, {
      muon: { learningRate, ...muon, ...newtonSchulz, ...(orthogonalize && { orthogonalize }) },
      adamw: { learningRate: auxLearningRate, ...ADAMW },
    }),
    usesAuxiliaryAdamW: true,
  };
}

/** The spec of one optimizer kind. */
export function optimizerSpec(kind: OptimizerKind): OptimizerSpec {
  return SPECS[kind];
}
