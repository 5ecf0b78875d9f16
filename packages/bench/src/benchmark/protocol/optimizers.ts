import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { OPTIMIZER_KINDS as LIBRARY_KINDS, type OptimizerKindName, SOPHIA_HESSIAN_INTERVAL, adamw, hybrid, lion, muonWithAdamW, provideHessianEstimate, sophia, type Orthogonalizer, type Scheduled, type TransformOptimizer } from 'muon-tfjs';
import { ScheduledMomentumOptimizer } from './scheduledMomentum.js';
import type { Batch } from 'muon-tfjs-tasks';

/**
 * The optimizers the benchmark can compare (`--optimizers`), in the order of its tables: every
 * optimizer of the library, SGD as tfjs has it, and Muon's variants.
 */
export const OPTIMIZER_KINDS = ['muon', 'adamw', 'sgd', 'lion', 'normuon', 'sophia', 'muon-bf16', 'muon-auto', 'dion2', 'muon-ns3-bf16', 'muon-turbo-bf16', 'muon-bf16-momentum'] as const;
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];
/** Every kind of the library's `OPTIMIZER_KINDS` is one of the benchmark's: a new one fails to compile here until it has a spec in {@link SPECS}. */
const _EVERY_LIBRARY_KIND: readonly OptimizerKind[] = Object.keys(LIBRARY_KINDS) as OptimizerKindName[];

/** Variants of Muon and cheaper Muons (issue 24), compared when asked for by name (`--optimizers muon,muon-ns3-bf16`). */
const VARIANT_KINDS: readonly OptimizerKind[] = ['muon-bf16', 'muon-auto', 'dion2', 'muon-ns3-bf16', 'muon-turbo-bf16', 'muon-bf16-momentum'];

/** The optimizers a plain `npm run bench` compares: the whole competitor table (issue 12). */
export const DEFAULT_OPTIMIZER_KINDS: readonly OptimizerKind[] = OPTIMIZER_KINDS.filter((kind) => !VARIANT_KINDS.includes(kind));

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
  /**
   * Learning rate of the AdamW group inside a hybrid (AdamW's chosen peak times the tuned
   * {@link ADAMW_HALF_FACTOR}, on the same schedule as the hybrid's own rate).
   */
  auxLearningRate: Scheduled;
  /** Values of the spec's {@link OptimizerSpec.tunedAfter} hyper-parameters; absent: their defaults. */
  tuned?: Readonly<Record<string, number>>;
  /**
   * Muon's orthogonalization kernel; absent: Muon's default (`fastestOrthogonalizer()`). Set by
   * `npm run bench:model-step` to time the TF.js kernel on the same optimizer.
   */
  orthogonalize?: Orthogonalizer;
  /** Muon's (Dion2's) `fused` option (absent: the default, fused where it can). Set by `npm run bench:model-step` to time the composed step. */
  fused?: boolean;
}

/** A hyper-parameter other than the learning rate that the protocol tunes (Sophia's ρ). */
export interface TunedHyperParameter {
  name: string;
  /** Values tried, increasing; the search extends it past an edge choice. */
  grid: readonly number[];
  /** The value used while the learning rate is tuned. */
  initial: number;
}

/**
 * One compared optimizer: how to build it, what the protocol tunes and its fixed hyper-parameters.
 * A variant (another rule for the same optimizer) is a spec with its own `kind` and `label`.
 */
export interface OptimizerSpec {
  /** Identifier in results.json and the CLI (`muon`, `adamw`, … or a variant's own name). */
  kind: string;
  /** Display name in tables and plots. */
  label: string;
  /** Peak learning rates tried on the held-out split (increasing; extended past an edge choice). */
  grid: readonly number[];
  /** Tuned after the learning rate, one at a time, each at the values chosen before it. */
  tunedAfter?: readonly TunedHyperParameter[];
  /** Fixed hyper-parameters, for the report. */
  hyperParameters: Record<string, number | string | boolean>;
  create(learningRate: Scheduled, context: OptimizerContext): tf.Optimizer;
  /** Trains the model's embeddings, head, biases and gains with AdamW at AdamW's chosen lr. */
  usesAuxiliaryAdamW: boolean;
  /** Work after every step, timed as part of the optimizer step. */
  afterStep?(context: AfterStepContext): void;
}

/** The AdamW settings of the baseline and of every hybrid's AdamW group. */
export const ADAMW = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 } as const;
/** The Muon settings of the benchmark's Muon hybrid. */
export const MUON = { momentum: 0.95, nesterov: true, nsSteps: 5, weightDecay: 0.01 } as const;
const LION = { beta1: 0.9, beta2: 0.99, weightDecay: 0.1 } as const;
const SGD = { momentum: 0.9 } as const;
const NORMUON = { ...MUON, beta2: 0.95 } as const;
/**
 * Dion2's own defaults (microsoft/dion `dion2.py`: fraction 0.25, ef_decay 0.95, weight decay
 * 0.01, spectral-norm lr scaling, Polar Express), written out for the report; its lr is tuned on
 * Muon's grid (dion2.py's default 0.01 and its 160M config's 0.02 are both in it).
 */
const DION2 = { fraction: 0.25, errorFeedbackDecay: 0.95, weightDecay: 0.01, coefficients: 'polarExpress5', lrAdjust: 'spectral' } as const;
/**
 * Sophia's ρ is tuned by the protocol, after the learning rate (which is tuned at ρ = 1): the
 * reference's 0.05 is for GPT-2 scale, tens of thousands of steps. Without bias correction, h
 * after n estimates is (1 − β₂ⁿ) of its level: with β₂ = 0.99 and k = 10, 10 % after 100 steps, so
 * on runs of a few hundred steps a small ρ clips almost every entry (a sign-momentum step); the
 * grid brackets the reference and 1 (on the bench MLP, steps 50–100, ρ = 0.05 left 5 % of the
 * entries unclipped, ρ = 1 27 %; the reference README advises 0.1–0.5).
 */
const SOPHIA = { beta1: 0.965, beta2: 0.99, weightDecay: 0.2 } as const;
const SOPHIA_RHO: TunedHyperParameter = { name: 'rho', grid: [0.03, 0.1, 0.3, 1, 3], initial: 1 };

/**
 * A hybrid's AdamW half is tuned too (issue 25 item 3): its peak rate is this factor times AdamW's
 * chosen peak, searched after the hybrid's own rate (which is tuned at factor 1). Without it a
 * hybrid inherits AdamW's choice for the embeddings, head, biases and gains, which is tuned for
 * every parameter at once; with it the two halves have the tuning budget Sophia's lr and ρ have.
 */
export const ADAMW_HALF_FACTOR: TunedHyperParameter = { name: 'adamwFactor', grid: [0.1, 0.3, 1, 3, 10], initial: 1 };

/** The report's description of a hybrid's AdamW half. */
const AUXILIARY_ADAMW = "AdamW (same settings as AdamW; its lr a tuned multiple of AdamW's chosen lr)";

/** The peak rate of a hybrid's AdamW half: AdamW's chosen peak times the tuned factor (1 when not tuned). */
export function adamwHalfPeak(adamwPeak: number, tuned: Readonly<Record<string, number>> | undefined): number {
  return adamwPeak * (tuned?.[ADAMW_HALF_FACTOR.name] ?? 1);
}

/**
 * The compared optimizers. Grids bracket each method's usual values (5 points, about ×2–3 apart;
 * the protocol extends a grid whose best point is at an edge);
 * weight decays follow each method's reference (AdamW 0.01 as in PyTorch, Muon 0.01 as in
 * KellerJordan/Muon's README example, Lion 10× AdamW's as its paper advises). The Muon hybrid's
 * AdamW group uses the same betas, eps and decay as the AdamW baseline, at a tuned multiple of
 * AdamW's chosen lr.
 */
const SPECS: Record<OptimizerKind, OptimizerSpec & { kind: OptimizerKind }> = {
  muon: muonSpec('muon', 'Muon (+AdamW)', { nsSteps: MUON.nsSteps, coefficients: 'jordan' }),
  // Muon with its Newton–Schulz products in bfloat16 (float32 accumulation): the measurement
  // behind the default of Muon's `precision` (README, "Precision"). Falls back to float32, said
  // on the console, where the native kernel cannot run bfloat16.
  'muon-bf16': muonSpec('muon-bf16', 'Muon bf16 NS (+AdamW)', { nsSteps: MUON.nsSteps, coefficients: 'jordan', precision: 'bfloat16' }),
  // The cheap Muons of issue 24's done-when: fewer Newton–Schulz iterations in bfloat16 products.
  // Three `jordan` iterations (modded-nanogpt's record of 2026-04-09 runs three early in training)
  // and Turbo-Muon's four AOL-tuned ones (its preset's count), every other setting of 'muon'.
  'muon-ns3-bf16': muonSpec('muon-ns3-bf16', 'Muon 3-step bf16 NS (+AdamW)', { nsSteps: 3, coefficients: 'jordan', precision: 'bfloat16' }),
  'muon-turbo-bf16': muonSpec('muon-turbo-bf16', 'Turbo-Muon bf16 NS (+AdamW)', { nsSteps: 4, coefficients: 'turboMuon', precision: 'bfloat16' }),
  // Momentum stored in bfloat16 (issue 24, item 5: half of Muon's state memory), every other
  // setting of 'muon': accuracy over training, as the bfloat16 Newton–Schulz was measured.
  'muon-bf16-momentum': muonSpec('muon-bf16-momentum', 'Muon bf16 momentum (+AdamW)', { nsSteps: MUON.nsSteps, coefficients: 'jordan', momentumDtype: 'bfloat16' }),
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
    hyperParameters: { ...SGD, implementation: 'tf.train.momentum, its rate set from the schedule before each step' },
    create: (learningRate) => new ScheduledMomentumOptimizer(learningRate, SGD.momentum),
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
    tunedAfter: [ADAMW_HALF_FACTOR],
    hyperParameters: { ...NORMUON, coefficients: 'jordan', lrAdjust: 'original', auxiliary: AUXILIARY_ADAMW },
    // The default routing's labels: hidden matrices → 'muon' (here NorMuon), the rest → 'adamw'.
    create: (learningRate, { model, auxLearningRate, orthogonalize }) => hybrid(model, {
      groups: {
        muon: { optimizer: 'normuon', options: { learningRate, ...NORMUON, ...(orthogonalize && { execution: { orthogonalize } }) } },
        adamw: { optimizer: 'adamw', options: { learningRate: auxLearningRate, ...ADAMW } },
      },
    }),
    usesAuxiliaryAdamW: true,
  },
  dion2: {
    kind: 'dion2',
    label: 'Dion2 (+AdamW)',
    grid: [0.01, 0.02, 0.05, 0.1, 0.2],
    tunedAfter: [ADAMW_HALF_FACTOR],
    hyperParameters: { ...DION2, nsSteps: 5, auxiliary: AUXILIARY_ADAMW },
    // The default routing's labels: hidden matrices → 'muon' (here Dion2), the rest → 'adamw'.
    create: (learningRate, { model, auxLearningRate, orthogonalize, fused }) => hybrid(model, {
      groups: {
        muon: { optimizer: 'dion2', options: { learningRate, ...DION2, execution: { ...(orthogonalize && { orthogonalize }), ...(fused !== undefined && { fused }) } } },
        adamw: { optimizer: 'adamw', options: { learningRate: auxLearningRate, ...ADAMW } },
      },
    }),
    usesAuxiliaryAdamW: true,
  },
  sophia: {
    kind: 'sophia',
    label: 'SophiaG',
    grid: [1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
    tunedAfter: [SOPHIA_RHO],
    hyperParameters: { ...SOPHIA, hessianInterval: SOPHIA_HESSIAN_INTERVAL, hessianEstimator: 'Gauss–Newton–Bartlett on the step\'s batch' },
    create: (learningRate, { tuned }) => sophia({ learningRate, ...SOPHIA, rho: tuned?.['rho'] ?? SOPHIA_RHO.initial }),
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
function muonSpec(
  kind: OptimizerKind,
  label: string,
  newtonSchulz: { nsSteps: number; coefficients: 'jordan' | 'turboMuon'; precision?: 'bfloat16'; momentumDtype?: 'bfloat16' } | { nsSteps: 'auto' },
): OptimizerSpec & { kind: OptimizerKind } {
  const { nsSteps: _, ...muon } = MUON;
  return {
    kind,
    label,
    grid: [0.01, 0.02, 0.05, 0.1, 0.2],
    tunedAfter: [ADAMW_HALF_FACTOR],
    hyperParameters: { ...muon, ...newtonSchulz, lrAdjust: 'original', auxiliary: AUXILIARY_ADAMW },
    create: (learningRate, { model, auxLearningRate, orthogonalize, fused }) => muonWithAdamW(model, {
      muon: { learningRate, ...muon, ...newtonSchulz, execution: { ...(orthogonalize && { orthogonalize }), ...(fused !== undefined && { fused }) } },
      adamw: { learningRate: auxLearningRate, ...ADAMW },
    }),
    usesAuxiliaryAdamW: true,
  };
}

/** The spec of one optimizer kind. */
export function optimizerSpec(kind: OptimizerKind): OptimizerSpec {
  return SPECS[kind];
}
