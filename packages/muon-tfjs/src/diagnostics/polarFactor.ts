import type * as tf from '@tensorflow/tfjs-core';
import { Matrix, SVD } from 'ml-matrix';

/** A dense row-major float64 matrix, the result type of the exact (SVD-based) references. */
export interface Float64Matrix {
  readonly rows: number;
  readonly cols: number;
  /** Row-major entries, `data[i * cols + j]`. */
  readonly data: Float64Array;
}

function isFloat64Matrix(g: tf.Tensor2D | Float64Matrix): g is Float64Matrix {
  return g.data instanceof Float64Array;
}

function toFloat64(g: tf.Tensor2D | Float64Matrix): Matrix {
  if (isFloat64Matrix(g)) {
    return new Matrix(Array.from({ length: g.rows }, (_, i) => Array.from(g.data.subarray(i * g.cols, (i + 1) * g.cols))));
  }
  if (g.rank !== 2) {
    throw new Error(`Expected a matrix; got shape [${g.shape.join(', ')}]`);
  }
  // float32 → float64 is exact, so the reference sees precisely the values the kernel saw.
  return new Matrix(g.arraySync());
}

function svd(g: tf.Tensor2D | Float64Matrix): SVD {
  // ml-matrix's one-sided Jacobi/Golub–Kahan SVD wants rows ≥ cols; autoTranspose handles wide inputs.
  return new SVD(toFloat64(g), { autoTranspose: true, computeLeftSingularVectors: true, computeRightSingularVectors: true });
}

/**
 * The exact polar factor UVᵀ of G = USVᵀ, computed in float64 through a full SVD (ml-matrix).
 * This is what Newton–Schulz approximates; tests and diagnostics compare against it. O(mn·min(m,n))
 * in plain JavaScript: meant for matrices up to a few hundred on a side.
 *
 * For rank-deficient G the polar factor is not unique; the SVD's choice of null-space basis is
 * returned.
 */
export function polarFactor(g: tf.Tensor2D | Float64Matrix): Float64Matrix {
  const decomposition = svd(g);
  const u = decomposition.leftSingularVectors;
  const v = decomposition.rightSingularVectors;
  const k = Math.min(u.columns, v.columns);
  const product = u.subMatrix(0, u.rows - 1, 0, k - 1).mmul(v.subMatrix(0, v.rows - 1, 0, k - 1).transpose());
  return { rows: product.rows, cols: product.columns, data: Float64Array.from(product.to1DArray()) };
}

/** Singular values of G in float64, in descending order (min(m, n) of them). */
export function singularValues(g: tf.Tensor2D | Float64Matrix): Float64Array {
  return Float64Array.from(svd(g).diagonal).sort().reverse();
}
