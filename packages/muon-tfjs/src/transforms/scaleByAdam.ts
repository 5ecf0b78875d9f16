import * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, entry, mapNames } from './gradientTransformation.js';

/** The names of Adam's state slots: the first and second moments. */
export const ADAM_SLOTS = { firstMoment: 'm', secondMoment: 'v' } as const;

/** Adam's bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ at step t ≥ 1 (the fused step reads the same numbers). */
export function adamCorrections(beta1: number, beta2: number, step: number): { correction1: number; correction2: number } {
  return { correction1: 1 - beta1 ** step, correction2: 1 - beta2 ** step };
}

/** Options of {@link scaleByAdam}. */
export interface ScaleByAdamOptions {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
}

/**
 * Adam's direction (Kingma & Ba, arXiv 1412.6980, Algorithm 1) with bias correction:
 * m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², u = m̂ / (√v̂ + ε) with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
 * State: `m` and `v`, float32, the parameter's shape.
 */
export function scaleByAdam({ beta1, beta2, epsilon }: ScaleByAdamOptions): GradientTransformation {
  return {
    nonNegativeSlots: ['v'],
    stabilizers: [{ option: 'epsilon', value: epsilon }],
    init: (_name, param) => ({ m: tf.zerosLike(param), v: tf.zerosLike(param) }),
    update(grads, state, _params, { step }) {
      const { correction1, correction2 } = adamCorrections(beta1, beta2, step);
      const next = mapNames(grads, (name, g) => {
        const slots = entry(state, name, 'state');
        return {
          m: tf.tidy(() => tf.add(tf.mul(entry(slots, 'm', 'first moment'), beta1), tf.mul(g, 1 - beta1))),
          v: tf.tidy(() => tf.add(tf.mul(entry(slots, 'v', 'second moment'), beta2), tf.mul(tf.square(g), 1 - beta2))),
        };
      });
      const updates = mapNames(grads, (name) => {
        const { m, v } = entry(next, name, 'moments');
        return tf.tidy(() => tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), epsilon)));
      });
      return { updates, state: next };
    },
  };
}
