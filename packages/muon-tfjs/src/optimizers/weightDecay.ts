import { addDecayedWeights } from '../transforms/addDecayedWeights.js';
import type { Scheduled } from '../math/schedule.js';
import { type GradientTransformation, type Live, type StepContext, scheduledAt } from '../transforms/gradientTransformation.js';
import { type OptionNameSet, checkNonNegative, checkPositive, optionNames } from './options.js';

/**
 * The weight-decay options every optimizer of this package takes (each group of a hybrid too).
 * The variants combine: corrected sets how much to decay at each step, cautious where.
 */
export interface WeightDecayOptions {
  /** Decoupled weight decay wd: p ← p·(1 − lr·wd) − lr·u (the default differs per optimizer). */
  readonly weightDecay?: number;
  /**
   * Corrected weight decay: decay by lr_t²/lr_max·wd per step instead of lr_t·wd, so that the
   * decay follows the learning-rate schedule (timm's `corrected_weight_decay`, "lr**2 / max_lr";
   * Chou, arXiv 2512.08217: the steady-state weight norm² ≈ lr·C/(2·wd), kept constant while lr
   * is scheduled only if wd ∝ lr; Defazio's AdamC, arXiv 2506.02285). At lr_t = lr_max it equals
   * the decoupled decay. Default false.
   */
  readonly correctedWeightDecay?: boolean;
  /** Decay only where the update and the parameter agree in sign, u·p ≥ 0 (modded-nanogpt). Default false. */
  readonly cautiousWeightDecay?: boolean;
  /**
   * lr_max of the corrected decay. Default: the learning rate given at construction, as timm
   * (`max_lr = defaults['lr']`). It is saved with the options so that an optimizer rebuilt from
   * a checkpoint mid-schedule (whose saved learning rate is the scheduled one) keeps the same lr_max.
   */
  readonly maxLearningRate?: number;
}

/** The weight-decay options resolved, every default filled in. */
export type ResolvedWeightDecayOptions = Required<WeightDecayOptions>;

/** The weight-decay options, for the option name sets of the optimizers that take them. */
export const WEIGHT_DECAY_OPTION_SET = {
  weightDecay: true,
  correctedWeightDecay: true,
  cautiousWeightDecay: true,
  maxLearningRate: true,
} as const satisfies OptionNameSet<WeightDecayOptions>;

/** Names of the weight-decay options. */
export const WEIGHT_DECAY_OPTION_NAMES = optionNames<WeightDecayOptions>(WEIGHT_DECAY_OPTION_SET);

/**
 * Fills in the defaults (no correction, not cautious, lr_max = `learningRate`) and checks each
 * option by name.
 */
export function resolveWeightDecayOptions(options: WeightDecayOptions, defaultWeightDecay: number, learningRate: number, owner: string): ResolvedWeightDecayOptions {
  const resolved = {
    weightDecay: options.weightDecay ?? defaultWeightDecay,
    correctedWeightDecay: options.correctedWeightDecay ?? false,
    cautiousWeightDecay: options.cautiousWeightDecay ?? false,
    maxLearningRate: options.maxLearningRate ?? learningRate,
  };
  checkNonNegative(resolved.weightDecay, 'weightDecay', owner);
  // lr_max divides the corrected decay. Given explicitly it must be > 0; derived from a learning
  // rate of 0 (a frozen group) it may be 0 unless the corrected decay would divide by it.
  if (options.maxLearningRate !== undefined || resolved.correctedWeightDecay) checkPositive(resolved.maxLearningRate, 'maxLearningRate', owner);
  else checkNonNegative(resolved.maxLearningRate, 'maxLearningRate', owner);
  for (const name of ['correctedWeightDecay', 'cautiousWeightDecay'] as const) {
    if (typeof resolved[name] !== 'boolean') {
      throw new Error(`${owner}: ${name} must be a boolean, got ${String(resolved[name])}`);
    }
  }
  return resolved;
}

/**
 * The weight-decay stage of an optimizer's chain, placed before `scaleByLearningRate`
 * (which multiplies it by lr_t): wd for the decoupled decay, wd·lr_t/lr_max for the corrected
 * one (so the step decays p by lr_t²/lr_max·wd), masked by u·p ≥ 0 when cautious.
 */
export function weightDecayTransformation(options: ResolvedWeightDecayOptions, learningRate: Live<Scheduled>): GradientTransformation {
  const decay = options.correctedWeightDecay ? (context: StepContext) => weightDecayAt(options, scheduledAt(learningRate, context)) : options.weightDecay;
  return addDecayedWeights(decay, { cautious: options.cautiousWeightDecay });
}

/** The decay added before the learning rate at a step of rate lr: wd, or wd·lr/lr_max when corrected. */
export function weightDecayAt(options: ResolvedWeightDecayOptions, learningRate: number): number {
  const { weightDecay, correctedWeightDecay, maxLearningRate } = options;
  return correctedWeightDecay ? (weightDecay * learningRate) / maxLearningRate : weightDecay;
}
