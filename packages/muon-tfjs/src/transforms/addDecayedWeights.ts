import * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, entry, mapNames } from './gradientTransformation.js';

/**
 * Decoupled weight decay (Loshchilov & Hutter, arXiv 1711.05101): adds wd·p to the update before
 * the learning rate scales it, so that the step is p ← p − lr·(u + wd·p) = p·(1 − lr·wd) − lr·u,
 * the rule of torch.optim.Muon/AdamW, Moonlight eq. 3 and Lion. The decay uses the unadjusted lr:
 * it is not multiplied by Muon's shape scale.
 */
export function addDecayedWeights(weightDecay: number): GradientTransformation {
  return {
    init: () => ({}),
    update: (updates, _state, params) => ({
      updates: weightDecay === 0 ? updates : mapNames(updates, (name, u) => tf.tidy(() => tf.add(u, tf.mul(entry(params, name, 'parameter'), weightDecay)))),
      state: {},
    }),
  };
}
