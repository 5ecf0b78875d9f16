import * as tf from '@tensorflow/tfjs-core';
import { type CoefficientSchedule, type CoefficientSpec, resolveCoefficients } from './coefficients.js';

/** Options of {@link newtonSchulz}. */
export interface NewtonSchulzOptions {
  /** Preset name, one (a, b, c) triple, or one triple per iteration. Default `'jordan'`. */
  readonly coefficients?: CoefficientSpec;
  /** Number of iterations. Default: 5 for a single triple, the schedule's length for a list. */
  readonly steps?: number;
  /** Added to the (scaled) Frobenius norm before dividing, so a zero input maps to zero. */
  readonly eps?: number;
}

/** Default `eps` of the Frobenius normalization (KellerJordan/Muon, torch.optim.Muon). */
export const DEFAULT_NS_EPS = 1e-7;

/** Swaps the last two axes of a 2-D or 3-D tensor with an explicit transpose (see below why). */
export function swapLastTwo<T extends tf.Tensor2D | tf.Tensor3D>(x: T): T {
  return (x.rank === 2 ? tf.transpose(x) : tf.transpose(x, [0, 2, 1])) as T;
}

/**
 * Checks what every Newton–Schulz kernel takes (a float32 matrix or batch, a valid schedule and
 * eps), naming `caller` and the value at fault, and resolves the schedule.
 */
export function checkNewtonSchulzInput(g: tf.Tensor, options: NewtonSchulzOptions, caller: string): { schedule: CoefficientSchedule; eps: number } {
  if (g.rank !== 2 && g.rank !== 3) {
    throw new Error(`${caller} expects a matrix [m, n] or a batch [b, m, n]; got shape [${g.shape.join(', ')}]`);
  }
  if (g.dtype !== 'float32') {
    throw new Error(`${caller} expects a float32 tensor; got dtype ${g.dtype}`);
  }
  const schedule = resolveCoefficients(options.coefficients, options.steps);
  const eps = options.eps ?? DEFAULT_NS_EPS;
  if (!(eps >= 0) || !Number.isFinite(eps)) {
    throw new Error(`eps must be a finite number ≥ 0; got ${eps}`);
  }
  return { schedule, eps };
}

/**
 * Approximately orthogonalizes a matrix, or each matrix of a batch, with Newton–Schulz iterations:
 * returns ≈ U·p(S)·Vᵀ for G = U·S·Vᵀ, where p is the composed quintic of the coefficient schedule
 * (≈ UVᵀ, the polar factor, for convergent schedules; singular values in [0.68, 1.14] for the
 * default `jordan` schedule when the input's normalized singular values are ≥ 1e-2).
 *
 * The input is first divided by its Frobenius norm (an upper bound of the spectral norm, so all
 * singular values land in [0, 1], where the polynomials are designed to work). When rows > cols
 * the iteration runs on the transpose, so the Gram matrix XXᵀ is the smaller, min(m, n)² one.
 * Transposes are explicit `tf.transpose` calls rather than matMul flags: on the wasm backend only
 * plain 2-D matMuls reach XNNPACK (a transposed operand falls to a 10–30× slower loop).
 *
 * @param g a float32 matrix `[m, n]` or batch of matrices `[batch, m, n]`
 * @example
 * const o = newtonSchulz(tf.randomNormal([256, 1024]), { coefficients: 'polarExpress8' });
 */
export function newtonSchulz<T extends tf.Tensor2D | tf.Tensor3D>(g: T, options: NewtonSchulzOptions = {}): T {
  const { schedule, eps } = checkNewtonSchulzInput(g, options, 'newtonSchulz');
  const rows = g.shape[g.rank - 2] as number;
  const cols = g.shape[g.rank - 1] as number;
  const transposed = rows > cols;
  return tf.tidy(() => {
    let x: T = transposed ? swapLastTwo(g) : g;
    const norm = tf.sqrt(tf.sum(tf.square(x), [-2, -1], true));
    x = tf.div(x, tf.add(tf.mul(norm, schedule.normalizationScale), eps));
    for (const [a, b, c] of schedule.iterations) {
      const gram = tf.matMul(x, swapLastTwo(x)); // A = XXᵀ
      const poly = tf.add(tf.mul(gram, b), tf.mul(tf.matMul(gram, gram), c)); // B = bA + cA²
      x = tf.add(tf.mul(x, a), tf.matMul(poly, x)) as T; // X ← aX + BX
    }
    return transposed ? swapLastTwo(x) : x;
  });
}
