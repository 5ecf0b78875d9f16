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

/** Trailing moving average with window w (shorter at the start). */
export function movingAverage(values: readonly number[], w: number): number[] {
  const out: number[] = [];
  let sum = 0;
  values.forEach((v, i) => {
    sum += v;
    if (i >= w) sum -= values[i - w] as number;
    out.push(sum / Math.min(i + 1, w));
  });
  return out;
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
