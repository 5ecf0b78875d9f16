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
