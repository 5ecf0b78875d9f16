import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** The optimizers the benchmark compares. */
export const OPTIMIZER_KINDS = ['muon', 'adamw', 'sgd', 'lion'] as const;
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];

/** Everything an optimizer needs besides its learning rate. */
export interface OptimizerContext {
  model: tfl.LayersModel;
  /** Learning rate of the AdamW group inside the Muon hybrid (the lr chosen for AdamW). */
  auxLearningRate: number;
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

// PLACEHOLDER until src/index.ts exports muon/adamw/lion/muonWithAdamW: replaced before shipping.
const SPECS: Record<OptimizerKind, OptimizerSpec> = {
  muon: {
    kind: 'muon',
    label: 'Muon (+AdamW)',
    grid: [0.01, 0.02, 0.05],
    hyperParameters: { momentum: 0.95, nesterov: true, nsSteps: 5, weightDecay: 0 },
    create: (lr) => tf.train.adam(lr / 20),
  },
  adamw: {
    kind: 'adamw',
    label: 'AdamW',
    grid: [3e-4, 1e-3, 3e-3],
    hyperParameters: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 },
    create: (lr) => tf.train.adam(lr, 0.9, 0.999, 1e-8),
  },
  sgd: {
    kind: 'sgd',
    label: 'SGD momentum',
    grid: [0.03, 0.1, 0.3],
    hyperParameters: { momentum: 0.9 },
    create: (lr) => tf.train.momentum(lr, 0.9),
  },
  lion: {
    kind: 'lion',
    label: 'Lion',
    grid: [3e-5, 1e-4, 3e-4],
    hyperParameters: { beta1: 0.9, beta2: 0.99, weightDecay: 0 },
    create: (lr) => tf.train.adam(lr * 3),
  },
};

/** The spec of one optimizer kind. */
export function optimizerSpec(kind: OptimizerKind): OptimizerSpec {
  return SPECS[kind];
}
