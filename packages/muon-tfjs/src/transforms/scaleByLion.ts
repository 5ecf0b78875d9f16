import * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, entry, mapNames } from './gradientTransformation.js';

/** Options of {@link scaleByLion}. */
export interface ScaleByLionOptions {
  readonly beta1: number;
  readonly beta2: number;
}

/**
 * Lion's direction (Chen et al., arXiv 2302.06675, Algorithm 2): u = sign(β₁m + (1−β₁)g), then the
 * momentum is updated with the other rate, m ← β₂m + (1−β₂)g. State: `m`, the parameter's shape.
 */
export function scaleByLion({ beta1, beta2 }: ScaleByLionOptions): GradientTransformation {
  return {
    init: (_name, param) => ({ m: tf.zerosLike(param) }),
    update(grads, state) {
      const updates = mapNames(grads, (name, g) => {
        const m = entry(entry(state, name, 'state'), 'm', 'momentum');
        return tf.tidy(() => tf.sign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1))));
      });
      const next = mapNames(grads, (name, g) => {
        const m = entry(entry(state, name, 'state'), 'm', 'momentum');
        return { m: tf.tidy(() => tf.add(tf.mul(m, beta2), tf.mul(g, 1 - beta2))) };
      });
      return { updates, state: next };
    },
  };
}
