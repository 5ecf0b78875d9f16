import * as tf from '@tensorflow/tfjs-core';
import { type CoefficientSchedule, composedPolynomial } from './coefficients.js';
import { type NewtonSchulzOptions, checkNewtonSchulzInput, newtonSchulz, swapLastTwo } from './newtonSchulz.js';
import type { Orthogonalizer } from './orthogonalizer.js';

/**
 * Which algorithm computes the Newton–Schulz map: `'plain'` iterates on X (as {@link newtonSchulz}),
 * `'gram'` iterates on the Gram matrix R = XXᵀ, `'auto'` picks whichever costs fewer flops for the
 * shape (Gram wins once the long side is about twice the short one).
 */
export type NewtonSchulzAlgorithm = 'auto' | 'plain' | 'gram';

/** Options of {@link gramNewtonSchulz}: those of `newtonSchulz` plus the algorithm's knobs. */
export interface GramNewtonSchulzOptions extends NewtonSchulzOptions {
  /** Default `'auto'`. */
  readonly algorithm?: NewtonSchulzAlgorithm;
  /**
   * 1-based iterations after which the Gram iteration restarts from X (X ← QX, R ← XXᵀ, Q ← I).
   * Default {@link defaultGramRestarts}: after every third iteration.
   */
  readonly restartAfter?: readonly number[];
}

/**
 * The default restart points of the Gram iteration: after iterations 3, 6, 9, … (never after the
 * last), so no run of Gram-form iterations is longer than three.
 *
 * Why: between restarts R is updated as ZRZ instead of being recomputed from X, so round-off in R
 * is no longer corrected by the iteration itself, and the final QX inherits it. Dao-AILab's
 * gram-newton-schulz (fp16) restarts after iteration 2. In fp32 we measured, for the 5-step presets
 * on 64×64 and 256×1024 matrices (relative Frobenius error against the float64 map U·p(S)·Vᵀ, native
 * kernel; the plain iteration's is 1–4e-6): restart after 2 → up to 1.2e-4, after 3 → up to
 * 1.6e-5, at the same flop count (both are 47m³ with syrk for n = 4m, against 65m³ plain).
 * Without any restart (22% fewer flops on wasm for 768×3072) the error on ill-conditioned inputs
 * (condition number 1e3 or 1e6, low rank; 128×512, addon) is 6.5e-5 to 5e-2 across the presets,
 * 4.5–320× the plain iteration's; with restarts after 3 it stays within 2× of it
 * (`npm run bench:gram-restarts`). The orthogonalizer contract test pins this on 64×256.
 */
export function defaultGramRestarts(steps: number): number[] {
  const restarts: number[] = [];
  for (let t = 3; t < steps; t += 3) restarts.push(t);
  return restarts;
}

/**
 * Flops (multiply-add = 2) of `steps` plain iterations on an m×n matrix, m ≤ n, with general matmuls:
 * XXᵀ (2m²n), A² (2m³), BX (2m²n) per iteration. With `symmetric`, the symmetric products XXᵀ and
 * A² = AAᵀ cost half (BLAS syrk computes one triangle), as in the native kernel.
 */
export function plainNewtonSchulzFlops(m: number, n: number, steps: number, symmetric = false): number {
  const half = symmetric ? 0.5 : 1;
  return steps * (2 * half * m * m * n + 2 * half * m * m * m + 2 * m * m * n);
}

/**
 * Flops of the Gram iteration with general matmuls: R = XXᵀ and the final QX (2m²n each), per
 * iteration R² (2m³), QZ (2m³, not on the first iteration or after a restart) and R ← Z(RZ) (4m³,
 * not on the last iteration), and per restart X ← QX and R ← XXᵀ (4m²n). With `symmetric`, XXᵀ and
 * R² = RRᵀ cost half (syrk), as in the native kernel.
 */
export function gramNewtonSchulzFlops(m: number, n: number, steps: number, restartAfter: readonly number[] = defaultGramRestarts(steps), symmetric = false): number {
  const half = symmetric ? 0.5 : 1;
  let flops = 2 * half * m * m * n + 2 * m * m * n;
  let qIdentity = true;
  for (let t = 1; t <= steps; t++) {
    flops += 2 * half * m * m * m + (qIdentity ? 0 : 2 * m * m * m);
    qIdentity = false;
    if (t === steps) break;
    if (restartAfter.includes(t)) {
      flops += 2 * m * m * n + 2 * half * m * m * n;
      qIdentity = true;
    } else {
      flops += 4 * m * m * m;
    }
  }
  return flops;
}

/**
 * The schedule's own worst-case error: max |p(σ) − 1| of its composed polynomial over normalized
 * singular values σ ∈ [1e-2, 1] (what the presets are designed for), on a 1000-point log grid, in
 * float64. 0.318 for `jordan`, 0.032 for `cesista5`, 0.0044 for `you6`, 0.14 for `polarExpress5`,
 * below 1e-13 for the convergent `polarExpress8`.
 */
export function scheduleDeviation(schedule: CoefficientSchedule): number {
  let worst = 0;
  for (let i = 0; i < 1000; i++) {
    const sigma = 10 ** (-2 + (2 * i) / 999);
    worst = Math.max(worst, Math.abs(composedPolynomial(schedule, sigma) - 1));
  }
  return worst;
}

/**
 * Under `'auto'`, schedules that deviate less than this from the polar factor run the plain
 * iteration. The Gram iteration's extra round-off measures ‖XXᵀ − I‖_F/√k ≈ 1e-6 (768×3072,
 * polarExpress8: 8.7e-7 against 3.0e-7 for the plain iteration through the same BLAS): invisible
 * next to a schedule's own error of ≥ 1e-4 (jordan: 0.3), but the whole error of a convergent one.
 * So 'auto' never returns a less orthogonal answer than the plain iteration beyond 1% of the
 * schedule's own error.
 */
export const GRAM_MIN_SCHEDULE_DEVIATION = 1e-4;

/**
 * Whether the Gram iteration is the one to run for an m×n matrix (m ≤ n) under `algorithm`:
 * `'auto'` takes it when it costs fewer flops and the schedule's own error dwarfs its round-off.
 */
export function usesGramIteration(m: number, n: number, schedule: CoefficientSchedule, algorithm: NewtonSchulzAlgorithm, restartAfter: readonly number[]): boolean {
  if (algorithm !== 'auto') return algorithm === 'gram';
  const steps = schedule.iterations.length;
  return gramNewtonSchulzFlops(m, n, steps, restartAfter) < plainNewtonSchulzFlops(m, n, steps) && scheduleDeviation(schedule) >= GRAM_MIN_SCHEDULE_DEVIATION;
}

function checkOptions(g: tf.Tensor, options: GramNewtonSchulzOptions): { schedule: CoefficientSchedule; eps: number; restartAfter: readonly number[]; algorithm: NewtonSchulzAlgorithm } {
  const { schedule, eps } = checkNewtonSchulzInput(g, options, 'gramNewtonSchulz');
  const restartAfter = options.restartAfter ?? defaultGramRestarts(schedule.iterations.length);
  if (!restartAfter.every((t) => Number.isInteger(t) && t >= 1)) {
    throw new Error(`restartAfter must list iteration numbers ≥ 1; got ${JSON.stringify(restartAfter)}`);
  }
  const algorithm = options.algorithm ?? 'auto';
  if (algorithm !== 'auto' && algorithm !== 'plain' && algorithm !== 'gram') {
    throw new Error(`algorithm must be 'auto', 'plain' or 'gram'; got ${JSON.stringify(algorithm)}`);
  }
  return { schedule, eps, restartAfter, algorithm };
}

/**
 * Newton–Schulz orthogonalization computing the same map as {@link newtonSchulz} (same
 * coefficients, same normalization) with fewer flops on rectangular matrices.
 *
 * Gram Newton–Schulz (Zhang, Amsel, Chen, Dao 2026; Dao-AILab/gram-newton-schulz): every iterate is
 * X_t = Q_t X with Q_t a polynomial in R = XXᵀ, so the iteration can run on m×m matrices only:
 * Z = aI + bR + cR², Q ← QZ, R ← ZRZ (Z and R commute), and X is touched twice: R = XXᵀ at the start
 * and QX at the end, plus once per restart. For an m×n matrix with n = 4m and 5 iterations that is
 * 60m³ flops instead of 90m³. Square matrices are cheaper with the plain iteration; `'auto'` picks.
 *
 * Tall matrices (rows > cols) iterate on XᵀX and finish with XQ, so no transpose of the output is
 * needed. All matmuls are plain (no transpose flags): on the wasm backend only those reach XNNPACK.
 *
 * @param g a float32 matrix `[m, n]` or a batch `[batch, m, n]`
 * @example
 * const o = gramNewtonSchulz(tf.randomNormal([768, 3072]), { coefficients: 'jordan' });
 */
export function gramNewtonSchulz<T extends tf.Tensor2D | tf.Tensor3D>(g: T, options: GramNewtonSchulzOptions = {}): T {
  const { schedule, eps, restartAfter, algorithm } = checkOptions(g, options);
  const rows = g.shape[g.rank - 2] as number;
  const cols = g.shape[g.rank - 1] as number;
  const tall = rows > cols;
  const m = Math.min(rows, cols);
  const steps = schedule.iterations.length;
  if (!usesGramIteration(m, Math.max(rows, cols), schedule, algorithm, restartAfter)) {
    return newtonSchulz(g, options);
  }
  return tf.tidy(() => {
    // XXᵀ for wide X, XᵀX for tall X: always the min(rows, cols)² Gram matrix.
    const gramOf = (x: T): T => (tall ? tf.matMul(swapLastTwo(x), x) : tf.matMul(x, swapLastTwo(x))) as T;
    // QX for wide X, XQ for tall X (Q symmetric, so XQ = (QXᵀ)ᵀ).
    const apply = (q: T, x: T): T => (tall ? tf.matMul(x, q) : tf.matMul(q, x)) as T;
    const norm = tf.sqrt(tf.sum(tf.square(g), [-2, -1], true));
    let x = tf.div(g, tf.add(tf.mul(norm, schedule.normalizationScale), eps)) as T;
    const identity = tf.eye(m);
    let r = gramOf(x);
    let q: T | undefined;
    for (let t = 1; t <= steps; t++) {
      const [a, b, c] = schedule.iterations[t - 1] as readonly [number, number, number];
      const z = tf.add(tf.add(tf.mul(r, b), tf.mul(tf.matMul(r, r), c)), tf.mul(identity, a)) as T;
      q = q === undefined ? z : (tf.matMul(q, z) as T);
      if (t === steps) break;
      if (restartAfter.includes(t)) {
        x = apply(q, x);
        r = gramOf(x);
        q = undefined;
      } else {
        r = tf.matMul(z, tf.matMul(r, z)) as T;
      }
    }
    return q === undefined ? x : apply(q, x);
  });
}

/** Options of {@link gramOrthogonalizer}. */
export interface GramOrthogonalizerOptions {
  /** Default `'auto'`. */
  readonly algorithm?: NewtonSchulzAlgorithm;
  /** Default {@link defaultGramRestarts}. */
  readonly restartAfter?: readonly number[];
  /**
   * Stack same-shape matrices into one batched (3-D) matmul chain. Default: on every backend except
   * `wasm`, where batched matmuls fall off XNNPACK onto a 10–30× slower loop.
   */
  readonly batchSameShapes?: boolean;
}

/**
 * An {@link Orthogonalizer} over TF.js (any backend, browser included): Gram or plain Newton–Schulz
 * per matrix, same-shape matrices batched together where the backend's batched matmul is fast.
 */
export function gramOrthogonalizer(settings: GramOrthogonalizerOptions = {}): Orthogonalizer {
  return (matrices, options) => {
    const full: GramNewtonSchulzOptions = {
      ...options,
      ...(settings.algorithm === undefined ? {} : { algorithm: settings.algorithm }),
      ...(settings.restartAfter === undefined ? {} : { restartAfter: settings.restartAfter }),
    };
    const batch = settings.batchSameShapes ?? tf.getBackend() !== 'wasm';
    if (!batch) return matrices.map((g) => gramNewtonSchulz(g, full));
    const groups = new Map<string, number[]>();
    matrices.forEach((g, i) => {
      const key = g.shape.join('x');
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [i]);
      else group.push(i);
    });
    const outputs: tf.Tensor2D[] = new Array<tf.Tensor2D>(matrices.length);
    for (const indices of groups.values()) {
      if (indices.length === 1) {
        const i = indices[0] as number;
        outputs[i] = gramNewtonSchulz(matrices[i] as tf.Tensor2D, full);
        continue;
      }
      const results = tf.tidy(() => tf.unstack(gramNewtonSchulz(tf.stack(indices.map((i) => matrices[i] as tf.Tensor2D)) as tf.Tensor3D, full)) as tf.Tensor2D[]);
      indices.forEach((i, k) => {
        outputs[i] = results[k] as tf.Tensor2D;
      });
    }
    return outputs;
  };
}
