import { Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { matrixWithSingularValues, maxAbsDiff, toFloat64Matrix } from './float64Matrices.js';
import { polarFactor, singularValues } from './polarFactor.js';

describe('float64 polar factor and singular values', () => {
  it('a hand-worked 2×2: G = [[3, 0], [4, 5]] has σ = (3√5, √5) and polar factor [[2, −1], [1, 2]]/√5', () => {
    // GᵀG = [[25, 20], [20, 25]]: eigenvalues 45 and 5, so σ = √45 = 3√5 and √5.
    // (GᵀG)^{-1/2} has eigenvectors (1, 1)/√2, (1, −1)/√2 with values 1/(3√5), 1/√5, so
    // G·(GᵀG)^{-1/2} = [[2, −1], [1, 2]]/√5.
    const g = { rows: 2, cols: 2, data: Float64Array.from([3, 0, 4, 5]) };
    expect(maxAbsDiff(singularValues(g), [3 * Math.sqrt(5), Math.sqrt(5)])).toBeLessThan(1e-14);
    const r5 = Math.sqrt(5);
    expect(maxAbsDiff(polarFactor(g).data, [2 / r5, -1 / r5, 1 / r5, 2 / r5])).toBeLessThan(1e-14);
  });

  it('recovers UVᵀ of a matrix built from known factors, wide and tall', () => {
    for (const [m, n] of [
      [12, 30],
      [30, 12],
    ] as const) {
      const { g, u, v } = matrixWithSingularValues(m, n, [5, 4, 3, 2, 1, 0.5, 0.25, 0.1, 0.05, 0.02, 0.01, 0.001], 4);
      const p = polarFactor(toFloat64Matrix(g));
      expect([p.rows, p.cols]).toEqual([m, n]);
      expect(maxAbsDiff(p.data, u.mmul(v.transpose()).to1DArray())).toBeLessThan(1e-12);
      const gram = new Matrix([...Array(m)].map((_, i) => Array.from(p.data.subarray(i * n, (i + 1) * n))));
      const identity = m < n ? gram.mmul(gram.transpose()) : gram.transpose().mmul(gram);
      expect(maxAbsDiff(identity.to1DArray(), Matrix.eye(Math.min(m, n)).to1DArray())).toBeLessThan(1e-12);
    }
  });
});
