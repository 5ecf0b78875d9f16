import type * as tf from '@tensorflow/tfjs-core';
import type { NewtonSchulzSchedule } from './newtonSchulzSchedule.js';

/** One Muon variable of a fused step: its value, gradient and momentum (float32, one shape) and its shape scale. */
export interface MuonStepVariable {
  readonly param: tf.Tensor;
  readonly grad: tf.Tensor;
  readonly momentum: tf.Tensor;
  /** s of p ← p − lr·s·O, from the `[fanIn, fanOut]` view (`shapeScale`). */
  readonly shapeScale: number;
}

/** The hyper-parameters of one fused step, as the composed transformation reads them at that step. */
export interface MuonStepSettings {
  /** β of the momentum EMA at this step. */
  readonly beta: number;
  readonly nesterov: boolean;
  readonly schedule: NewtonSchulzSchedule;
  /** lr at this step. */
  readonly learningRate: number;
  /** The decay added before the learning rate, wd (or wd·lr/lr_max, corrected); 0 for none. */
  readonly weightDecay: number;
  /** Decay only where s·O and p agree in sign. */
  readonly cautious: boolean;
}

/** What a fused step of Muon (or Dion2) computed for one variable; nothing has been written anywhere. */
export interface MuonStepResult {
  /** The new parameter value p − lr·(s·O + wd·p), a new tensor of the parameter's shape. */
  readonly param: tf.Tensor;
  /** The new momentum, a new tensor: Muon's βm + (1−β)g; Dion2's M + G with the selected slices decayed. */
  readonly momentum: tf.Tensor;
  readonly gradientFinite: boolean;
  readonly momentumFinite: boolean;
  readonly paramFinite: boolean;
}

/**
 * The kernel seam of the fused Muon step: the whole step of every Muon variable in one call
 * (momentum, look-ahead, normalization, Newton–Schulz, shape scale, weight decay, update), equal
 * to the composed transformation `muonTransformation` followed by the adapter's p + update, with
 * the finiteness of the gradient and of each new value reported rather than checked by extra ops.
 */
export interface MuonStepKernel {
  /** Why the kernel cannot run now (no addon, another backend), or undefined when it can. */
  unavailable(): string | undefined;
  /** Computes the step into new tensors; reads its inputs only. */
  step(variables: readonly MuonStepVariable[], settings: MuonStepSettings): MuonStepResult[];
}
