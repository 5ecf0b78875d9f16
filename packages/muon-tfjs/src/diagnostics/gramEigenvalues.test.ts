import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../kernels/nativeAddon.js';
import { matrixWithSingularValues, toFloat64Matrix } from './float64Matrices.js';
import { type GramEigenvaluesEngine, gramEigenvalues } from './gramEigenvalues.js';
import { singularValues } from './polarFactor.js';

// The native engine needs the addon; CI builds it and sets MUON_TFJS_REQUIRE_NATIVE=1, so there its
// absence is a failure, elsewhere a skip with the reason.
const native = loadNativeAddon();
const required = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.MUON_TFJS_REQUIRE_NATIVE === '1';
if (!native.available && !required) console.warn(`gramEigenvalues: native engine not tested (${native.reason})`);
const engines: GramEigenvaluesEngine[] = native.available || required ? ['native', 'javascript'] : ['javascript'];

const eps = Number.EPSILON;

describe.each(engines)('gramEigenvalues, %s engine', (engine) => {
  it('a hand-worked 2×3: [[1, 0, 1], [0, 2, 0]] has MMᵀ = diag(2, 4), eigenvalues (4, 2)', () => {
    expect([...gramEigenvalues(Float64Array.from([1, 0, 1, 0, 2, 0]), 2, 3, engine)]).toEqual([4, 2]);
    // Its transpose (3×2, tall) goes through MᵀM: the same eigenvalues.
    expect([...gramEigenvalues(Float64Array.from([1, 0, 0, 2, 1, 0]), 3, 2, engine)]).toEqual([4, 2]);
  });

  it('returns σ² of a known spectrum within the backward-stable bound on square, wide and tall matrices', () => {
    for (const [m, n] of [
      [96, 96],
      [40, 150],
      [150, 40],
    ] as const) {
      const k = Math.min(m, n);
      const known = Array.from({ length: k }, (_, i) => 1e-3 ** (i / (k - 1)));
      const g = toFloat64Matrix(matrixWithSingularValues(m, n, known, 5).g);
      const lambda = gramEigenvalues(g.data, m, n, engine);
      const reference = singularValues(g);
      expect(lambda).toHaveLength(k);
      lambda.forEach((l, i) => {
        // |λ̂ − σ²| ≤ c·k·ε·σ₁² with c = 8 (the Gram product's and the eigensolver's constants; the
        // same bound spectrumOf.test.ts uses), plus the construction's own rounding, a few ε·σ₁².
        const sigma = reference[i] as number;
        expect(Math.abs(l - sigma * sigma)).toBeLessThan(8 * k * eps + 16 * eps);
        if (i > 0) expect(l).toBeLessThanOrEqual(lambda[i - 1] as number);
      });
    }
  });
});

describe.runIf(engines.includes('native'))('gramEigenvalues, native against JavaScript', () => {
  it('the two engines agree to the error bound on a 256×700 matrix', () => {
    const k = 256;
    const known = Array.from({ length: k }, (_, i) => 1 / (1 + i));
    const g = toFloat64Matrix(matrixWithSingularValues(k, 700, known, 9).g);
    const a = gramEigenvalues(g.data, k, 700, 'native');
    const b = gramEigenvalues(g.data, k, 700, 'javascript');
    a.forEach((l, i) => expect(Math.abs(l - (b[i] as number))).toBeLessThan(2 * 8 * k * eps));
  });

  it('refuses data that does not make the stated matrix, naming the sizes', () => {
    expect(() => gramEigenvalues(new Float64Array(5), 2, 3, 'native')).toThrow(/5 entries do not make a 2×3 matrix/);
  });
});
