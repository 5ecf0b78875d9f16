import type { CoefficientSchedule, Quintic } from './coefficients.js';

/**
 * Polar Express (Amsel, Persson, Musco, Gower 2025, arXiv 2505.16932): the composition of odd
 * quintics that is worst-case optimal for mapping every σ ∈ [ℓ, 1] to 1, built greedily. The paper
 * proves that the greedy choice is optimal for the whole composition: at each step take the odd
 * quintic p that minimizes max|p(σ) − 1| over the current interval [l, u] (a Remez solve: p − 1
 * equioscillates at l, two interior critical points and u), then map the interval forward,
 * l ← p(l), u ← 2 − l, since p sends [l, u] onto [1 − E, 1 + E].
 *
 * Two practical changes from the paper's code are options here:
 * - the cushion: while l < cushion·u the quintic is fitted on [cushion·u, u] instead and rescaled
 *   so that p(l) and p(u) sit symmetrically about 1; near σ = 0 the optimal quintic's slope
 *   becomes so steep that round-off in low precision hurts more than the gain (paper §4.4);
 * - the safety factor s: all polynomials but the last are evaluated at x/s (a ÷ s, b ÷ s³, c ÷ s⁵)
 *   and the input is normalized by s·‖X‖_F, so that σ slightly above the design interval (from
 *   round-off) lands inside it rather than where the quintic grows fast.
 */
export interface PolarExpressOptions {
  /** ℓ: the smallest normalized singular value to orthogonalize, in (0, 1]. */
  readonly lowerBound: number;
  /** Number of quintics in the composition, an integer in [1, 100]. */
  readonly steps: number;
  /** The safety factor s ≥ 1 (default 1.01, the paper's). */
  readonly safety?: number;
  /** The cushion in [0, 1) (default 0.02407327424182761, the paper's code; 0 disables it). */
  readonly cushion?: number;
  /**
   * Where the safety factor enters. `'afterwards'` (default; the paper's reference code and the
   * `polarExpress8` preset): the composition is designed without it and the factor is applied to
   * the finished polynomials. `'during'` (modded-nanogpt and microsoft/dion, the `polarExpress5`
   * preset): each polynomial is shrunk before the interval is mapped forward, so the next one is
   * designed for where the shrunk polynomial actually sends ℓ.
   */
  readonly safetyMode?: 'afterwards' | 'during';
}

/** A generated schedule: what `newtonSchulz` runs, plus the construction's own error bound. */
export interface PolarExpressSchedule extends CoefficientSchedule {
  /**
   * 1 − l_T, where l_T is the image of ℓ through the designed chain: the construction's guarantee
   * for max|p(σ) − 1| over σ ∈ [ℓ, 1]. Exact for `safety` 1; a safety factor above 1 moves the
   * real worst case by about as much as it shrinks σ (`composedPolynomial` measures it).
   */
  readonly designError: number;
}

/** The paper code's cushion, 0.02407327424182761. */
export const POLAR_EXPRESS_CUSHION = 0.02407327424182761;
/** The paper's safety factor, 1.01. */
export const POLAR_EXPRESS_SAFETY = 1.01;

/**
 * Generates the Polar Express schedule for normalized singular values in [lowerBound, 1] with
 * `steps` quintics (see {@link PolarExpressOptions} for the construction). With the defaults,
 * `{ lowerBound: 1e-3, steps: 8 }` reproduces the `polarExpress8` preset; modded-nanogpt's
 * `polarExpress5` is `{ lowerBound: 1e-3, steps: 5, safety: 1.02, cushion: 0.02, safetyMode: 'during' }`.
 *
 * @example
 * ```ts
 * import { composedPolynomial, foldNormalization, newtonSchulz, polarExpressSchedule } from 'muon-tfjs';
 * // A 4-step schedule for a layer whose 90% quantile of normalized σ is 0.02:
 * const schedule = polarExpressSchedule({ lowerBound: 0.02, steps: 4 });
 * composedPolynomial(schedule, 0.02); // what 4 steps make of σ = 0.02
 * newtonSchulz(g, { coefficients: foldNormalization(schedule) });
 * ```
 */
export function polarExpressSchedule(options: PolarExpressOptions): PolarExpressSchedule {
  const { lowerBound, steps, safety = POLAR_EXPRESS_SAFETY, cushion = POLAR_EXPRESS_CUSHION, safetyMode = 'afterwards' } = options;
  if (!(lowerBound > 0 && lowerBound <= 1)) {
    throw new Error(`polarExpressSchedule: lowerBound must be in (0, 1], got ${lowerBound}`);
  }
  if (!Number.isInteger(steps) || steps < 1 || steps > 100) {
    throw new Error(`polarExpressSchedule: steps must be an integer in [1, 100], got ${steps}`);
  }
  if (!(safety >= 1 && Number.isFinite(safety))) {
    throw new Error(`polarExpressSchedule: safety must be a finite number ≥ 1, got ${safety}`);
  }
  if (!(cushion >= 0 && cushion < 1)) {
    throw new Error(`polarExpressSchedule: cushion must be in [0, 1), got ${cushion}`);
  }
  if (safetyMode !== 'afterwards' && safetyMode !== 'during') {
    throw new Error(`polarExpressSchedule: safetyMode must be 'afterwards' or 'during', got ${JSON.stringify(safetyMode)}`);
  }
  const shrink = ([a, b, c]: Quintic): Quintic => [a / safety, b / safety ** 3, c / safety ** 5];
  let lower = lowerBound;
  let upper = 1;
  const designed: Quintic[] = [];
  for (let step = 0; step < steps; step++) {
    let p = optimalQuintic(Math.max(lower, cushion * upper), upper);
    if (cushion * upper > lower) {
      // Fitted on the cushioned interval: rescale so that 1 − p(l) = p(u) − 1 on the real one.
      const k = 2 / (evaluate(p, lower) + evaluate(p, upper));
      p = [p[0] * k, p[1] * k, p[2] * k];
    }
    if (safetyMode === 'during' && step < steps - 1) p = shrink(p);
    designed.push(p);
    lower = evaluate(p, lower);
    upper = 2 - lower;
  }
  const iterations = safetyMode === 'afterwards' ? designed.map((p, i) => (i < steps - 1 ? shrink(p) : p)) : designed;
  return { iterations, normalizationScale: safety, normalization: 'frobenius', designError: 1 - lower };
}

function evaluate([a, b, c]: Quintic, x: number): number {
  const x2 = x * x;
  return x * (a + x2 * (b + c * x2));
}

/**
 * The odd quintic minimizing max|p(x) − 1| over [l, u], by the Remez exchange: solve
 * p(x_i) + (−1)^i·E = 1 at the alternation points l < q < r < u, move q and r to the critical
 * points of p (p′(x) = a + 3bx² + 5cx⁴ = 0, a quadratic in x²), repeat until E settles.
 */
function optimalQuintic(l: number, u: number): Quintic {
  if (l / u >= 1 - 5e-6) {
    // On so narrow an interval the equioscillating quintic is, to double precision, the one with
    // p(u) = 1, p′(u) = p″(u) = 0: the degree-5 Newton–Schulz map (15x − 10x³ + 3x⁵)/8 scaled to u.
    return [15 / 8 / u, -10 / 8 / u ** 3, 3 / 8 / u ** 5];
  }
  let q = (3 * l + u) / 4;
  let r = (l + 3 * u) / 4;
  let error = Infinity;
  for (let iteration = 0; iteration < 100; iteration++) {
    const [a, b, c, e] = solve4([
      l, l ** 3, l ** 5, 1,
      q, q ** 3, q ** 5, -1,
      r, r ** 3, r ** 5, 1,
      u, u ** 3, u ** 5, -1,
    ], [1, 1, 1, 1]);
    const root = Math.sqrt(Math.max(9 * b * b - 20 * a * c, 0));
    q = Math.sqrt((-3 * b - root) / (10 * c));
    r = Math.sqrt((-3 * b + root) / (10 * c));
    if (Math.abs(e - error) <= 1e-15) return [a, b, c];
    error = e;
  }
  throw new Error(`polarExpressSchedule: the Remez iteration on [${l}, ${u}] did not converge`);
}

/** Solves the 4×4 system A·x = y (A row-major, 16 entries) by Gaussian elimination with partial pivoting. */
function solve4(a: readonly number[], y: readonly number[]): [number, number, number, number] {
  const n = 4;
  const w = n + 1; // the augmented matrix [A | y], row-major
  const m = new Float64Array(n * w);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) m[i * w + j] = a[i * n + j] as number;
    m[i * w + n] = y[i] as number;
  }
  const at = (i: number, j: number): number => m[i * w + j] as number;
  for (let k = 0; k < n; k++) {
    let pivot = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(at(i, k)) > Math.abs(at(pivot, k))) pivot = i;
    for (let j = 0; j < w; j++) {
      const t = at(k, j);
      m[k * w + j] = at(pivot, j);
      m[pivot * w + j] = t;
    }
    for (let i = k + 1; i < n; i++) {
      const f = at(i, k) / at(k, k);
      for (let j = k; j < w; j++) m[i * w + j] = at(i, j) - f * at(k, j);
    }
  }
  const x = [0, 0, 0, 0] as [number, number, number, number];
  for (let i = n - 1; i >= 0; i--) {
    let s = at(i, n);
    for (let j = i + 1; j < n; j++) s -= at(i, j) * (x[j] as number);
    x[i] = s / at(i, i);
  }
  return x;
}
