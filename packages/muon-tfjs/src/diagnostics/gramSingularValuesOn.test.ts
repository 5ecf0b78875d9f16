import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../kernels/nativeAddon.js';
import { matrixWithSingularValues, toFloat64Matrix } from './float64Matrices.js';
import { type GramSpectrumEngine, gramSingularValuesOn } from './gramSingularValuesOn.js';
import { singularValues } from './polarFactor.js';

// The native engine needs the addon; CI builds it and sets MUON_TFJS_REQUIRE_NATIVE=1, so there its
// absence is a failure, elsewhere a skip with the reason.
const native = loadNativeAddon();
const required = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.MUON_TFJS_REQUIRE_NATIVE === '1';
if (!native.available && !required) console.warn(`gramSingularValuesOn: native engine not tested (${native.reason})`);
const engines: GramSpectrumEngine[] = native.available || required ? ['native', 'javascript'] : ['javascript'];

const eps = Number.EPSILON;

/**
 * The Gram route's bound (spectrumOf.test.ts): |σ̂² − σ²| ≤ c·k·ε·σ₁² with c = 8, so
 * |σ̂ − σ| ≤ min(c·k·ε·σ₁²/σ, √(c·k·ε)·σ₁); plus the construction's own rounding, a few ε·σ₁.
 */
function tolerance(sigma: number, top: number, k: number): number {
  return Math.min((8 * k * eps * top * top) / sigma, Math.sqrt(8 * k * eps) * top) + 16 * eps * top;
}

describe.each(engines)('gramSingularValuesOn, %s engine', (engine) => {
  it('a hand-worked 2×3: [[1, 0, 1], [0, 2, 0]] has MMᵀ = diag(2, 4), σ = (2, √2)', () => {
    const wide = gramSingularValuesOn(Float64Array.from([1, 0, 1, 0, 2, 0]), 2, 3, engine);
    expect(wide[0]).toBe(2);
    expect(wide[1]).toBeCloseTo(Math.SQRT2, 15);
    // Its transpose (3×2, tall) goes through MᵀM: the same values.
    expect([...gramSingularValuesOn(Float64Array.from([1, 0, 0, 2, 1, 0]), 3, 2, engine)]).toEqual([...wide]);
  });

  it('returns a known spectrum within the backward-stable bound on square, wide and tall matrices', () => {
    for (const [m, n] of [
      [96, 96],
      [40, 150],
      [150, 40],
    ] as const) {
      const k = Math.min(m, n);
      const known = Array.from({ length: k }, (_, i) => 1e-3 ** (i / (k - 1)));
      const g = toFloat64Matrix(matrixWithSingularValues(m, n, known, 5).g);
      const sigma = gramSingularValuesOn(g.data, m, n, engine);
      const reference = singularValues(g);
      expect(sigma).toHaveLength(k);
      sigma.forEach((s, i) => {
        expect(Math.abs(s - (reference[i] as number))).toBeLessThan(tolerance(reference[i] as number, 1, k));
        if (i > 0) expect(s).toBeLessThanOrEqual(sigma[i - 1] as number);
      });
    }
  });
});

describe.runIf(engines.includes('native'))('gramSingularValuesOn, native against JavaScript', () => {
  it('the two engines agree to twice the bound on a 256×700 matrix', () => {
    const k = 256;
    const known = Array.from({ length: k }, (_, i) => 1 / (1 + i));
    const g = toFloat64Matrix(matrixWithSingularValues(k, 700, known, 9).g);
    const a = gramSingularValuesOn(g.data, k, 700, 'native');
    const b = gramSingularValuesOn(g.data, k, 700, 'javascript');
    a.forEach((s, i) => expect(Math.abs(s - (b[i] as number))).toBeLessThan(2 * tolerance(b[i] as number, 1, k)));
  });

  it('refuses data that does not make the stated matrix, naming the sizes', () => {
    expect(() => gramSingularValuesOn(new Float64Array(5), 2, 3, 'native')).toThrow(/5 entries do not make a 2×3 matrix/);
  });
});
