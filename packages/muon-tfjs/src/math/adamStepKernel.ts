import type * as tf from '@tensorflow/tfjs-core';

/** One AdamW variable of a fused step: its value, gradient and moments (float32, one shape). */
export interface AdamStepVariable {
  readonly param: tf.Tensor;
  readonly grad: tf.Tensor;
  readonly firstMoment: tf.Tensor;
  readonly secondMoment: tf.Tensor;
}

/** The hyper-parameters of one fused step, as the composed transformation reads them at that step. */
export interface AdamStepSettings {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** 1 − β₁ᵗ and 1 − β₂ᵗ at this step's index t ≥ 1, as `scaleByAdam` computes them. */
  readonly correction1: number;
  readonly correction2: number;
  /** lr at this step. */
  readonly learningRate: number;
  /** The decay added before the learning rate, wd (or wd·lr/lr_max, corrected); 0 for none. */
  readonly weightDecay: number;
  /** Decay only where the direction and p agree in sign. */
  readonly cautious: boolean;
}

/** What a fused step computed for one variable, in new tensors; nothing has been written anywhere. */
export interface AdamStepResult {
  readonly param: tf.Tensor;
  readonly firstMoment: tf.Tensor;
  readonly secondMoment: tf.Tensor;
  readonly gradientFinite: boolean;
  readonly firstMomentFinite: boolean;
  readonly secondMomentFinite: boolean;
  readonly paramFinite: boolean;
}

/**
 * The kernel seam of the fused AdamW step: the whole step of every AdamW variable in one call,
 * equal to the composed `adamwTransformation` followed by the adapter's p + update, with the
 * finiteness of the gradient and of each new value reported rather than checked by extra ops.
 */
export interface AdamStepKernel {
  /** Why the kernel cannot run now (no addon, another backend), or undefined when it can. */
  unavailable(): string | undefined;
  /** Computes the step into new tensors; reads its inputs only. */
  step(variables: readonly AdamStepVariable[], settings: AdamStepSettings): AdamStepResult[];
}
