import type * as tf from '@tensorflow/tfjs-core';
import { type Scheduled, scheduleValue } from '../math/schedule.js';
import { checkLearningRate } from '../optimizers/options.js';
import { TransformOptimizer } from './TransformOptimizer.js';

/**
 * An optimizer with one learning rate: a number, changed between steps by assignment if you like,
 * or a {@link Schedule} that the optimizer reads at its own step index (`iterations`), so that it
 * works the same in `model.fit`, in a custom loop and after a checkpoint is restored.
 */
export abstract class SingleRateOptimizer extends TransformOptimizer {
  #learningRate: Scheduled;

  protected constructor(learningRate: Scheduled) {
    super();
    this.#learningRate = learningRate;
  }

  /** The learning rate the next step will use (a schedule's value at the current step index). */
  get learningRate(): number {
    return scheduleValue(this.#learningRate, this.iterations);
  }

  /** Sets a number (e.g. from a hand-written schedule, read at every step) or a {@link Schedule}. */
  set learningRate(value: Scheduled) {
    this.#learningRate = checkLearningRate(value, 'learningRate', this.getClassName());
  }

  /** The learning rate as given: a number or a schedule (what `getConfig()` saves). */
  get learningRateSchedule(): Scheduled {
    return this.#learningRate;
  }

  /** The learning rate in the form a config saves it. */
  protected get learningRateConfig(): tf.serialization.ConfigDictValue {
    return this.#learningRate as tf.serialization.ConfigDictValue;
  }
}
