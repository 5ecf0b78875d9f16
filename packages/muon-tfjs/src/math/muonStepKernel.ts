import type * as tf from '@tensorflow/tfjs-core';
import type { NewtonSchulzSchedule } from './newtonSchulzSchedule.js';

/**
 * How a fused step's momentum is stored: float32 in the parameter's shape, or bfloat16 packed two per
 * int32 word (`packBfloat16`'s layout and rounding, Muon's `momentumDtype: 'bfloat16'` slot).
 */
export type MuonStepMomentumDtype = 'float32' | 'bfloat16';

/**
 * One Muon variable of a fused step: its value and gradient (float32, one shape), its momentum in
 * the step's {@link MuonStepSettings.momentumDtype} (float32 of that shape, or the packed int32
 * tensor of `ceil(size / 2)` words) and its shape scale.
 */
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
  /**
   * How the momentum is read and written. Under `'bfloat16'` the step is storeInBfloat16's: m
   * unpacked exactly, the float32 step on it (Newton–Schulz sees the unrounded m'), m' packed rounded
   * to nearest even. Only `'float32'` unless the kernel lists `'bfloat16'` in its `momentumDtypes`.
   */
  readonly momentumDtype: MuonStepMomentumDtype;
}

/** What a fused step of Muon (or Dion2) computed for one variable; nothing has been written anywhere. */
export interface MuonStepResult {
  /** The new parameter value p − lr·(s·O + wd·p), a new tensor of the parameter's shape. */
  readonly param: tf.Tensor;
  /**
   * The new momentum, a new tensor in the format of the momentum read: Muon's βm + (1−β)g (packed
   * under `momentumDtype: 'bfloat16'`); Dion2's M + G with the selected slices decayed.
   */
  readonly momentum: tf.Tensor;
  readonly gradientFinite: boolean;
  /** Whether the new momentum is finite as stored (packed, a finite float32 may round to ±Inf). */
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
  /**
   * The momentum formats the kernel reads and writes; absent: `['float32']`. Under
   * `momentumDtype: 'bfloat16'`, a kernel without `'bfloat16'` is handed the momentum unpacked and
   * its float32 result is packed around it (the same bits, two more passes).
   */
  readonly momentumDtypes?: readonly MuonStepMomentumDtype[];
  /** Computes the step into new tensors; reads its inputs only. */
  step(variables: readonly MuonStepVariable[], settings: MuonStepSettings): MuonStepResult[];
}
