import * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation } from './gradientTransformation.js';
import { splitBlocks } from './splitBlocks.js';

/**
 * Which column blocks a parameter splits into: the widths of its blocks along the last axis
 * (fanOut of its `[fanIn, fanOut]` matrix view), summing to that axis, or undefined to keep it whole.
 */
export type ColumnBlocksOf = (name: string, shape: readonly number[]) => readonly number[] | undefined;

/**
 * Runs `inner` on column blocks of some parameters as if each block were a parameter of its own
 * (e.g. Muon on the Q, K and V blocks of a fused kernel, on each attention head's `[dModel,
 * headDim]` block, or on the four gates of an LSTM kernel `[in, 4·units]`): every block gets its
 * own orthogonalization and its own shape scale. The splits are along the last axis, so a block
 * of a conv kernel `[kh, kw, in, out]` is `[kh, kw, in, width]`: its matrix view keeps fanIn.
 */
export function splitColumns(blocksOf: ColumnBlocksOf, inner: GradientTransformation): GradientTransformation {
  return splitBlocks((name, shape) => {
    const widths = blocksOf(name, shape);
    if (widths === undefined) return undefined;
    const columns = shape[shape.length - 1] as number;
    if (shape.length < 2 || widths.some((w) => !Number.isInteger(w) || w < 1) || widths.reduce((a, b) => a + b, 0) !== columns) {
      throw new Error(`splitColumns: blocks [${widths.join(', ')}] of '${name}' must be positive integers summing to its last axis, ${columns} (shape [${shape.join(', ')}])`);
    }
    const lastAxis = shape.length - 1;
    return {
      split: (t) => tf.split(t, [...widths], lastAxis),
      join: (blocks) => tf.concat([...blocks], lastAxis),
      updateScale: 1,
    };
  }, inner);
}
