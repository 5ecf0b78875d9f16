import * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, type Live, mapNames, read } from './gradientTransformation.js';

/** Turns a direction into a descent step: u ↦ −lr·u. The rate is read at every step. */
export function scaleByLearningRate(learningRate: Live<number>): GradientTransformation {
  return {
    init: () => ({}),
    update(updates) {
      const lr = read(learningRate);
      return { updates: mapNames(updates, (_, u) => tf.mul(u, -lr)), state: {} };
    },
  };
}
