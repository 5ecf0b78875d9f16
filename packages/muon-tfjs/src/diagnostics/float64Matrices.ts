import { Matrix, QrDecomposition } from 'ml-matrix';
import type { Float64Matrix } from './polarFactor.js';

/** A small seeded PRNG (mulberry32) so float64 fixtures are reproducible without TF.js. */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples by Box–Muller from a seeded uniform source. */
export function seededNormal(seed: number): () => number {
  const uniform = seededUniform(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** A random n×k matrix with orthonormal columns (Q of a Gaussian matrix's QR), in float64. */
export function randomOrthonormal(n: number, k: number, seed: number): Matrix {
  const normal = seededNormal(seed);
  const g = Matrix.from1DArray(n, k, Array.from({ length: n * k }, normal));
  return new QrDecomposition(g).orthogonalMatrix.subMatrix(0, n - 1, 0, k - 1);
}

/**
 * G = U·diag(s)·Vᵀ with random orthonormal U (m×k), V (n×k), k = s.length ≤ min(m, n):
 * a test matrix whose singular values are known exactly. Returns G and its factors.
 */
export function matrixWithSingularValues(m: number, n: number, s: readonly number[], seed: number): { g: Matrix; u: Matrix; v: Matrix } {
  const u = randomOrthonormal(m, s.length, seed);
  const v = randomOrthonormal(n, s.length, seed + 1);
  const g = u.mmul(Matrix.diag([...s])).mmul(v.transpose());
  return { g, u, v };
}

/** Converts an ml-matrix to the package's row-major Float64Matrix. */
export function toFloat64Matrix(m: Matrix): Float64Matrix {
  return { rows: m.rows, cols: m.columns, data: Float64Array.from(m.to1DArray()) };
}

/** max_ij |a_ij − b_ij| between a float32 result and a float64 reference of the same shape. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  }
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  }
  return worst;
}

/** ‖a − b‖_F / ‖b‖_F. */
export function relativeFrobenius(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    num += d * d;
    den += (b[i] as number) ** 2;
  }
  return Math.sqrt(num / den);
}
