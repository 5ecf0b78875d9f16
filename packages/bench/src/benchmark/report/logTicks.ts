/**
 * Tick values for a logarithmic axis over [lo, hi] that label the range itself, not only the
 * powers of ten: a log axis over [0.15, 0.6] labelled at 0.1 and 1 alone (what the first report
 * did) says nothing about where the curves are. Mantissa sets get finer until at least
 * `minimum` ticks fall in the range; a range too narrow for any set falls back to evenly spaced
 * round values.
 */
export function logTicks(lo: number, hi: number, minimum = 5): number[] {
  if (!(lo > 0 && hi > lo)) throw new Error(`logTicks: need 0 < lo < hi, got [${lo}, ${hi}]`);
  const mantissaSets = [[1], [1, 2, 5], [1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8], [1, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9]];
  for (const mantissas of mantissaSets) {
    const ticks: number[] = [];
    for (let exponent = Math.floor(Math.log10(lo)); exponent <= Math.ceil(Math.log10(hi)); exponent++) {
      for (const m of mantissas) {
        const t = Number((m * 10 ** exponent).toPrecision(6));
        if (t >= lo && t <= hi) ticks.push(t);
      }
    }
    if (ticks.length >= minimum) return ticks;
  }
  return linearTicks(lo, hi, minimum);
}

/** About `count` round values (1, 2 or 5 × 10ᵏ apart) inside [lo, hi]. */
function linearTicks(lo: number, hi: number, count: number): number[] {
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi * (1 + 1e-12); t += step) ticks.push(Number(t.toPrecision(6)));
  return ticks;
}
