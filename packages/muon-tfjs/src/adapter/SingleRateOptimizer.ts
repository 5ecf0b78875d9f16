import { checkPositive } from '../optimizers/options.js';
import { TransformOptimizer } from './TransformOptimizer.js';

/** An optimizer with one learning rate that may be changed between steps (e.g. by a schedule). */
export abstract class SingleRateOptimizer extends TransformOptimizer {
  #learningRate: number;

  protected constructor(learningRate: number) {
    super();
    this.#learningRate = learningRate;
  }

  /** The current learning rate; assign to schedule it (it is read at every step). */
  get learningRate(): number {
    return this.#learningRate;
  }

  set learningRate(value: number) {
    checkPositive(value, 'learningRate', this.getClassName());
    this.#learningRate = value;
  }

  /** The learning rate as the transformations read it, live. */
  protected readonly currentLearningRate = (): number => this.#learningRate;
}
