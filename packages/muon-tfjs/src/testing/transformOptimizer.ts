import type * as tf from '@tensorflow/tfjs-core';
import { TransformOptimizer } from '../adapter/TransformOptimizer.js';
import type { GradientTransformation } from '../transforms/gradientTransformation.js';

/** A tf.Optimizer running any transformation, for tests of the adapter's own behaviour. */
export class TestOptimizer extends TransformOptimizer {
  static className = 'TestOptimizer';
  readonly #build: () => GradientTransformation;

  constructor(build: () => GradientTransformation) {
    super();
    this.#build = build;
  }

  protected override createTransformation(): GradientTransformation {
    return this.#build();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {};
  }
}
