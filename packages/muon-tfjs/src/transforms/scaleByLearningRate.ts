import * as tf from '@tensorflow/tfjs-core';
import type { Scheduled } from '../math/schedule.js';
import { type GradientTransformation, type Live, mapNames, scheduledAt } from './gradientTransformation.js';

/**
 * Turns a direction into a descent step: u ↦ −lr·u, lr read at the step's index ({@link scheduledAt},
 * as the momentum schedule is).
 */
export function scaleByLearningRate(learningRate: Live<Scheduled>): GradientTransformation {
  return {
    init: () => ({}),
    update(updates, _state, _params, context) {
      const lr = scheduledAt(learningRate, context);
      return { updates: mapNames(updates, (_, u) => tf.mul(u, -lr)), state: {} };
    },
  };
}
