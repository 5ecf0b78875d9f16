import * as tf from '@tensorflow/tfjs-core';

/**
 * The one place where muon-tfjs decides how a weight tensor is seen as a matrix.
 *
 * TF.js stores kernels input-first: Dense `[in, out]`, Conv1D `[k, in, out]`, Conv2D
 * `[kh, kw, in, out]`, Conv3D `[kd, kh, kw, in, out]` (PyTorch is the other way round:
 * `(out, in, kh, kw)`). In every case the last axis is the output axis and all leading axes are
 * contracted with the input, so a kernel of rank ≥ 2 is the matrix
 *
 *     [fanIn, fanOut] = [prod(shape[0..-1]), shape[-1]]
 *
 * and its shape-dependent learning-rate scale is computed from that flattened matrix, never from
 * the first two axes (the conv-scale bug of KellerJordan/Muon #63 and Moonlight #31).
 */
export interface MatrixShape {
  /** Rows of the matrix view: the product of all axes but the last. */
  readonly fanIn: number;
  /** Columns of the matrix view: the last axis. */
  readonly fanOut: number;
}

/** The matrix view `[fanIn, fanOut]` of a weight shape of rank ≥ 2. */
export function matrixShape(shape: readonly number[]): MatrixShape {
  if (shape.length < 2) {
    throw new Error(`A weight of shape [${shape.join(', ')}] has rank ${shape.length}; a matrix view needs rank ≥ 2`);
  }
  const fanOut = shape[shape.length - 1] as number;
  const fanIn = shape.slice(0, -1).reduce((p, d) => p * d, 1);
  return { fanIn, fanOut };
}

/** Reshapes a kernel of rank ≥ 2 to its `[fanIn, fanOut]` matrix (a view: no data is copied). */
export function toMatrix(kernel: tf.Tensor): tf.Tensor2D {
  const { fanIn, fanOut } = matrixShape(kernel.shape);
  return tf.reshape(kernel, [fanIn, fanOut]);
}

/** Reshapes a `[fanIn, fanOut]` matrix back to the kernel shape it came from. */
export function fromMatrix(matrix: tf.Tensor2D, shape: readonly number[]): tf.Tensor {
  const { fanIn, fanOut } = matrixShape(shape);
  if (matrix.shape[0] !== fanIn || matrix.shape[1] !== fanOut) {
    throw new Error(`A [${matrix.shape.join(', ')}] matrix cannot be the view of a [${shape.join(', ')}] kernel ([${fanIn}, ${fanOut}] expected)`);
  }
  return tf.reshape(matrix, [...shape]);
}

/**
 * Which axes of a weight make the matrices Muon orthogonalizes, as optax's `MuonDimensionNumbers`:
 * the reduction axes (contracted with the layer's input: the rows, fanIn) and the output axes (the
 * columns, fanOut). Every other axis is a batch axis: the weight holds one independent matrix per
 * index of them, each orthogonalized on its own (experts `[E, in, out]`: reduction `[1]`, output
 * `[2]`, batch `[0]`: E matrices `[in, out]`). Negative axes count from the end (−1 the last).
 * The flattened view of {@link matrixShape} is reduction = every axis but the last, output = the last.
 */
export interface MatrixDimensions {
  readonly reductionAxes: readonly number[];
  readonly outputAxes: readonly number[];
  /**
   * The shape the weight is seen as first (its entries in row-major order, as `tf.reshape`; one
   * entry may be −1, inferred), whose axes the others name: it splits an axis, e.g. the rows of a
   * 2-D output projection `[heads·headDim, dModel]` into heads, `[heads, headDim, dModel]` with
   * reduction `[1]` and output `[2]` (dion's per-head split). Default: the weight's own shape.
   */
  readonly reshape?: readonly number[];
}

/** A weight seen as `batch` matrices of `[fanIn, fanOut]` under some {@link MatrixDimensions}. */
export interface BatchedMatrixShape extends MatrixShape {
  /** How many matrices: the product of the batch axes (1 without batch axes). */
  readonly batch: number;
  /** The shape whose axes the view names: the weight's, or the `reshape` it is seen as. */
  readonly axesShape: readonly number[];
  /** The axes of `axesShape` in the order batch…, reduction…, output… (the transposition before the reshape). */
  readonly permutation: readonly number[];
}

/** `reshape` with its −1 inferred, checked to hold the weight's entries exactly. */
function resolvedReshape(shape: readonly number[], reshape: readonly number[]): number[] {
  const size = shape.reduce((p, d) => p * d, 1);
  const known = reshape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const inferred = reshape.filter((d) => d === -1).length;
  const invalid = reshape.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1)) || inferred > 1;
  const resolved = reshape.map((d) => (d === -1 && known > 0 ? size / known : d));
  if (invalid || resolved.some((d) => !Number.isInteger(d)) || resolved.reduce((p, d) => p * d, 1) !== size) {
    throw new Error(`A weight of shape [${shape.join(', ')}] (${size} entries) cannot be seen as [${reshape.join(', ')}]: positive sizes, at most one −1, the same number of entries`);
  }
  return resolved;
}

/**
 * The matrices `[batch, fanIn, fanOut]` a weight of this shape holds under `dims`. Throws, naming
 * the shape and the axes, when an axis is out of range, repeated, or when either side is empty.
 */
export function batchedMatrixShape(weightShape: readonly number[], dims: MatrixDimensions): BatchedMatrixShape {
  const shape = dims.reshape === undefined ? [...weightShape] : resolvedReshape(weightShape, dims.reshape);
  const rank = shape.length;
  const described = `reductionAxes [${dims.reductionAxes.join(', ')}], outputAxes [${dims.outputAxes.join(', ')}]`;
  const normalized = (axes: readonly number[]): number[] =>
    axes.map((axis) => {
      if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
        throw new Error(`A weight of shape [${shape.join(', ')}] has no axis ${String(axis)} (${described})`);
      }
      return axis < 0 ? axis + rank : axis;
    });
  const reduction = normalized(dims.reductionAxes);
  const output = normalized(dims.outputAxes);
  if (reduction.length === 0 || output.length === 0) {
    throw new Error(`A matrix view needs at least one reduction axis and one output axis (${described})`);
  }
  const named = [...reduction, ...output];
  if (new Set(named).size !== named.length) {
    throw new Error(`A matrix view of shape [${shape.join(', ')}] names an axis twice (${described})`);
  }
  const batchAxes = shape.map((_, axis) => axis).filter((axis) => !named.includes(axis));
  const size = (axes: readonly number[]): number => axes.reduce((p, axis) => p * (shape[axis] as number), 1);
  return { batch: size(batchAxes), fanIn: size(reduction), fanOut: size(output), axesShape: shape, permutation: [...batchAxes, ...reduction, ...output] };
}

function isIdentity(permutation: readonly number[]): boolean {
  return permutation.every((axis, i) => axis === i);
}

/** The `[batch, fanIn, fanOut]` stack of a weight's matrices (a transposition only where the batch, reduction, output order needs one). */
export function toBatchedMatrices(weight: tf.Tensor, view: BatchedMatrixShape): tf.Tensor3D {
  return tf.tidy(() => {
    const seen = tf.util.arraysEqual(weight.shape, [...view.axesShape]) ? weight : tf.reshape(weight, [...view.axesShape]);
    const ordered = isIdentity(view.permutation) ? seen : tf.transpose(seen, [...view.permutation]);
    return tf.reshape(ordered, [view.batch, view.fanIn, view.fanOut]);
  });
}

/** The weight of `shape` whose matrices are the stack `matrices` (the inverse of {@link toBatchedMatrices}). */
export function fromBatchedMatrices(matrices: tf.Tensor3D, shape: readonly number[], view: BatchedMatrixShape): tf.Tensor {
  const [batch, fanIn, fanOut] = matrices.shape;
  if (batch !== view.batch || fanIn !== view.fanIn || fanOut !== view.fanOut) {
    throw new Error(`A [${matrices.shape.join(', ')}] stack cannot be the matrices of a [${shape.join(', ')}] weight ([${view.batch}, ${view.fanIn}, ${view.fanOut}] expected)`);
  }
  return tf.tidy(() => {
    const ordered = tf.reshape(matrices, view.permutation.map((axis) => view.axesShape[axis] as number));
    const inverse = new Array<number>(view.permutation.length);
    view.permutation.forEach((axis, i) => {
      inverse[axis] = i;
    });
    return tf.reshape(isIdentity(view.permutation) ? ordered : tf.transpose(ordered, inverse), [...shape]);
  });
}

/**
 * How a matrix optimizer sees one weight: its matrices, each orthogonalized and shape-scaled on
 * its own, and a factor on the weight's joined update (1/√taps for a conv kernel orthogonalized
 * per tap, `perTapScale`; else 1).
 */
export interface MatrixView extends BatchedMatrixShape {
  readonly updateScale: number;
}

/** Whether a view of a weight of `shape` is its flattened `[fanIn, fanOut]` matrix itself: one matrix, axes in order, the last axis its columns. */
export function isFlattenedView(view: BatchedMatrixShape, shape: readonly number[]): boolean {
  return view.batch === 1 && isIdentity(view.permutation) && view.fanOut === shape.at(-1);
}
