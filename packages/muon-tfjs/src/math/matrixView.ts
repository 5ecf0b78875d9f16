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
}

/** A weight seen as `batch` matrices of `[fanIn, fanOut]` under some {@link MatrixDimensions}. */
export interface BatchedMatrixShape extends MatrixShape {
  /** How many matrices: the product of the batch axes (1 without batch axes). */
  readonly batch: number;
  /** The weight's axes in the order batch…, reduction…, output… (the transposition before the reshape). */
  readonly permutation: readonly number[];
}

/**
 * The matrices `[batch, fanIn, fanOut]` a weight of this shape holds under `dims`. Throws, naming
 * the shape and the axes, when an axis is out of range, repeated, or when either side is empty.
 */
export function batchedMatrixShape(shape: readonly number[], dims: MatrixDimensions): BatchedMatrixShape {
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
  return { batch: size(batchAxes), fanIn: size(reduction), fanOut: size(output), permutation: [...batchAxes, ...reduction, ...output] };
}

function isIdentity(permutation: readonly number[]): boolean {
  return permutation.every((axis, i) => axis === i);
}

/** The `[batch, fanIn, fanOut]` stack of a weight's matrices (a transposition only where the batch, reduction, output order needs one). */
export function toBatchedMatrices(weight: tf.Tensor, view: BatchedMatrixShape): tf.Tensor3D {
  return tf.tidy(() => {
    const ordered = isIdentity(view.permutation) ? weight : tf.transpose(weight, [...view.permutation]);
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
    const ordered = tf.reshape(matrices, view.permutation.map((axis) => shape[axis] as number));
    if (isIdentity(view.permutation)) return ordered;
    const inverse = new Array<number>(view.permutation.length);
    view.permutation.forEach((axis, i) => {
      inverse[axis] = i;
    });
    return tf.transpose(ordered, inverse);
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

/** Whether a view is the weight's flattened `[fanIn, fanOut]` matrix itself: one matrix, axes in order. */
export function isFlattenedView(view: BatchedMatrixShape): boolean {
  return view.batch === 1 && isIdentity(view.permutation);
}
