import type * as tf from '@tensorflow/tfjs-core';
import { executePlan } from './executePlan.js';
import { checkNewtonSchulzInput, checkTfjsPrecision } from './newtonSchulz.js';
import { type NewtonSchulzOptions, resolveNewtonSchulz } from './newtonSchulzSchedule.js';
import { GENERAL_MATMUL_CAPABILITIES, type NewtonSchulzAlgorithm, planOrthogonalization } from './planOrthogonalization.js';

/** Options of {@link gramNewtonSchulz}: those of `newtonSchulz` plus the algorithm. */
export interface GramNewtonSchulzOptions extends NewtonSchulzOptions {
  /** Default `'auto'`: the cheaper of the two for the shape (`planOrthogonalization`). */
  readonly algorithm?: NewtonSchulzAlgorithm;
}

/**
 * Newton–Schulz orthogonalization computing the same map as `newtonSchulz` (same coefficients,
 * same normalization) with fewer flops on rectangular matrices.
 *
 * Gram Newton–Schulz (Zhang, Amsel, Chen, Dao 2026; Dao-AILab/gram-newton-schulz): every iterate is
 * X_t = Q_t X with Q_t a polynomial in R = XXᵀ, so the iteration can run on m×m matrices only:
 * Z = aI + bR + cR², Q ← QZ, R ← ZRZ (Z and R commute), and X is touched twice: R = XXᵀ at the start
 * and QX at the end, plus once per restart. For an m×n matrix with n = 4m and 5 iterations that is
 * 60m³ flops instead of 90m³. Square matrices are cheaper with the plain iteration; `'auto'` picks
 * by `planOrthogonalization` with general matmuls.
 *
 * Tall matrices (rows > cols) iterate on XᵀX and finish with XQ, so no transpose of the output is
 * needed. All matmuls are plain (no transpose flags): on the wasm backend only those reach XNNPACK.
 * `options` are resolved and the shape planned on every call (the convenience API); kernels use a
 * resolved schedule and cached plans (`gramOrthogonalizer()`).
 *
 * @param g a float32 matrix `[m, n]` or a batch `[batch, m, n]`
 * @example
 * const o = gramNewtonSchulz(tf.randomNormal([768, 3072]), { coefficients: 'jordan' });
 */
export function gramNewtonSchulz<T extends tf.Tensor2D | tf.Tensor3D>(g: T, options: GramNewtonSchulzOptions = {}): T {
  checkNewtonSchulzInput(g, 'gramNewtonSchulz');
  const schedule = resolveNewtonSchulz(options);
  checkTfjsPrecision(schedule, 'gramNewtonSchulz');
  const plan = planOrthogonalization(g.shape[g.rank - 2] as number, g.shape[g.rank - 1] as number, schedule, GENERAL_MATMUL_CAPABILITIES, options.algorithm);
  return executePlan(g, schedule, plan);
}
