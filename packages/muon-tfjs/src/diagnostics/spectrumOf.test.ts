import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { matrixWithSingularValues, seededNormal, toFloat64Matrix } from './float64Matrices.js';
import type { Float64Matrix } from './polarFactor.js';
import { singularValues } from './polarFactor.js';
import { spectrumOf } from './spectrumOf.js';

const eps = Number.EPSILON;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A geometric spectrum from 1 down to `low`, `count` values. */
function geometric(count: number, low: number): number[] {
  return Array.from({ length: count }, (_, i) => low ** (i / (count - 1)));
}

/** The known spectrum normalized as spectrumOf normalizes it (Σσ² = 1). */
function normalize(s: readonly number[]): number[] {
  const norm = Math.hypot(...s);
  return s.map((x) => x / norm);
}

/**
 * The Gram route's error bound of the TSDoc: |σ̂ − σ| ≤ c·k·ε·σ₁²/σ with k the Gram side. c = 8
 * covers the constants of the Gram product and the eigensolver (observed errors are 20–50× below).
 * Capped by the absolute bound √(c·k·ε)·σ₁ that holds for every σ, lost ones included
 * (|σ̂ − σ| ≤ √|σ̂² − σ²|).
 */
function gramTolerance(sigma: number, top: number, k: number): number {
  const c = 8;
  return Math.min((c * k * eps * top * top) / sigma, Math.sqrt(c * k * eps) * top);
}

describe('spectrumOf', () => {
  it('a hand-worked 2×2: [[3, 0], [4, 5]] has normalized σ = (3, 1)/√10', () => {
    // GᵀG = [[25, 20], [20, 25]] has eigenvalues 45 and 5, so σ = (3√5, √5); ‖G‖²_F = 50.
    const s = spectrumOf({ rows: 2, cols: 2, data: Float64Array.from([3, 0, 4, 5]) });
    expect(s.singularValues[0]).toBeCloseTo(3 / Math.sqrt(10), 14);
    expect(s.singularValues[1]).toBeCloseTo(1 / Math.sqrt(10), 14);
    // r = 2: ⌈0.1·2⌉ − 1 = ⌈0.25·2⌉ − 1 = ⌈0.5·2⌉ − 1 = 0, ⌈0.75·2⌉ − 1 = ⌈0.9·2⌉ − 1 = 1.
    expect(s.quantiles.q10).toBe(s.singularValues[0]);
    expect(s.quantiles.q50).toBe(s.singularValues[0]);
    expect(s.quantiles.q75).toBe(s.singularValues[1]);
    expect(s.quantiles.q90).toBe(s.singularValues[1]);
    expect(s.stableRank).toBeCloseTo(10 / 9, 14);
    expect(s.topEnergy).toBeCloseTo(0.9, 14);
  });

  it('matches the known spectrum and the float64 SVD on square, wide and tall matrices', () => {
    for (const [m, n] of [
      [64, 64],
      [48, 160],
      [160, 48],
    ] as const) {
      const k = Math.min(m, n);
      const known = normalize(geometric(k, 1e-3));
      const g = toFloat64Matrix(matrixWithSingularValues(m, n, known, 11).g);
      const s = spectrumOf(g);
      expect(s.singularValues).toHaveLength(k);
      const reference = singularValues(g);
      const top = known[0] as number;
      s.singularValues.forEach((sigma, i) => {
        // The construction U·diag(s)·Vᵀ itself rounds: its σ are the known ones to a few ε·σ₁.
        expect(Math.abs(sigma - (known[i] as number))).toBeLessThan(gramTolerance(known[i] as number, top, k) + 16 * eps);
        expect(Math.abs(sigma - (reference[i] as number))).toBeLessThan(gramTolerance(known[i] as number, top, k) + 16 * eps);
      });
      expect(s.stableRank).toBeCloseTo(1 / top ** 2, 10);
    }
  });

  it('views a Conv2D kernel [kh, kw, in, out] as the [kh·kw·in, out] matrix Muon orthogonalizes', () => {
    const normal = seededNormal(5);
    const [kh, kw, cin, cout] = [3, 3, 8, 16];
    const kernel = tf.tensor4d(Array.from({ length: kh * kw * cin * cout }, normal), [kh, kw, cin, cout]);
    // The reference flattens by hand from the nested array: row (i·kw + j)·cin + c, column o.
    const nested = kernel.arraySync();
    const data = new Float64Array(kh * kw * cin * cout);
    nested.forEach((plane, i) =>
      plane.forEach((inputs, j) =>
        inputs.forEach((outputs, c) =>
          outputs.forEach((value, o) => {
            data[((i * kw + j) * cin + c) * cout + o] = value;
          }),
        ),
      ),
    );
    const norm = Math.hypot(...data);
    const reference = singularValues({ rows: kh * kw * cin, cols: cout, data: data.map((x) => x / norm) });
    const s = spectrumOf(kernel);
    expect(s.singularValues).toHaveLength(cout);
    s.singularValues.forEach((sigma, i) => {
      expect(Math.abs(sigma - (reference[i] as number))).toBeLessThan(gramTolerance(reference[i] as number, reference[0] as number, cout));
    });
    kernel.dispose();
  });

  it('keeps σ above √ε·σ₁ and bounds the lost ones below it, as the TSDoc states; method svd keeps all', () => {
    const [m, n] = [40, 100];
    const known = normalize(geometric(m, 1e-12)); // twelve decades, well past √ε ≈ 1.5e-8
    const g = toFloat64Matrix(matrixWithSingularValues(m, n, known, 3).g);
    const gram = spectrumOf(g).singularValues;
    const svd = spectrumOf(g, { method: 'svd' }).singularValues;
    const top = known[0] as number;
    let resolved = 0;
    known.forEach((sigma, i) => {
      const error = Math.abs((gram[i] as number) - sigma);
      expect(error).toBeLessThan(gramTolerance(sigma, top, m) + 16 * eps);
      if (sigma > 1e-5 * top) {
        expect(error / sigma).toBeLessThan(1e-5); // full relative accuracy well above √ε·σ₁
        resolved++;
      }
      // The SVD of M itself is accurate to a few ε·σ₁ in absolute terms, even at σ = 1e-12.
      expect(Math.abs((svd[i] as number) - sigma)).toBeLessThan(64 * eps * top);
    });
    expect(resolved).toBeGreaterThan(10);
  });

  it('counts quantiles from the top: qP = σ[⌈P·r/100⌉ − 1], exactly at integer P·r/100', () => {
    // r = 30 with σ ∝ 30, 29, …, 1: q10 → index 2 (P·r/100 = 3 exactly), q25 → ⌈7.5⌉ − 1 = 7,
    // q50 → 14, q75 → ⌈22.5⌉ − 1 = 22, q90 → 26.
    const known = normalize(Array.from({ length: 30 }, (_, i) => 30 - i));
    const s = spectrumOf(toFloat64Matrix(matrixWithSingularValues(30, 50, known, 8).g));
    const close = (value: number, index: number): void => expect(value).toBeCloseTo(known[index] as number, 12);
    close(s.quantiles.q10, 2);
    close(s.quantiles.q25, 7);
    close(s.quantiles.q50, 14);
    close(s.quantiles.q75, 22);
    close(s.quantiles.q90, 26);
    // stableRank = Σσ²/σ₁² = (Σ_{i=1}^{30} i²)/30² = 9455/900; topEnergy its inverse.
    expect(s.stableRank).toBeCloseTo(9455 / 900, 10);
    expect(s.topEnergy).toBeCloseTo(900 / 9455, 12);
  });

  it('is invariant to the scale of M (it describes M/‖M‖_F); a rank-4 matrix has 16 σ lost to round-off', () => {
    const { g } = matrixWithSingularValues(20, 30, [4, 2, 1, 0.5], 2);
    const a = spectrumOf(toFloat64Matrix(g));
    const b = spectrumOf(toFloat64Matrix(g.mul(1e6)));
    const known = normalize([4, 2, 1, 0.5]);
    known.forEach((sigma, i) => {
      expect(a.singularValues[i]).toBeCloseTo(sigma, 12);
      expect(b.singularValues[i]).toBeCloseTo(sigma, 12);
    });
    // The 16 zero singular values come back as round-off, within the absolute bound √(c·k·ε)·σ₁.
    for (let i = 4; i < 20; i++) expect(a.singularValues[i]).toBeLessThan(gramTolerance(0, known[0] as number, 20));
  });

  it('refuses rank < 2, non-finite entries and the zero matrix, naming the shape', () => {
    const vector = tf.tensor1d([1, 2, 3]);
    expect(() => spectrumOf(vector)).toThrow(/shape \[3\] has rank 1/);
    const withNaN: Float64Matrix = { rows: 2, cols: 2, data: Float64Array.from([1, Number.NaN, 0, 1]) };
    expect(() => spectrumOf(withNaN)).toThrow(/\[2, 2\] tensor has a non-finite entry \(NaN\) at flat index 1/);
    const withInf = tf.tensor2d([[1, Infinity]]);
    expect(() => spectrumOf(withInf)).toThrow(/non-finite entry \(Infinity\)/);
    const zero = tf.zeros([3, 3, 2, 4]);
    expect(() => spectrumOf(zero)).toThrow(/\[3, 3, 2, 4\] tensor is zero/);
    expect(() => spectrumOf(tf.eye(3), { method: 'qr' as 'svd' })).toThrow(/options.method/);
    expect(() => spectrumOf({ rows: 2, cols: 3, data: new Float64Array(5) })).toThrow(/2×3 matrix needs 6 entries, got 5/);
    tf.dispose([vector, withInf, zero]);
  });
});
