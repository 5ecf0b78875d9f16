import * as tf from '@tensorflow/tfjs-core';
import type { MatrixShape } from './matrixView.js';

/**
 * Dion2's submatrix selection (Ahn et al., "Dion2: A Simple Method to Shrink Matrix in Muon",
 * arXiv 2512.16928; microsoft/dion `dion/dion2.py`), as pure tensor math: which side of a matrix
 * is cut into slices, how many slices are kept, which ones (largest L1 norm), and moving the kept
 * slices out of and back into the matrix. The optimizer's state and its error feedback are in
 * `transforms/scaleByDion2.ts`.
 *
 * The slices are always handled as the rows of a "slice view": the matrix itself when its rows are
 * selected, its transpose when its columns are, so that gathering and scattering are along axis 0
 * (`tf.gather`, `tf.scatterND`) and no index is read back to the host (webgl and webgpu keep
 * running without a synchronous read).
 */

/**
 * Which side of a `[fanIn, fanOut]` matrix is selected: the shorter one, so that the selected
 * submatrix (k slices × the longer side) is as small as possible; on a tie, the output neurons.
 * dion2.py (single device): `select_dim = -2 if num_rows <= num_cols else -1` on a PyTorch
 * `(out, in)` weight, whose rows are our columns (TF.js kernels are input-first).
 */
export type SelectedSide = 'columns' | 'rows';

/** The side Dion2 selects slices of, for a matrix of this shape (see {@link SelectedSide}). */
export function selectedSide({ fanIn, fanOut }: MatrixShape): SelectedSide {
  return fanOut <= fanIn ? 'columns' : 'rows';
}

/**
 * How many of `slices` slices Dion2 orthogonalizes at `fraction` α: k = max(1, ⌈α·n⌉)
 * (dion2.py `dion2_pre_orthogonalize`, with the same float64 product, so the same k as the
 * reference), and never more than there are (`k_topk = min(k, num_select)`): 0 for an empty side.
 */
export function selectedCount(slices: number, fraction: number): number {
  return Math.min(slices, Math.max(1, Math.ceil(fraction * slices)));
}

/** The slice view of a matrix: itself when its rows are selected, its transpose when its columns are. */
export function sliceView(matrix: tf.Tensor2D, side: SelectedSide): tf.Tensor2D {
  return side === 'rows' ? matrix : tf.transpose(matrix);
}

/** The matrix of a slice view (the inverse of {@link sliceView}; a transpose is its own inverse). */
export function fromSliceView(view: tf.Tensor2D, side: SelectedSide): tf.Tensor2D {
  return sliceView(view, side);
}

/**
 * The indices (int32, shape `[k]`) of the `k` rows of largest L1 norm Σⱼ|xᵢⱼ| (dion2.py:
 * `M.norm(p=1, dim=norm_dim)` then `torch.topk`), in decreasing norm; equal norms are taken in
 * increasing row order (tfjs's `topk`; dion's `topk(sorted=False)` leaves ties unspecified).
 */
export function largestL1Rows(view: tf.Tensor2D, k: number): tf.Tensor1D {
  // k = 0 (a matrix with no rows to select) selects nothing, without asking topk of an empty tensor.
  if (k === 0) return tf.tensor1d([], 'int32');
  return tf.tidy(() => tf.topk(tf.sum(tf.abs(view), 1), k).indices as tf.Tensor1D);
}

/** The rows at `indices`, in their order: a `[k, columns]` submatrix. */
export function gatherRows(view: tf.Tensor2D, indices: tf.Tensor1D): tf.Tensor2D {
  return tf.gather(view, indices, 0);
}

/**
 * A `[rows, columns]` matrix holding `selected`'s rows at `indices` and zeros elsewhere (the
 * inverse of {@link gatherRows} on the selected rows; `indices` must be distinct, as topk's are, and
 * not empty: tf.scatterND refuses an empty update).
 */
export function scatterRows(selected: tf.Tensor2D, indices: tf.Tensor1D, rows: number): tf.Tensor2D {
  return tf.tidy(() => tf.scatterND(tf.reshape(indices, [-1, 1]), selected, [rows, selected.shape[1] as number]));
}

/** The view with the rows at `indices` (not empty) multiplied by `factor` and the others unchanged (Dion2's error-feedback decay). */
export function scaleRows(view: tf.Tensor2D, indices: tf.Tensor1D, factor: number): tf.Tensor2D {
  return tf.tidy(() => {
    const rows = view.shape[0] as number;
    // 1 on the unselected rows, factor on the selected ones: 1 + (factor − 1)·[i selected].
    const selected = tf.scatterND(tf.reshape(indices, [-1, 1]), tf.fill([indices.shape[0]], factor - 1), [rows]);
    return tf.mul(view, tf.reshape(tf.add(selected, 1), [rows, 1]));
  });
}
