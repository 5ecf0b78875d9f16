import { chain } from '../transforms/chain.js';
import { type Scheduled, maxValue } from '../math/schedule.js';
import type { GradientTransformation, Live } from '../transforms/gradientTransformation.js';
import { scaleByAdam } from '../transforms/scaleByAdam.js';
import { scaleByLearningRate } from '../transforms/scaleByLearningRate.js';
import { fusedAdamWStep } from './fusedAdamW.js';
import { type ExecutionOptions, elementwiseOptimizerKind, fusedStepOf, resolveExecution } from './optimizerKind.js';
import { checkLearningRate, checkPositive, checkUnitInterval, givenOptions, optionNames, rejectUnknownOptions } from './options.js';
import { WEIGHT_DECAY_OPTION_SET, type WeightDecayOptions, resolveWeightDecayOptions, weightDecayTransformation } from './weightDecay.js';

/** Options of AdamW; every field has a default in {@link ADAMW_DEFAULTS}. */
export interface AdamWOptions extends WeightDecayOptions {
  /** A number or a schedule ({@link cosine}, {@link linearDecay}, ...), read at every step. Default 1e-3. */
  readonly learningRate?: Scheduled;
  /** EMA rate of the first moment, in [0, 1). Default 0.9. */
  readonly beta1?: number;
  /** EMA rate of the second moment, in [0, 1). Default 0.999. */
  readonly beta2?: number;
  /** Added to √v̂ in the denominator, > 0. Default 1e-8. */
  readonly epsilon?: number;
  /** Decoupled weight decay, p ← p·(1 − lr·wd). Default 0.01 (torch.optim.AdamW). */
  readonly weightDecay?: number;
  /**
   * How the step executes (not saved): `{ fused: false }` runs the composed TF.js ops even where the
   * native fused step can run (Node with the addon built, cpu and wasm backends), which computes
   * the same bits in one pass per variable. Default: fused where it can.
   */
  readonly execution?: Pick<ExecutionOptions, 'fused'>;
}

/** AdamW's options with every default filled in, and the execution settings as given (not enumerable: never saved). */
export type ResolvedAdamWOptions = Required<Omit<AdamWOptions, 'execution'>> & { readonly execution: ExecutionOptions };

/** AdamW's defaults, those of torch.optim.AdamW (lr_max of the corrected decay defaults to the learning rate). */
export const ADAMW_DEFAULTS = {
  learningRate: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 0.01,
  correctedWeightDecay: false,
  cautiousWeightDecay: false,
} as const satisfies Omit<ResolvedAdamWOptions, 'maxLearningRate' | 'execution'>;

/** The names of AdamW's options: the keys of {@link AdamWOptions}, checked by the compiler. */
export const ADAMW_OPTION_NAMES = optionNames<AdamWOptions>({ learningRate: true, beta1: true, beta2: true, epsilon: true, ...WEIGHT_DECAY_OPTION_SET, execution: true });

/** Fills in defaults (from `defaults`) and checks every option by name. */
export function resolveAdamWOptions(options: AdamWOptions = {}, owner = 'adamw'): ResolvedAdamWOptions {
  rejectUnknownOptions(options, ADAMW_OPTION_NAMES, owner);
  const { execution: givenExecution, ...given } = givenOptions(options);
  const merged = { ...ADAMW_DEFAULTS, ...given };
  const learningRate = checkLearningRate(merged.learningRate, 'learningRate', owner);
  checkUnitInterval(merged.beta1, 'beta1', owner);
  checkUnitInterval(merged.beta2, 'beta2', owner);
  // epsilon > 0: with epsilon = 0 a zero gradient gives m̂/√v̂ = 0/0 and writes NaN.
  checkPositive(merged.epsilon, 'epsilon', owner);
  const settings = { ...merged, learningRate, ...resolveWeightDecayOptions(options, ADAMW_DEFAULTS.weightDecay, maxValue(learningRate), owner) };
  const execution = resolveExecution(givenExecution, ['fused'], owner);
  return Object.freeze(Object.defineProperty(settings, 'execution', { value: execution, enumerable: false }) as ResolvedAdamWOptions);
}

/**
 * AdamW (Loshchilov & Hutter, arXiv 1711.05101): p ← p − lr·(m̂/(√v̂ + ε) + wd·p), with the
 * corrected and cautious decay variants of {@link WeightDecayOptions}.
 */
export function adamwTransformation(options: ResolvedAdamWOptions, learningRate: Live<Scheduled>): GradientTransformation {
  return chain(scaleByAdam(options), weightDecayTransformation(options, learningRate), scaleByLearningRate(learningRate));
}

/** AdamW, defined once: as a hybrid group (`{ optimizer: 'adamw', options }`) and as `AdamWOptimizer`. */
export const ADAMW_KIND = elementwiseOptimizerKind<AdamWOptions, ResolvedAdamWOptions>({
  name: 'adamw',
  title: 'AdamW',
  className: 'AdamWOptimizer',
  optionNames: ADAMW_OPTION_NAMES,
  resolve: resolveAdamWOptions,
  transformation: adamwTransformation,
  fusedStep(options, learningRate, services) {
    const kernel = services.adamStepKernel;
    if (kernel === undefined) return 'the services supply no fused AdamW kernel';
    return fusedStepOf(options.execution, () => fusedAdamWStep(options, learningRate, kernel()));
  },
});
