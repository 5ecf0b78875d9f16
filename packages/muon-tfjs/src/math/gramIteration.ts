import * as tf from '@tensorflow/tfjs-core';
import { preconditionAol } from './aolPreconditioning.js';
import { normalizeFrobenius, swapLastTwo } from './newtonSchulz.js';
import type { NewtonSchulzSchedule } from './newtonSchulzSchedule.js';

/**
 * The Gram Newton–Schulz iteration under a resolved schedule (`transposed`: on XᵀX, finishing with
 * XQ). The hot path of the kernels: no checks, no resolution, no decision.
 */
export function gramIteration<T extends tf.Tensor2D | tf.Tensor3D>(g: T, schedule: NewtonSchulzSchedule, transposed: boolean): T {
  const m = g.shape[g.rank - (transposed ? 1 : 2)] as number;
  return tf.tidy(() => {
    // XXᵀ for wide X, XᵀX for tall X: always the min(rows, cols)² Gram matrix.
    const gramOf = (x: T): T => (transposed ? tf.matMul(swapLastTwo(x), x) : tf.matMul(x, swapLastTwo(x))) as T;
    // QX for wide X, XQ for tall X (Q symmetric, so XQ = (QXᵀ)ᵀ).
    const apply = (q: T, x: T): T => (transposed ? tf.matMul(x, q) : tf.matMul(q, x)) as T;
    // AOL rescales the R = XXᵀ it needs anyway; the Frobenius normalization computes R after.
    let { x, gram: r }: { x: T; gram?: T } = schedule.normalization === 'aol' ? preconditionAol(g, schedule, transposed) : { x: normalizeFrobenius(g, schedule) };
    r ??= gramOf(x);
    const identity = tf.eye(m);
    let q: T | undefined;
    for (let t = 1; t <= schedule.steps; t++) {
      const [a, b, c] = schedule.iterations[t - 1] as readonly [number, number, number];
      const z = tf.add(tf.add(tf.mul(r, b), tf.mul(tf.matMul(r, r), c)), tf.mul(identity, a)) as T;
      q = q === undefined ? z : (tf.matMul(q, z) as T);
      if (t === schedule.steps) break;
      if (schedule.restartAfter.includes(t)) {
        x = apply(q, x);
        r = gramOf(x);
        q = undefined;
      } else {
        r = tf.matMul(z, tf.matMul(r, z)) as T;
      }
    }
    return q === undefined ? x : apply(q, x);
  });
}
