import * as tf from '@tensorflow/tfjs-core';
import { type MatrixView, fromBatchedMatrices, isFlattenedView, toBatchedMatrices } from '../math/matrixView.js';
import type { GradientTransformation } from './gradientTransformation.js';
import { splitBlocks } from './splitBlocks.js';

/**
 * The matrix view of a parameter (`MatrixView`), or undefined to hand it to the wrapped
 * transformation whole. May throw, naming the variable (a weight no view covers).
 */
export type MatrixViewOf = (name: string, shape: readonly number[]) => MatrixView | undefined;

/**
 * Runs `inner` on the matrices of each parameter's view as if each `[fanIn, fanOut]` matrix were a
 * parameter of its own (the experts of an `[E, in, out]` weight, the taps of a conv kernel), and
 * scales the joined update by the view's `updateScale`. A view that is the flattened matrix itself
 * passes the parameter through whole. All matrices of a step reach `inner` in one call, so an
 * orthogonalizing `inner` hands them to its kernel together, and the kernel stacks same-shape
 * matrices into one batched computation where it can (`Orthogonalizer`).
 *
 * Slots shaped like the parameter are cut and joined by the view; any other slot (NorMuon's
 * `[1, fanOut]` second moment, the `[fanOut]` Newton–Schulz lower bound) is kept as the stack
 * `[batch, ...]` of the matrices' own slots.
 */
export function splitMatrices(viewOf: MatrixViewOf, inner: GradientTransformation): GradientTransformation {
  return splitBlocks((name, shape) => {
    const view = viewOf(name, shape);
    if (view === undefined || (isFlattenedView(view, shape) && view.updateScale === 1)) return undefined;
    const matrixShape = [view.fanIn, view.fanOut];
    // Tidied: splitBlocks also splits and joins outside a step's tidy (when it creates state), where
    // the stack between the weight and its matrices would otherwise outlive the call.
    return {
      split: (t) => tf.tidy(() => (tf.util.arraysEqual(t.shape, [...shape]) ? tf.unstack(toBatchedMatrices(t, view)) : tf.unstack(t))),
      join: (blocks) =>
        tf.tidy(() =>
          tf.util.arraysEqual(blocks[0]?.shape ?? [], matrixShape) ? fromBatchedMatrices(tf.stack([...blocks]) as tf.Tensor3D, shape, view) : tf.stack([...blocks]),
        ),
      updateScale: view.updateScale,
    };
  }, inner);
}
