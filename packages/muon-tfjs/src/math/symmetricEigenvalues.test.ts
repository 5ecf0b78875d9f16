import { readFileSync } from 'node:fs';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { seededNormal } from '../diagnostics/float64Matrices.js';
import { symmetricEigenvalues } from './symmetricEigenvalues.js';

function randomSymmetric(n: number, seed: number): Matrix {
  const normal = seededNormal(seed);
  const a = Matrix.from1DArray(n, n, Array.from({ length: n * n }, normal));
  return a.add(a.transpose());
}

describe('symmetricEigenvalues', () => {
  it('converges on a cluster of near-zero eigenvalues beside large ones (a stalled real case)', () => {
    // The fixture is the tridiagonal form of a real Gram matrix on which the relative deflation
    // test alone stalled past its step cap (its `source` says where it comes from). The absolute
    // test |e_i| ≤ ε‖T‖∞ lets it converge; every eigenvalue must still be within the backward
    // error bound c·n·ε·‖T‖ (c = 4, as above) of ml-matrix's.
    const { diagonal, offDiagonal } = JSON.parse(readFileSync(new URL('./symmetricEigenvalues.stalledCluster.json', import.meta.url), 'utf8')) as { diagonal: number[]; offDiagonal: number[] };
    const n = diagonal.length;
    const t = new Float64Array(n * n);
    diagonal.forEach((d, i) => {
      t[i * n + i] = d;
      if (i > 0) {
        t[i * n + i - 1] = offDiagonal[i - 1] as number;
        t[(i - 1) * n + i] = offDiagonal[i - 1] as number;
      }
    });
    const reference = new EigenvalueDecomposition(Matrix.from1DArray(n, n, Array.from(t)), { assumeSymmetric: true }).realEigenvalues.sort((x, y) => y - x);
    const values = symmetricEigenvalues(t, n);
    const scale = Math.max(...reference.map(Math.abs));
    reference.forEach((r, i) => expect(Math.abs((values[i] as number) - r)).toBeLessThan(4 * n * Number.EPSILON * scale));
  });

  it('a hand-worked 3×3: [[2, 1, 0], [1, 2, 1], [0, 1, 2]] has eigenvalues 2 + √2, 2, 2 − √2', () => {
    // The tridiagonal Toeplitz matrix with diagonal a and off-diagonal b has eigenvalues
    // a + 2b·cos(kπ/(n + 1)), k = 1..n; 5e-15 (about 7ε·‖A‖) allows the backward error.
    const values = symmetricEigenvalues(Float64Array.from([2, 1, 0, 1, 2, 1, 0, 1, 2]), 3);
    expect(values[0]).toBeCloseTo(2 + Math.SQRT2, 14);
    expect(values[1]).toBeCloseTo(2, 14);
    expect(values[2]).toBeCloseTo(2 - Math.SQRT2, 14);
  });

  it('matches ml-matrix EigenvalueDecomposition to a few ε·‖A‖ on random symmetric matrices', () => {
    for (const n of [1, 2, 5, 33, 120]) {
      const a = randomSymmetric(n, n);
      const reference = new EigenvalueDecomposition(a, { assumeSymmetric: true }).realEigenvalues.sort((x, y) => y - x);
      const values = symmetricEigenvalues(Float64Array.from(a.to1DArray()), n);
      const scale = Math.max(...reference.map(Math.abs));
      // Both solvers are backward stable: each eigenvalue within c·n·ε·‖A‖₂ of the truth (Weyl).
      reference.forEach((r, i) => expect(Math.abs((values[i] as number) - r)).toBeLessThan(4 * n * Number.EPSILON * scale + 1e-300));
    }
  });

  it('reads only the lower triangle, handles repeated and zero eigenvalues, refuses a wrong size', () => {
    // diag(3, 3, 0, −1) stored with garbage (99) above the diagonal, which must be ignored.
    const lower = Float64Array.from([3, 99, 99, 99, 0, 3, 99, 99, 0, 0, 0, 99, 0, 0, 0, -1]);
    expect(Array.from(symmetricEigenvalues(lower, 4))).toEqual([3, 3, 0, -1]);
    expect(() => symmetricEigenvalues(new Float64Array(5), 2)).toThrow(/2×2 = 4 entries, got 5/);
  });
});
