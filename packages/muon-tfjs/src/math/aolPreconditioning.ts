import * as tf from '@tensorflow/tfjs-core';
import { swapLastTwo } from './newtonSchulz.js';
import type { NewtonSchulzSchedule } from './newtonSchulzSchedule.js';

/** The AOL-rescaled iterate and its Gram matrix, which the first iteration uses instead of recomputing XXᵀ. */
export interface AolPreconditioned<T extends tf.Tensor2D | tf.Tensor3D> {
  /** diag(s)·X (X·diag(s) for a tall X). */
  readonly x: T;
  /** diag(s)·A·diag(s) with A = XXᵀ (XᵀX for a tall X): the Gram matrix of `x`. */
  readonly gram: T;
}

/**
 * AOL rescaling (Prach & Lampert, arXiv 2208.03160), the normalization of Turbo-Muon (Boissin et
 * al., arXiv 2512.04632), on a matrix or each matrix of a batch: with A = XXᵀ on the Gram side
 * (XᵀX when `transposed`, i.e. X is tall), s_i = 1/max(√(Σ_j |A_ij|), eps), returns diag(s)·X and
 * diag(s)·A·diag(s) (tall: X·diag(s) and the same Gram). A is the matrix the first Newton–Schulz
 * iteration needs anyway: Turbo-Muon rescales it instead of recomputing it, so the normalization
 * costs one pass over the m×m A and one over X. No Frobenius division: the Schur test bounds
 * ‖diag(s)·A·diag(s)‖₂ by 1, so every singular value lands in [0, 1].
 *
 * Computed on X / max|x_ij| (per matrix) so that the squares in A cannot overflow float32, as
 * `normalizeFrobenius` does: the rescaling is invariant to X's scale when the floor scales with it
 * (eps/peak). An all-zero X is divided by 1 instead and maps to zero.
 */
export function preconditionAol<T extends tf.Tensor2D | tf.Tensor3D>(x: T, schedule: NewtonSchulzSchedule, transposed: boolean): AolPreconditioned<T> {
  const peak = tf.max(tf.abs(x), [-2, -1], true);
  const scale = tf.where(tf.greater(peak, 0), peak, tf.onesLike(peak));
  const scaled = tf.div(x, scale) as T;
  const gram = transposed ? tf.matMul(swapLastTwo(scaled), scaled) : tf.matMul(scaled, swapLastTwo(scaled));
  const rowScales = tf.reciprocal(tf.maximum(tf.sqrt(tf.sum(tf.abs(gram), -1, true)), tf.div(schedule.eps, scale))); // s as a column [..., m, 1]
  const columnScales = swapLastTwo(rowScales as T); // s as a row [..., 1, m]
  return {
    x: tf.mul(scaled, transposed ? columnScales : rowScales) as T,
    gram: tf.mul(tf.mul(gram, rowScales), columnScales) as T,
  };
}
