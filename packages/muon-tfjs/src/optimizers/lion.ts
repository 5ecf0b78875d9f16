import { chain } from '../transforms/chain.js';
import { type Scheduled, maxValue } from '../math/schedule.js';
import type { GradientTransformation, Live } from '../transforms/gradientTransformation.js';
import { scaleByLearningRate } from '../transforms/scaleByLearningRate.js';
import { scaleByLion } from '../transforms/scaleByLion.js';
import { elementwiseOptimizerKind } from './optimizerKind.js';
import { checkLearningRate, checkUnitInterval, givenOptions, optionNames, rejectUnknownOptions } from './options.js';
import { WEIGHT_DECAY_OPTION_SET, type WeightDecayOptions, resolveWeightDecayOptions, weightDecayTransformation } from './weightDecay.js';

/** Options of Lion; every field has a default in {@link LION_DEFAULTS}. */
export interface LionOptions extends WeightDecayOptions {
  /** A number or a schedule, read at every step. Default 1e-4 (use 3–10× less than AdamW's, per the Lion README). */
  readonly learningRate?: Scheduled;
  /** Interpolation rate of the update direction, in [0, 1). Default 0.9. */
  readonly beta1?: number;
  /** EMA rate of the momentum, in [0, 1). Default 0.99. */
  readonly beta2?: number;
  /** Decoupled weight decay (use 3–10× more than AdamW's). Default 0. */
  readonly weightDecay?: number;
}

export type ResolvedLionOptions = Required<LionOptions>;

/** Lion's defaults, those of the reference implementation (google/automl `lion_pytorch.py`). */
export const LION_DEFAULTS = {
  learningRate: 1e-4,
  beta1: 0.9,
  beta2: 0.99,
  weightDecay: 0,
  correctedWeightDecay: false,
  cautiousWeightDecay: false,
} as const satisfies Omit<ResolvedLionOptions, 'maxLearningRate'>;

/** The names of Lion's options: the keys of {@link LionOptions}, checked by the compiler. */
export const LION_OPTION_NAMES = optionNames<LionOptions>({ learningRate: true, beta1: true, beta2: true, ...WEIGHT_DECAY_OPTION_SET });

/** Fills in defaults and checks every option by name. */
export function resolveLionOptions(options: LionOptions = {}, owner = 'lion'): ResolvedLionOptions {
  rejectUnknownOptions(options, LION_OPTION_NAMES, owner);
  const merged = { ...LION_DEFAULTS, ...givenOptions(options) };
  const learningRate = checkLearningRate(merged.learningRate, 'learningRate', owner);
  checkUnitInterval(merged.beta1, 'beta1', owner);
  checkUnitInterval(merged.beta2, 'beta2', owner);
  return Object.freeze({ ...merged, learningRate, ...resolveWeightDecayOptions(options, LION_DEFAULTS.weightDecay, maxValue(learningRate), owner) });
}

/** Lion: p ← p − lr·(sign(β₁m + (1−β₁)g) + wd·p); m ← β₂m + (1−β₂)g; weight decay as in {@link WeightDecayOptions}. */
export function lionTransformation(options: ResolvedLionOptions, learningRate: Live<Scheduled>): GradientTransformation {
  return chain(scaleByLion(options), weightDecayTransformation(options, learningRate), scaleByLearningRate(learningRate));
}

/** Lion, defined once: as a hybrid group (`{ optimizer: 'lion', options }`) and as `LionOptimizer`. */
export const LION_KIND = elementwiseOptimizerKind<LionOptions, ResolvedLionOptions>({
  name: 'lion',
  title: 'Lion',
  className: 'LionOptimizer',
  optionNames: LION_OPTION_NAMES,
  resolve: resolveLionOptions,
  transformation: lionTransformation,
});
