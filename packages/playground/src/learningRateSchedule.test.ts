import { describe, expect, it } from 'vitest';
import { scheduleFactor } from './learningRateSchedule.js';

describe('scheduleFactor', () => {
  it('gives the hand-derived multipliers', () => {
    expect(scheduleFactor('constant', 70, 100)).toBe(1);
    expect(scheduleFactor('linear', 0, 100)).toBe(1);
    expect(scheduleFactor('linear', 75, 100)).toBeCloseTo(0.25, 15);
    expect(scheduleFactor('cosine', 50, 100)).toBeCloseTo(0.5, 15);
    // ½(1 + cos(π/4)) = ½ + √2/4.
    expect(scheduleFactor('cosine', 25, 100)).toBeCloseTo(0.5 + Math.SQRT2 / 4, 15);
  });

  it('stays positive on every step of a run', () => {
    for (const s of ['linear', 'cosine'] as const) {
      for (let step = 0; step < 10; step++) expect(scheduleFactor(s, step, 10)).toBeGreaterThan(0);
    }
  });
});
