import { describe, expect, it } from 'vitest';
import { powerLawFit } from './powerLawFit.js';

describe('powerLawFit', () => {
  it('recovers an exact power law with zero standard error', () => {
    const x = [1e5, 4e5, 1.6e6, 6.4e6];
    const fit = powerLawFit(x, x.map((m) => 3 * m ** -0.25));
    expect(fit.alpha).toBeCloseTo(0.25, 12);
    expect(fit.logIntercept).toBeCloseTo(Math.log(3), 10);
    expect(fit.standardError).toBeLessThan(1e-12);
    expect(fit.points).toBe(4);
  });

  it('matches a hand-worked fit with residuals', () => {
    // ln x = 0, 1, 2 and ln y = 0, −1, −1: mean ln x = 1, mean ln y = −2/3, Sxx = 2,
    // Sxy = (−1)(2/3) + 0 + (1)(−1/3) = −1, so the slope is −1/2 (α = 0.5) and the intercept
    // −2/3 + 1/2 = −1/6. Residuals 1/6, −1/3, 1/6 give RSS = 1/6, s² = RSS/(n − 2) = 1/6 and
    // SE = √(s²/Sxx) = √(1/12).
    const e = Math.E;
    const fit = powerLawFit([1, e, e * e], [1, 1 / e, 1 / e]);
    expect(fit.alpha).toBeCloseTo(0.5, 12);
    expect(fit.logIntercept).toBeCloseTo(-1 / 6, 12);
    expect(fit.standardError).toBeCloseTo(Math.sqrt(1 / 12), 12);
  });

  it('has no standard error from two points, and refuses bad input naming it', () => {
    expect(powerLawFit([1, 10], [1, 0.1]).standardError).toBeNaN();
    expect(() => powerLawFit([1, 2], [1])).toThrow(/x has 2 values but y has 1/);
    expect(() => powerLawFit([1], [1])).toThrow(/at least 2 points/);
    expect(() => powerLawFit([1, 2], [0, 1])).toThrow(/finite and positive.*got 0/);
    expect(() => powerLawFit([3, 3], [1, 2])).toThrow(/all x are equal/);
  });
});
