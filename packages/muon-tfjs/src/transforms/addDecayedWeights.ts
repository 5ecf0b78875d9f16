import * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, type StepContext, entry, mapNames } from './gradientTransformation.js';

/** Options of {@link addDecayedWeights}. */
export interface DecayedWeightsOptions {
  /**
   * Cautious weight decay (Chen et al., arXiv 2510.12402; modded-nanogpt PR #154): decay only the
   * entries where the update u and the parameter p agree in sign (u·p ≥ 0), i.e. where the step
   * already moves p towards 0. Entries the update pushes away from 0 are left to the update, so
   * the decay never fights the gradient. Default false.
   */
  readonly cautious?: boolean;
}

/**
 * Decoupled weight decay (Loshchilov & Hutter, arXiv 1711.05101): adds wd·p to the update before
 * the learning rate scales it, so that the step is p ← p − lr·(u + wd·p) = p·(1 − lr·wd) − lr·u,
 * the rule of torch.optim.Muon/AdamW, Moonlight eq. 3 and Lion. The decay uses the unadjusted lr:
 * it is not multiplied by Muon's shape scale. With `cautious`, the term is wd·p·[u·p ≥ 0]
 * (modded-nanogpt: `mask = (v * p) >= 0`).
 *
 * `weightDecay` may depend on the step (a function of its context): corrected weight decay
 * schedules it with the learning rate (see `weightDecayTransformation`).
 */
export function addDecayedWeights(weightDecay: number | ((context: StepContext) => number), options: DecayedWeightsOptions = {}): GradientTransformation {
  const cautious = options.cautious ?? false;
  return {
    init: () => ({}),
    update(updates, _state, params, context) {
      const wd = typeof weightDecay === 'number' ? weightDecay : weightDecay(context);
      if (wd === 0) return { updates, state: {} };
      return {
        updates: mapNames(updates, (name, u) =>
          tf.tidy(() => {
            const p = entry(params, name, 'parameter');
            const decay = cautious ? tf.mul(p, tf.cast(tf.greaterEqual(tf.mul(u, p), 0), 'float32')) : p;
            return tf.add(u, tf.mul(decay, wd));
          }),
        ),
        state: {},
      };
    },
  };
}
