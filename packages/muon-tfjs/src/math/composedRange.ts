import { type CoefficientSchedule, composedPolynomial } from './coefficients.js';

/** The smallest and largest value of a composed polynomial over an interval of σ. */
export interface ComposedRange {
  readonly min: number;
  readonly max: number;
}

/**
 * min and max of σ ↦ composedPolynomial(schedule, σ) over σ ∈ [lower, upper], in float64: what a
 * Newton–Schulz schedule makes of every normalized singular value in that interval.
 *
 * A composition of k quintics oscillates, packed towards small σ, so the interval is sampled on a
 * geometric and a linear grid (`points` each) and every sampled local extremum that could be the
 * answer is refined by golden-section search between its two neighbours. An extremum narrower
 * than the grid spacing could be missed; the schedules of this library have a few oscillations
 * per decade of σ, against about 4096/decades grid points per decade by default.
 *
 * @example
 * ```ts
 * composedRange(resolveCoefficients('jordan'), 1e-2); // { min: 0.682…, max: 1.134… }
 * ```
 */
export function composedRange(schedule: CoefficientSchedule, lower: number, upper = 1, points = 4096): ComposedRange {
  if (!(lower > 0 && lower <= upper && Number.isFinite(upper))) {
    throw new Error(`composedRange: need 0 < lower ≤ upper < ∞, got lower = ${lower}, upper = ${upper}`);
  }
  if (!Number.isInteger(points) || points < 2) {
    throw new Error(`composedRange: points must be an integer ≥ 2, got ${points}`);
  }
  const grid = mergedGrid(lower, upper, points);
  const f = (sigma: number): number => composedPolynomial(schedule, sigma);
  const values = grid.map(f);
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  // Refine only extrema that can matter: within 1e-2 of the sampled extreme (a sampled value is off
  // by at most its bracket's depth, far less at this grid density), and deeper than round-off
  // (a converged schedule's plateau at 1 ± 1e-15 has thousands of meaningless local extrema).
  const sampledMin = min;
  const sampledMax = max;
  for (let i = 1; i < grid.length - 1; i++) {
    const [left, mid, right] = [values[i - 1] as number, values[i] as number, values[i + 1] as number];
    const [a, b] = [grid[i - 1] as number, grid[i + 1] as number];
    if (mid < left && mid <= right && mid - sampledMin < 1e-2 && Math.max(left, right) - mid > 1e-12) {
      min = Math.min(min, goldenSection(f, a, b));
    }
    if (mid > left && mid >= right && sampledMax - mid < 1e-2 && mid - Math.min(left, right) > 1e-12) {
      max = Math.max(max, -goldenSection((x) => -f(x), a, b));
    }
  }
  return { min, max };
}

/** A geometric and a linear grid of `points` each on [lower, upper], merged in ascending order. */
function mergedGrid(lower: number, upper: number, points: number): Float64Array {
  const grid = new Float64Array(2 * points);
  let g = 0; // next geometric point
  let l = 0; // next linear point
  const geometric = (i: number): number => lower * (upper / lower) ** (i / (points - 1));
  const linear = (i: number): number => lower + ((upper - lower) * i) / (points - 1);
  for (let k = 0; k < grid.length; k++) {
    if (l >= points || (g < points && geometric(g) <= linear(l))) grid[k] = geometric(g++);
    else grid[k] = linear(l++);
  }
  return grid;
}

/** The minimum of a unimodal f on [a, b] by golden-section search (40 steps: the bracket shrinks 4e-9-fold, so the value is off by ~1e-17·f″·(b − a)²). */
function goldenSection(f: (x: number) => number, a: number, b: number): number {
  const ratio = (Math.sqrt(5) - 1) / 2;
  let x1 = b - ratio * (b - a);
  let x2 = a + ratio * (b - a);
  let f1 = f(x1);
  let f2 = f(x2);
  for (let i = 0; i < 40; i++) {
    if (f1 <= f2) {
      b = x2;
      x2 = x1;
      f2 = f1;
      x1 = b - ratio * (b - a);
      f1 = f(x1);
    } else {
      a = x1;
      x1 = x2;
      f1 = f2;
      x2 = a + ratio * (b - a);
      f2 = f(x2);
    }
  }
  return Math.min(f1, f2);
}
