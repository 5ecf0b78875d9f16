import * as tf from '@tensorflow/tfjs-core';
import { matrixShape } from '../math/matrixView.js';
import { type LrAdjust, shapeScale } from '../math/shapeScale.js';
import type { GradientTransformation } from './gradientTransformation.js';
import { mapNames } from './gradientTransformation.js';

/** Multiplies each update by the shape factor of its kernel's `[fanIn, fanOut]` matrix view. */
export function scaleByShape(mode: LrAdjust): GradientTransformation {
  return {
    init: () => ({}),
    update: (updates) => ({
      updates: mapNames(updates, (_, u) => {
        const s = shapeScale(matrixShape(u.shape), mode);
        return s === 1 ? u : tf.mul(u, s);
      }),
      state: {},
    }),
  };
}
