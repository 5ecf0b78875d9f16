import { describe, expect, it } from 'vitest';
import { type CoefficientPreset, composedPolynomial, foldNormalization, resolveCoefficients } from './coefficients.js';

/**
 * Worst case of the composed scalar polynomial over normalized singular values σ ∈ [ℓ, 1], on a
 * 4·10⁵-point geometric + linear grid (the procedure of the reference notes' appendix).
 */
function worstCase(preset: CoefficientPreset, lower: number): { min: number; max: number; error: number } {
  const schedule = resolveCoefficients(preset);
  let min = Infinity;
  let max = -Infinity;
  const points = 200_000;
  for (let i = 0; i < points; i++) {
    for (const sigma of [lower * (1 / lower) ** (i / (points - 1)), lower + ((1 - lower) * i) / (points - 1)]) {
      const y = composedPolynomial(schedule, sigma);
      min = Math.min(min, y);
      max = Math.max(max, y);
    }
  }
  return { min, max, error: Math.max(1 - min, max - 1) };
}

describe('coefficient presets reproduce the published worst-case errors (muon-anchors §b.6, float64)', () => {
  // The table gives three significant digits; 5e-4 is half a unit in the last published place.
  const published = 5e-4;

  it('jordan ×5 maps [1e-2, 1] into [0.682, 1.134]', () => {
    const { min, max } = worstCase('jordan', 1e-2);
    expect(min).toBeCloseTo(0.682, 3);
    expect(max).toBeCloseTo(1.134, 3);
    expect(min).toBeGreaterThan(0.68);
    expect(max).toBeLessThan(1.14);
  });

  it('jordan ×5 at ℓ = 1e-3: error 0.529', () => {
    expect(Math.abs(worstCase('jordan', 1e-3).error - 0.529)).toBeLessThan(published);
  });

  it('cesista5 at ℓ = 1e-2 and 1e-3: errors 0.032 and 0.525', () => {
    expect(Math.abs(worstCase('cesista5', 1e-2).error - 0.032)).toBeLessThan(published);
    expect(Math.abs(worstCase('cesista5', 1e-3).error - 0.525)).toBeLessThan(published);
  });

  it('you6 at ℓ = 1e-2 and 1e-3: errors 0.0044 and 0.134', () => {
    expect(Math.abs(worstCase('you6', 1e-2).error - 0.0044)).toBeLessThan(5e-5);
    expect(Math.abs(worstCase('you6', 1e-3).error - 0.134)).toBeLessThan(published);
  });

  it('polarExpress5 (÷1.02) at ℓ = 1e-2 and 1e-3: errors 0.141 and 0.153', () => {
    expect(Math.abs(worstCase('polarExpress5', 1e-2).error - 0.141)).toBeLessThan(published);
    expect(Math.abs(worstCase('polarExpress5', 1e-3).error - 0.153)).toBeLessThan(published);
  });

  it('turboMuon at ℓ = 1e-2 and 1e-3 (σ of the AOL-rescaled input): errors 0.059 and 0.853', () => {
    // Not in §b.6: computed here from the published triples (thib-s/flash-newton-schulz), float64.
    // [1e-2, 1] goes into [0.941, 1.050]; below ~1e-2 the four iterations no longer lift σ.
    const { min, max, error } = worstCase('turboMuon', 1e-2);
    expect(min).toBeCloseTo(0.941, 3);
    expect(max).toBeCloseTo(1.05, 3);
    expect(Math.abs(error - 0.059)).toBeLessThan(published);
    expect(Math.abs(worstCase('turboMuon', 1e-3).error - 0.853)).toBeLessThan(published);
  });

  it('polarExpress8 converges: error < 1e-13 on [1e-3, 1], 0.430 at ℓ = 1e-4', () => {
    expect(worstCase('polarExpress8', 1e-3).error).toBeLessThan(1e-13);
    expect(Math.abs(worstCase('polarExpress8', 1e-4).error - 0.43)).toBeLessThan(published);
  });
});

describe('resolveCoefficients', () => {
  it('repeats a single triple for the requested steps (default 5)', () => {
    expect(resolveCoefficients('jordan').iterations).toHaveLength(5);
    expect(resolveCoefficients([2, -1.5, 0.5], 12).iterations).toEqual(Array(12).fill([2, -1.5, 0.5]));
  });

  it('runs a list once per entry and repeats its last entry beyond', () => {
    const schedule = resolveCoefficients('polarExpress8', 10);
    expect(schedule.iterations).toHaveLength(10);
    expect(schedule.iterations[9]).toEqual([1.875, -1.25, 0.375]);
    expect(schedule.normalizationScale).toBe(1.01);
    expect(resolveCoefficients('you6').iterations).toHaveLength(6);
  });

  it('rejects unknown presets, malformed triples, truncation and bad step counts by name', () => {
    expect(() => resolveCoefficients('jordon' as CoefficientPreset)).toThrow(/Unknown Newton–Schulz coefficient preset 'jordon'.*jordan/);
    expect(() => resolveCoefficients([1, 2] as unknown as [number, number, number])).toThrow(/coefficients/);
    expect(() => resolveCoefficients([[1, 2, Number.NaN]])).toThrow(/coefficients\[0\]/);
    expect(() => resolveCoefficients('cesista5', 3)).toThrow(/nsSteps=3 is fewer than the 5 iterations/);
    expect(() => resolveCoefficients('jordan', 0)).toThrow(/nsSteps must be an integer/);
    expect(() => resolveCoefficients('jordan', 2.5)).toThrow(/nsSteps must be an integer/);
  });
});

describe('foldNormalization', () => {
  it('turns a schedule with a normalization scale into a plain list with the same composed polynomial', () => {
    const schedule = resolveCoefficients('polarExpress5'); // normalized by 1.02
    const folded = resolveCoefficients(foldNormalization(schedule));
    expect(folded.normalizationScale).toBe(1);
    expect(folded.iterations.slice(1)).toEqual(schedule.iterations.slice(1));
    for (const sigma of [1e-3, 1e-2, 0.1, 0.5, 1]) {
      // p₁(x/s) written out: equal up to the round-off of the folded coefficients.
      expect(composedPolynomial(folded, sigma)).toBeCloseTo(composedPolynomial(schedule, sigma), 13);
    }
  });
});
