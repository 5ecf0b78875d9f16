import { describe, expect, it } from 'vitest';
import { composedPolynomial, resolveCoefficients } from './coefficients.js';
import { composedRange } from './composedRange.js';

describe('composedRange', () => {
  it('one quintic: the analytic extremes at the critical points x² = (−3b ± √(9b² − 20ac))/(10c)', () => {
    // p(x) = ax + bx³ + cx⁵, p′(x) = a + 3bx² + 5cx⁴: the interior extremes are at those x (when in
    // the interval), else at the ends.
    const [a, b, c] = [3.4445, -4.775, 2.0315];
    const schedule = resolveCoefficients('jordan', 1);
    const root = Math.sqrt(9 * b * b - 20 * a * c);
    const critical = [(-3 * b - root) / (10 * c), (-3 * b + root) / (10 * c)].map(Math.sqrt);
    const p = (x: number): number => a * x + b * x ** 3 + c * x ** 5;
    for (const lower of [0.05, 0.3, 0.7]) {
      const candidates = [lower, 1, ...critical.filter((x) => x >= lower && x <= 1)].map(p);
      const { min, max } = composedRange(schedule, lower);
      expect(min).toBeCloseTo(Math.min(...candidates), 12);
      expect(max).toBeCloseTo(Math.max(...candidates), 12);
    }
  });

  it('jordan ×5 on [1e-2, 1]: [0.682, 1.134] (muon-anchors §b.6), never above a 10⁶-point grid’s min', () => {
    const schedule = resolveCoefficients('jordan');
    const { min, max } = composedRange(schedule, 1e-2);
    expect(min).toBeCloseTo(0.682, 3);
    expect(max).toBeCloseTo(1.134, 3);
    let gridMin = Infinity;
    let gridMax = -Infinity;
    for (let i = 0; i < 1_000_000; i++) {
      const y = composedPolynomial(schedule, 1e-2 * 100 ** (i / 999_999));
      gridMin = Math.min(gridMin, y);
      gridMax = Math.max(gridMax, y);
    }
    // The refined extremes are at least as extreme as any sampled value, and agree with the fine grid
    // to its own sampling error (relative spacing 5e-6 → value error ~1e-9).
    expect(min).toBeLessThanOrEqual(gridMin);
    expect(max).toBeGreaterThanOrEqual(gridMax);
    expect(gridMin - min).toBeLessThan(1e-8);
    expect(max - gridMax).toBeLessThan(1e-8);
  });

  it('refuses an empty or non-positive interval and a bad grid size', () => {
    const schedule = resolveCoefficients('jordan');
    expect(() => composedRange(schedule, 0)).toThrow(/lower = 0/);
    expect(() => composedRange(schedule, 0.5, 0.4)).toThrow(/upper = 0.4/);
    expect(() => composedRange(schedule, 0.5, 1, 1)).toThrow(/points must be an integer ≥ 2/);
  });
});
