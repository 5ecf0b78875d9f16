/** Mean and spread of one measured quantity over seeds. */
export interface Stat {
  mean: number;
  /** Sample standard deviation (0 for a single seed). */
  std: number;
  n: number;
}

/** Mean ± sample standard deviation of finite values (NaN mean when there are none). */
export function stat(values: readonly number[]): Stat {
  const v = values.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), n };
}

/**
 * Trailing moving average with window w (shorter at the start). Each window is summed afresh, in
 * order, as {@link finalLoss} sums the last one: a running sum's rounding would leave the last
 * smoothed value a few ulps off the final loss, and a run could miss a target equal to its own
 * final loss.
 */
export function movingAverage(values: readonly number[], w: number): number[] {
  return values.map((_, i) => {
    const window = values.slice(Math.max(0, i - w + 1), i + 1);
    return window.reduce((a, b) => a + b, 0) / window.length;
  });
}

/** The smoothing window for per-step losses: a tenth of the run, between 1 and 20 steps. */
export function smoothingWindow(steps: number): number {
  return Math.max(1, Math.min(20, Math.floor(steps / 10)));
}

/** Final training loss: the mean of the last smoothing window of per-step losses. */
export function finalLoss(losses: readonly number[]): number {
  if (losses.length === 0) return Number.NaN;
  const w = smoothingWindow(losses.length);
  const tail = losses.slice(-w);
  return tail.reduce((a, b) => a + b, 0) / tail.length;
}

/** First step (1-based) whose smoothed loss is ≤ target, or null if it never gets there. */
export function stepsToTarget(losses: readonly number[], target: number): number | null {
  const smooth = movingAverage(losses, smoothingWindow(losses.length));
  const i = smooth.findIndex((v) => v <= target);
  return i < 0 ? null : i + 1;
}

/** Student's two-sample t-test with pooled variance (the result {@link twoSampleTTest} gives). */
export interface TTest {
  /** (mean a − mean b) / its standard error. */
  t: number;
  /** Degrees of freedom: n_a + n_b − 2. */
  df: number;
  /** Two-sided p-value: the chance of a |t| this large when both samples share one mean. */
  p: number;
}

/**
 * P(|T| ≤ t) for Student's t with an integer `df` ≥ 1, in closed form (Abramowitz & Stegun 26.7.3
 * and 26.7.4): with θ = atan(t/√ν), for odd ν 2/π·(θ + sin θ·(cos θ + ⅔cos³θ + … + (2·4…(ν−3))/(1·3…(ν−2))·cos^(ν−2)θ)),
 * for even ν sin θ·(1 + ½cos²θ + (1·3)/(2·4)cos⁴θ + … + (1·3…(ν−3))/(2·4…(ν−2))·cos^(ν−2)θ).
 */
export function studentTCentralProbability(t: number, df: number): number {
  if (!(Number.isInteger(df) && df >= 1)) throw new Error(`studentTCentralProbability: df must be an integer ≥ 1, got ${df}`);
  if (Number.isNaN(t)) throw new Error('studentTCentralProbability: t is NaN');
  const theta = Math.atan(Math.abs(t) / Math.sqrt(df));
  const c2 = Math.cos(theta) ** 2;
  const s = Math.sin(theta);
  if (df % 2 === 0) {
    let term = 1;
    let sum = 1;
    for (let k = 2; k <= df - 2; k += 2) {
      term *= ((k - 1) / k) * c2;
      sum += term;
    }
    return s * sum;
  }
  if (df === 1) return (2 / Math.PI) * theta;
  let term = Math.cos(theta);
  let sum = term;
  for (let k = 3; k <= df - 2; k += 2) {
    term *= ((k - 1) / k) * c2;
    sum += term;
  }
  return (2 / Math.PI) * (theta + s * sum);
}

/**
 * Whether two sets of seeds differ by more than seed noise: Student's two-sample t-test with
 * pooled variance on their means and sample standard deviations (each needs n ≥ 2). Two equal
 * constant samples give t = 0, p = 1; two different constant samples t = ±∞, p = 0.
 * @example
 * twoSampleTTest({ mean: 117, std: 1, n: 3 }, { mean: 181, std: 17, n: 3 }) // → { t: -6.5, df: 4, p: 0.0029 }
 */
export function twoSampleTTest(a: Stat, b: Stat): TTest {
  if (!(a.n >= 2 && b.n >= 2)) throw new Error(`twoSampleTTest: each sample needs at least 2 values for a spread, got n = ${a.n} and ${b.n}`);
  if (![a.mean, a.std, b.mean, b.std].every(Number.isFinite)) throw new Error(`twoSampleTTest: means and spreads must be finite, got ${a.mean} ± ${a.std} and ${b.mean} ± ${b.std}`);
  const df = a.n + b.n - 2;
  const pooledVariance = ((a.n - 1) * a.std ** 2 + (b.n - 1) * b.std ** 2) / df;
  const standardError = Math.sqrt(pooledVariance * (1 / a.n + 1 / b.n));
  const difference = a.mean - b.mean;
  if (standardError === 0) return difference === 0 ? { t: 0, df, p: 1 } : { t: Math.sign(difference) * Number.POSITIVE_INFINITY, df, p: 0 };
  const t = difference / standardError;
  return { t, df, p: 1 - studentTCentralProbability(t, df) };
}
