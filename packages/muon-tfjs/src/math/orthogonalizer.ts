import type * as tf from '@tensorflow/tfjs-core';
import { type NewtonSchulzOptions, newtonSchulz } from './newtonSchulz.js';

/**
 * The kernel seam of Muon: orthogonalizes every matrix of one optimizer step in a single call, so
 * that a kernel can batch same-shape matrices, reuse buffers or leave TF.js for native code.
 * Each output must have its input's shape and approximate the same map as {@link newtonSchulz}
 * with the same options (an orthogonality error no worse than the plain iteration's).
 */
export type Orthogonalizer = (matrices: readonly tf.Tensor2D[], options: NewtonSchulzOptions) => tf.Tensor2D[];

/** The reference kernel: plain Newton–Schulz on each matrix in turn. */
export const newtonSchulzEach: Orthogonalizer = (matrices, options) => matrices.map((m) => newtonSchulz(m, options));
