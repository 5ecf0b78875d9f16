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
