import * as tf from '@tensorflow/tfjs-core';
import { preconditionAol } from './aolPreconditioning.js';
import { type NewtonSchulzOptions, type NewtonSchulzSchedule, resolveNewtonSchulz } from './newtonSchulzSchedule.js';

/** Swaps the last two axes of a 2-D or 3-D tensor with an explicit transpose (see below why). */
export function swapLastTwo<T extends tf.Tensor2D | tf.Tensor3D>(x: T): T {
  return (x.rank === 2 ? tf.transpose(x) : tf.transpose(x, [0, 2, 1])) as T;
}

/**
 * Throws unless the schedule asks for float32: the TF.js convenience functions compute in float32
 * and, being called explicitly, refuse bfloat16 rather than ignore it (Muon's kernels fall back to
 * float32 with a message instead; see `precisionThatRuns` in src/kernels).
 */
export function checkTfjsPrecision(schedule: NewtonSchulzSchedule, caller: string): void {
  if (schedule.precision !== 'float32') {
    throw new Error(`${caller} computes in float32 through TF.js; precision '${schedule.precision}' runs in the native kernel (nativeOrthogonalizer, or Muon's precision option)`);
  }
}

/** Checks what every Newton–Schulz kernel takes, a float32 matrix or batch, naming `caller` and the value at fault. */
export function checkNewtonSchulzInput(g: tf.Tensor, caller: string): void {
  if (g.rank !== 2 && g.rank !== 3) {
    throw new Error(`${caller} expects a matrix [m, n] or a batch [b, m, n]; got shape [${g.shape.join(', ')}]`);
  }
  if (g.dtype !== 'float32') {
    throw new Error(`${caller} expects a float32 tensor; got dtype ${g.dtype}`);
  }
}

/**
 * X / (c·‖X‖_F + eps), the normalization before the first iteration, computed so that it cannot
 * overflow: the squares of float32 entries above about 1.8e19 exceed float32's 3.4e38, so the
 * plain ‖X‖_F would be +Inf and the update exactly 0. With s = max|x_ij| (per matrix of a batch),
 * X/(c‖X‖_F + eps) = (X/s)/(c‖X/s‖_F + eps/s); an all-zero X (s = 0) is divided by 1 instead and
 * stays 0. The native kernel normalizes in float64 and needs none of this.
 */
export function normalizeFrobenius<T extends tf.Tensor2D | tf.Tensor3D>(x: T, schedule: NewtonSchulzSchedule): T {
  return tf.tidy(() => {
    const peak = tf.max(tf.abs(x), [-2, -1], true);
    const scale = tf.where(tf.greater(peak, 0), peak, tf.onesLike(peak));
    const scaled = tf.div(x, scale);
    const norm = tf.sqrt(tf.sum(tf.square(scaled), [-2, -1], true));
    return tf.div(scaled, tf.add(tf.mul(norm, schedule.normalizationScale), tf.div(schedule.eps, scale))) as T;
  });
}

/**
 * The plain Newton–Schulz iteration under a resolved schedule, on `g` (`transposed`: on its
 * transpose, then transposed back). The hot path of the kernels: no checks, no resolution.
 */
export function plainNewtonSchulz<T extends tf.Tensor2D | tf.Tensor3D>(g: T, schedule: NewtonSchulzSchedule, transposed: boolean): T {
  return tf.tidy(() => {
    const oriented = transposed ? swapLastTwo(g) : g;
    // AOL hands over the first iteration's A = XXᵀ, rescaled, with the rescaled X.
    let { x, gram: firstGram }: { x: T; gram?: T } = schedule.normalization === 'aol' ? preconditionAol(oriented, schedule, false) : { x: normalizeFrobenius(oriented, schedule) };
    for (const [a, b, c] of schedule.iterations) {
      const gram = firstGram ?? tf.matMul(x, swapLastTwo(x)); // A = XXᵀ
      firstGram = undefined;
      const poly = tf.add(tf.mul(gram, b), tf.mul(tf.matMul(gram, gram), c)); // B = bA + cA²
      x = tf.add(tf.mul(x, a), tf.matMul(poly, x)) as T; // X ← aX + BX
    }
    return transposed ? swapLastTwo(x) : x;
  });
}

/**
 * Approximately orthogonalizes a matrix, or each matrix of a batch, with Newton–Schulz iterations:
 * returns ≈ U·p(S)·Vᵀ for G = U·S·Vᵀ, where p is the composed quintic of the coefficient schedule
 * (≈ UVᵀ, the polar factor, for convergent schedules; singular values in [0.68, 1.14] for the
 * default `jordan` schedule when the input's normalized singular values are ≥ 1e-2).
 *
 * The input is first divided by its Frobenius norm (an upper bound of the spectral norm, so all
 * singular values land in [0, 1], where the polynomials are designed to work), or AOL-rescaled
 * when the schedule says so (`turboMuon`; see `NewtonSchulzNormalization`). When rows > cols
 * the iteration runs on the transpose, so the Gram matrix XXᵀ is the smaller, min(m, n)² one.
 * Transposes are explicit `tf.transpose` calls rather than matMul flags: on the wasm backend only
 * plain 2-D matMuls reach XNNPACK (a transposed operand falls to a 10–30× slower loop).
 *
 * `options` are resolved on every call (this is the convenience API); a loop should resolve them
 * once with `resolveNewtonSchulz` and call a kernel (`newtonSchulzEach`, `gramOrthogonalizer()`).
 *
 * @param g a float32 matrix `[m, n]` or batch of matrices `[batch, m, n]`
 * @example
 * const o = newtonSchulz(tf.randomNormal([256, 1024]), { coefficients: 'polarExpress8' });
 */
export function newtonSchulz<T extends tf.Tensor2D | tf.Tensor3D>(g: T, options: NewtonSchulzOptions = {}): T {
  checkNewtonSchulzInput(g, 'newtonSchulz');
  const schedule = resolveNewtonSchulz(options);
  checkTfjsPrecision(schedule, 'newtonSchulz');
  return plainNewtonSchulz(g, schedule, (g.shape[g.rank - 2] as number) > (g.shape[g.rank - 1] as number));
}
