import { describe, expect, it } from 'vitest';
import { logTicks } from './logTicks.js';

describe('logTicks labels the range itself, not only the powers of ten', () => {
  it.each([
    // two decades: 1-2-5 steps give enough labels
    [0.02, 2.3, [0.02, 0.05, 0.1, 0.2, 0.5, 1, 2]],
    // one decade, the report's typical loss range: finer mantissas
    [0.22, 2.4, [0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1, 1.5, 2]],
    // curves that differ only between 0.31 and 0.36: round values across that span
    [0.31, 0.36, [0.31, 0.32, 0.33, 0.34, 0.35, 0.36]],
  ])('[%f, %f]', (lo, hi, expected) => {
    expect(logTicks(lo, hi)).toEqual(expected);
  });

  it('every tick lies inside the range and at least five are labelled', () => {
    for (const [lo, hi] of [[1e-3, 1e-2], [0.9, 1.1], [1.234, 5.678], [0.05, 40]] as const) {
      const ticks = logTicks(lo, hi);
      expect(ticks.length).toBeGreaterThanOrEqual(5);
      for (const t of ticks) expect(t >= lo && t <= hi, `${t} in [${lo}, ${hi}]`).toBe(true);
    }
  });

  it('refuses a range that is empty or not positive', () => {
    expect(() => logTicks(0, 1)).toThrow(/need 0 < lo < hi, got \[0, 1\]/);
    expect(() => logTicks(2, 1)).toThrow(/need 0 < lo < hi/);
  });
});
