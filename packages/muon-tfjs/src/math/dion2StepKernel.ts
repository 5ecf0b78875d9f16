import type * as tf from '@tensorflow/tfjs-core';
import type { MuonStepResult } from './muonStepKernel.js';
import type { NewtonSchulzSchedule } from './newtonSchulzSchedule.js';
import type { SelectedSide } from './submatrixSelection.js';

/** One Dion2 variable of a fused step: its value, gradient and momentum (float32, one shape), and what it selects. */
export interface Dion2StepVariable {
  readonly param: tf.Tensor;
  readonly grad: tf.Tensor;
  readonly momentum: tf.Tensor;
  /** The side of its `[fanIn, fanOut]` view whose slices are selected (`selectedSide`). */
  readonly side: SelectedSide;
  /** How many slices are orthogonalized, k = max(1, ⌈α·n⌉) (`selectedCount`), at least 1. */
  readonly selected: number;
  /** s of p ← p − lr·s·O, from the `[fanIn, fanOut]` view (`shapeScale`). */
  readonly shapeScale: number;
}

/** The hyper-parameters of one fused Dion2 step, as the composed transformation reads them at that step. */
export interface Dion2StepSettings {
  readonly schedule: NewtonSchulzSchedule;
  /** μ, what the selected slices of the momentum are multiplied by after they are used. */
  readonly errorFeedbackDecay: number;
  /** lr at this step. */
  readonly learningRate: number;
  /** The decay added before the learning rate, wd (or wd·lr/lr_max, corrected); 0 for none. */
  readonly weightDecay: number;
  /** Decay only where s·O and p agree in sign. */
  readonly cautious: boolean;
}

/**
 * The kernel seam of the fused Dion2 step: the whole step of every Dion2 variable in one call
 * (accumulation, selection, Newton–Schulz of the selected slices, error feedback, shape scale,
 * weight decay, update), equal to `dion2Transformation` followed by the adapter's p + update, with
 * the finiteness of the gradient and of each new value reported rather than checked by extra ops.
 * Its results are those of Muon's fused step: the momentum slot is Dion2's (M + G, the selected
 * slices decayed).
 */
export interface Dion2StepKernel {
  /** Why the kernel cannot run now (no addon, another backend), or undefined when it can. */
  unavailable(): string | undefined;
  /** Computes the step into new tensors; reads its inputs only. */
  step(variables: readonly Dion2StepVariable[], settings: Dion2StepSettings): MuonStepResult[];
}
