import { describe, expect, it } from 'vitest';
import { matrixWithSingularValues } from '../diagnostics/float64Matrices.js';
import { DEFAULT_SCHEDULE_TARGET } from './chooseSchedule.js';
import { composedPolynomial } from './coefficients.js';
import { LOWER_BOUND_GRID_FLOOR, layerAwareSchedule, lowerBoundFloor, measuredLowerBound, snapLowerBound, storedLowerBound } from './layerAwareSchedule.js';

/** The grid from 1 down to the floor: 10^(−j/4), j = 0…20. */
const GRID = Array.from({ length: 21 }, (_, j) => 10 ** (-j / 4));

describe('snapLowerBound', () => {
  it('keeps grid points, rounds everything else down onto the grid, and sends σ ≤ 1e-5 (0 included) to the floor', () => {
    GRID.forEach((point) => expect(snapLowerBound(point)).toBeCloseTo(point, 12));
    expect(snapLowerBound(0.5)).toBeCloseTo(10 ** -0.5, 12); // 0.316 ≤ 0.5 < 0.562
    expect(snapLowerBound(0.0099)).toBeCloseTo(10 ** -2.25, 12);
    expect(snapLowerBound(0)).toBe(LOWER_BOUND_GRID_FLOOR);
    expect(snapLowerBound(3e-7)).toBe(LOWER_BOUND_GRID_FLOOR);
    expect(() => snapLowerBound(1.5)).toThrow(/sigma .* must be in \[0, 1\], got 1.5/);
    expect(() => snapLowerBound(Number.NaN)).toThrow(/got NaN/);
  });

  it('round-trips every grid point through a float32 slot, and refuses a value off the grid', () => {
    for (const point of GRID) expect(storedLowerBound(Float32Array.of(point))).toBe(snapLowerBound(point));
    expect(storedLowerBound(Float32Array.of(0))).toBe(0);
    expect(() => storedLowerBound(Float32Array.of(0.3))).toThrow(/holds 0\.3.*neither 0 nor a grid point/);
    expect(() => storedLowerBound(Float32Array.of(1e-6))).toThrow(/neither 0 nor a grid point/);
  });
});

describe('layerAwareSchedule', () => {
  it('lifts every σ in [ℓ, 1] into [0.68, 1.32] at every grid point (float64, the folded coefficients the kernels run)', () => {
    // Independent of chooseSchedule's own check (composedRange): the resolved schedule's composed
    // polynomial on a dense log grid of [ℓ, 1], 20000 points, in float64. The band is the default
    // target; the tolerance 1e-3 covers the extrema between grid points (composedRange refines them,
    // this grid does not: a quintic composition's slope times a 1.2e-4-decade spacing).
    let previousSteps = 0;
    for (const point of GRID) {
      const lowerBound = snapLowerBound(point);
      const schedule = layerAwareSchedule(lowerBound, 1e-7);
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < 20000; i++) {
        const p = composedPolynomial(schedule, lowerBound ** (1 - i / 19999));
        min = Math.min(min, p);
        max = Math.max(max, p);
      }
      expect(min).toBeGreaterThan(DEFAULT_SCHEDULE_TARGET.threshold - 1e-3);
      expect(max).toBeLessThan(DEFAULT_SCHEDULE_TARGET.upperBound + 1e-3);
      // A larger ℓ never needs more steps (walked from ℓ = 1 down).
      expect(schedule.steps).toBeGreaterThanOrEqual(previousSteps);
      previousSteps = schedule.steps;
    }
    // The ends, as chooseSchedule's table gives them: 2 steps at ℓ = 1, 8 at the floor.
    expect(layerAwareSchedule(1, 1e-7).steps).toBe(2);
    expect(layerAwareSchedule(LOWER_BOUND_GRID_FLOOR, 1e-7).steps).toBe(8);
  });

  it('lowerBoundFloor: the lowest grid point within maxSteps, and nothing below it within', () => {
    // From chooseSchedule's choices on the grid: 2 steps down to 0.056, 3 to 0.01, 4 to 3.2e-3,
    // 5 to 5.6e-4, 6 to 1.8e-4, 7 to 3.2e-5, 8 to 1e-5.
    const expected: Record<number, number> = { 2: 10 ** -1.25, 3: 1e-2, 4: 10 ** -2.5, 5: 10 ** -3.25, 6: 10 ** -3.75, 7: 10 ** -4.5, 8: 1e-5 };
    for (const [maxSteps, floor] of Object.entries(expected)) {
      const found = lowerBoundFloor(Number(maxSteps), 1e-7);
      expect(found).toBeCloseTo(floor, 12);
      expect(layerAwareSchedule(found, 1e-7).steps).toBeLessThanOrEqual(Number(maxSteps));
      if (found > LOWER_BOUND_GRID_FLOOR) expect(layerAwareSchedule(snapLowerBound(found * 0.99), 1e-7).steps).toBeGreaterThan(Number(maxSteps));
    }
    expect(() => lowerBoundFloor(9, 1e-7)).toThrow(/maxSteps must be an integer in \[2, 8\], got 9/);
  });

  it('shares one frozen schedule per grid point and eps, and refuses a lower bound off the grid', () => {
    const a = layerAwareSchedule(snapLowerBound(0.01), 1e-7);
    expect(layerAwareSchedule(snapLowerBound(0.01), 1e-7)).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(layerAwareSchedule(snapLowerBound(0.01), 1e-8)).not.toBe(a);
    expect(layerAwareSchedule(snapLowerBound(0.01), 1e-8).eps).toBe(1e-8);
    expect(() => layerAwareSchedule(0.02, 1e-7)).toThrow(/lowerBound must be a grid point .* got 0\.02/);
  });
});

describe('measuredLowerBound', () => {
  it('snaps the exact q90 of X/‖X‖_F (known singular values) down onto the grid', () => {
    // 20 singular values 1, 1/2, …, 1/20 on a 20×50 matrix: ‖X‖_F² = Σ 1/i² = 1.5962…, q90 is
    // σ at index ⌈0.9·20⌉ − 1 = 17, i.e. 1/18, so the normalized q90 = (1/18)/1.26341 = 0.04397,
    // between grid points 0.03162 and 0.05623: snapped to 10^(−1.5).
    const s = Array.from({ length: 20 }, (_, i) => 1 / (i + 1));
    const norm = Math.sqrt(s.reduce((sum, x) => sum + x * x, 0));
    expect((1 / 18) / norm).toBeCloseTo(0.04397, 5);
    const { g } = matrixWithSingularValues(20, 50, s, 7);
    expect(measuredLowerBound(Float64Array.from(g.to1DArray()), 20, 50, 90)).toBeCloseTo(10 ** -1.5, 12);
    // The same matrix transposed (tall) and the median: σ[9] = 1/10 → 0.0792 → 10^(−1.25).
    expect(measuredLowerBound(Float64Array.from(g.transpose().to1DArray()), 50, 20, 50)).toBeCloseTo(10 ** -1.25, 12);
  });

  it('gives the floor to the zero matrix and to a rank-deficient one (q90 = 0)', () => {
    expect(measuredLowerBound(new Float64Array(12), 3, 4, 90)).toBe(LOWER_BOUND_GRID_FLOOR);
    const { g } = matrixWithSingularValues(20, 20, [1, 0.5, 0.25], 3); // rank 3 of 20
    expect(measuredLowerBound(Float64Array.from(g.to1DArray()), 20, 20, 90)).toBe(LOWER_BOUND_GRID_FLOOR);
    // …or the floor given, for the zero matrix too.
    expect(measuredLowerBound(Float64Array.from(g.to1DArray()), 20, 20, 90, lowerBoundFloor(5, 1e-7))).toBeCloseTo(10 ** -3.25, 12);
    expect(measuredLowerBound(new Float64Array(12), 3, 4, 90, lowerBoundFloor(3, 1e-7))).toBeCloseTo(1e-2, 12);
  });
});
