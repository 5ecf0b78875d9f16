import * as tf from '@tensorflow/tfjs-core';
import { type LionOptions, type ResolvedLionOptions, lionTransformation, resolveLionOptions } from '../optimizers/lion.js';
import type { GradientTransformation } from '../transforms/gradientTransformation.js';
import { SingleRateOptimizer } from './SingleRateOptimizer.js';

/** Lion (EvoLved Sign Momentum, Chen et al. 2023) as a `tf.Optimizer`. State: `<variable>/m`. */
export class LionOptimizer extends SingleRateOptimizer {
  static className = 'LionOptimizer';
  /** The options in force, defaults filled in (the learning rate is {@link learningRate}). */
  readonly options: ResolvedLionOptions;

  constructor(options: LionOptions = {}) {
    const resolved = resolveLionOptions(options, LionOptimizer.className);
    super(resolved.learningRate);
    this.options = resolved;
  }

  protected override createTransformation(): GradientTransformation {
    return lionTransformation(this.options, this.currentLearningRate);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.options, learningRate: this.learningRateConfig };
  }
}

tf.serialization.registerClass(LionOptimizer);

/**
 * Creates a Lion optimizer.
 * @example
 * model.compile({ optimizer: lion({ learningRate: 1e-4, weightDecay: 0.1 }), loss: 'categoricalCrossentropy' });
 */
export function lion(options: LionOptions = {}): LionOptimizer {
  return new LionOptimizer(options);
}
