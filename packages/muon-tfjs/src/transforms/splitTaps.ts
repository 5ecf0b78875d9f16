import * as tf from '@tensorflow/tfjs-core';
import { perTapScale, tapMatrices } from '../math/convTaps.js';
import type { GradientTransformation } from './gradientTransformation.js';
import { splitBlocks } from './splitBlocks.js';

/**
 * Runs `inner` on each spatial tap of every conv kernel `[...spatial, in, out]` (rank ≥ 3) as if
 * each `[in, out]` tap were a parameter of its own, and scales the kernel's update by 1/√taps
 * (`ConvOrthogonalization` 'perTap'). Matrices (rank 2) pass through whole. Tap t is the t-th
 * `[in, out]` slice of the kernel in row-major order of its spatial axes.
 */
export function splitTaps(inner: GradientTransformation): GradientTransformation {
  return splitBlocks((_name, shape) => {
    const tapped = tapMatrices(shape);
    if (tapped === undefined) return undefined;
    const { taps, fanIn, fanOut } = tapped;
    return {
      split: (t) => tf.unstack(tf.reshape(t, [taps, fanIn, fanOut])),
      join: (blocks) => tf.reshape(tf.stack([...blocks]), [...shape]),
      updateScale: perTapScale(taps),
    };
  }, inner);
}
