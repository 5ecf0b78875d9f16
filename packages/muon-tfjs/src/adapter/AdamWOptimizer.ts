import * as tf from '@tensorflow/tfjs-core';
import { type AdamWOptions, type ResolvedAdamWOptions, adamwTransformation, resolveAdamWOptions } from '../optimizers/adamw.js';
import type { GradientTransformation } from '../transforms/gradientTransformation.js';
import { SingleRateOptimizer } from './SingleRateOptimizer.js';

/**
 * AdamW with decoupled weight decay and bias correction as a `tf.Optimizer` (TF.js has only Adam,
 * whose L2 term would be scaled by the adaptive denominator). State: `<variable>/m`, `<variable>/v`.
 */
export class AdamWOptimizer extends SingleRateOptimizer {
  static className = 'AdamWOptimizer';
  /** The options in force, defaults filled in (the learning rate is {@link learningRate}). */
  readonly options: ResolvedAdamWOptions;

  constructor(options: AdamWOptions = {}) {
    const resolved = resolveAdamWOptions(options, AdamWOptimizer.className);
    super(resolved.learningRate);
    this.options = resolved;
  }

  protected override createTransformation(): GradientTransformation {
    return adamwTransformation(this.options, this.currentLearningRate);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.options, learningRate: this.learningRateConfig };
  }
}

tf.serialization.registerClass(AdamWOptimizer);

/**
 * Creates an AdamW optimizer.
 * @example
 * model.compile({ optimizer: adamw({ learningRate: 1e-3, weightDecay: 0.01 }), loss: 'meanSquaredError' });
 */
export function adamw(options: AdamWOptions = {}): AdamWOptimizer {
  return new AdamWOptimizer(options);
}
