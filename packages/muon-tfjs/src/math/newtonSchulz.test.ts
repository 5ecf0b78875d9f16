import * as tf from '@tensorflow/tfjs-core';
import { Matrix } from 'ml-matrix';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { matrixWithSingularValues, maxAbsDiff, relativeFrobenius } from '../diagnostics/float64Matrices.js';
import { type CoefficientPreset, composedPolynomial, resolveCoefficients } from './coefficients.js';
import { newtonSchulz } from './newtonSchulz.js';
import { polarFactor, singularValues } from '../diagnostics/polarFactor.js';

/**
 * fp32 tolerance against float64 references: the relative Frobenius error of the whole output.
 * Each iteration is three matMuls with inner dimension ≤ 96 on values of order 1, so round-off is
 * a few hundred units of fp32's 6e-8; measured ≤ 2e-6 on cpu and wasm. 1e-5 leaves a 5× margin
 * and is still ~10⁴ below the schedules' own approximation errors that these tests distinguish.
 */
const FP32_REL_TOL = 1e-5;

/** Singular values spread geometrically from `lower` to 1, then scaled to unit Frobenius norm. */
function spectrum(count: number, lower: number): number[] {
  const raw = Array.from({ length: count }, (_, i) => lower ** (1 - i / (count - 1)));
  const norm = Math.hypot(...raw);
  return raw.map((s) => s / norm);
}

describe.each(TEST_BACKENDS)('newtonSchulz on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  // Shapes: wide, tall (exercises the transpose), square.
  const shapes = [
    [48, 96],
    [96, 48],
    [64, 64],
  ] as const;

  it.each(shapes)('maps singular values through the composed polynomial exactly (%i×%i, every preset)', (m, n) => {
    // Singular values spread over two decades: NS(G) = U·p(σ/‖G‖_F)·Vᵀ in exact arithmetic, where
    // p is the composed quintic; compare with that float64 matrix.
    const s = spectrum(Math.min(m, n), 1e-2).map((x) => 3 * x);
    const { g, u, v } = matrixWithSingularValues(m, n, s, 11);
    const input = tf.tensor2d(g.to2DArray());
    const frobenius = Math.hypot(...s);
    for (const preset of ['jordan', 'cesista5', 'you6', 'polarExpress5', 'polarExpress8'] satisfies CoefficientPreset[]) {
      const schedule = resolveCoefficients(preset);
      const expected = u.mmul(Matrix.diag(s.map((x) => composedPolynomial(schedule, x / frobenius)))).mmul(v.transpose());
      const output = newtonSchulz(input, { coefficients: preset });
      expect(output.shape).toEqual([m, n]);
      expect(relativeFrobenius(output.dataSync(), expected.to1DArray()), preset).toBeLessThan(FP32_REL_TOL);
      output.dispose();
    }
    input.dispose();
  });

  it('jordan keeps every singular value in [0.68, 1.14] when normalized ones are ≥ 1e-2', () => {
    // Unit Frobenius norm with the smallest singular value exactly 1e-2, whose image is the band's
    // lower edge (0.682); the others spread over [0.05, 1] before scaling.
    const others = spectrum(39, 0.05);
    const scale = Math.sqrt(1 - 1e-4);
    const s = [1e-2, ...others.map((x) => x * scale)];
    expect(Math.hypot(...s)).toBeCloseTo(1, 12);
    expect(Math.min(...s)).toBe(1e-2);
    const { g } = matrixWithSingularValues(40, 120, s, 3);
    const output = newtonSchulz(tf.tensor2d(g.to2DArray()) as tf.Tensor2D);
    const sigma = singularValues(output as tf.Tensor2D);
    expect(Math.min(...sigma)).toBeGreaterThanOrEqual(0.68);
    expect(Math.max(...sigma)).toBeLessThanOrEqual(1.14);
  });

  it('polarExpress8 returns the polar factor UVᵀ of a Gaussian matrix', () => {
    const g = tf.randomNormal([64, 160], 0, 1, 'float32', 5) as tf.Tensor2D;
    const exact = polarFactor(g);
    const output = newtonSchulz(g, { coefficients: 'polarExpress8' });
    expect(relativeFrobenius(output.dataSync(), exact.data)).toBeLessThan(FP32_REL_TOL);
  });

  it('commutes with transposition: f(Gᵀ) = f(G)ᵀ', () => {
    for (const [m, n] of shapes) {
      const g = tf.randomNormal([m, n], 0, 1, 'float32', m + n) as tf.Tensor2D;
      const a = tf.transpose(newtonSchulz(tf.transpose(g) as tf.Tensor2D));
      const b = newtonSchulz(g);
      // Non-square inputs run the very same iteration on the same operand: bit-identical.
      // Square ones iterate on G and Gᵀ separately: equal up to fp32 round-off.
      expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBeLessThanOrEqual(m === n ? 1e-6 : 0);
    }
  });

  it('a batch equals its matrices done one by one', () => {
    const batch = tf.randomNormal([3, 24, 40], 0, 1, 'float32', 9) as tf.Tensor3D;
    const together = newtonSchulz(batch, { coefficients: 'cesista5' });
    const apart = tf.stack(tf.unstack(batch).map((m) => newtonSchulz(m as tf.Tensor2D, { coefficients: 'cesista5' })));
    expect(together.shape).toEqual([3, 24, 40]);
    expect(maxAbsDiff(together.dataSync(), apart.dataSync())).toBeLessThan(1e-6);
    const tall = newtonSchulz(tf.transpose(batch, [0, 2, 1]) as tf.Tensor3D);
    expect(tall.shape).toEqual([3, 40, 24]);
  });

  it('maps a zero matrix to zero, without NaN', () => {
    const output = newtonSchulz(tf.zeros([8, 16]) as tf.Tensor2D);
    expect(Array.from(output.dataSync()).every((x) => x === 0)).toBe(true);
  });

  it('leaves no tensors behind', () => {
    const g = tf.randomNormal([16, 32]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    newtonSchulz(g).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad ranks, dtypes and options with the value at fault', () => {
    expect(() => newtonSchulz(tf.zeros([4]) as unknown as tf.Tensor2D)).toThrow(/got shape \[4\]/);
    expect(() => newtonSchulz(tf.zeros([4, 4], 'int32') as tf.Tensor2D)).toThrow(/got dtype int32/);
    expect(() => newtonSchulz(tf.zeros([4, 4]) as tf.Tensor2D, { eps: -1 })).toThrow(/eps must be .* got -1/);
    expect(() => newtonSchulz(tf.zeros([4, 4]) as tf.Tensor2D, { coefficients: 'nope' as CoefficientPreset })).toThrow(/'nope'/);
  });
});
