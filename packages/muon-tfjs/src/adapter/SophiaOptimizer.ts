import * as tf from '@tensorflow/tfjs-core';
import { type ResolvedSophiaOptions, type SophiaOptions, resolveSophiaOptions, sophiaTransformation } from '../optimizers/sophia.js';
import type { GradientTransformation } from '../transforms/gradientTransformation.js';
import { SingleRateOptimizer } from './SingleRateOptimizer.js';

/**
 * SophiaG (Liu et al. 2023) as a `tf.Optimizer`. It needs a Hessian-diagonal estimate every k
 * steps: add {@link sophiaHessianCallback} to `model.fit`, or call {@link provideHessianEstimate}
 * in a custom loop (or provide any estimate as `provideStepInputs('hessianDiagonal', ...)`).
 * Without one it takes sign-momentum steps. State: `<variable>/m`, `<variable>/hessian`.
 */
export class SophiaOptimizer extends SingleRateOptimizer {
  static className = 'SophiaOptimizer';
  /** The options in force, defaults filled in (the learning rate is {@link learningRate}). */
  readonly options: ResolvedSophiaOptions;

  constructor(options: SophiaOptions = {}) {
    const resolved = resolveSophiaOptions(options, SophiaOptimizer.className);
    super(resolved.learningRate);
    this.options = resolved;
  }

  protected override createTransformation(): GradientTransformation {
    return sophiaTransformation(this.options, this.currentLearningRate);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.options, learningRate: this.learningRateConfig };
  }
}

tf.serialization.registerClass(SophiaOptimizer);

/**
 * Creates a SophiaG optimizer.
 * @example
 * const optimizer = sophia({ learningRate: 3e-3, rho: 0.05 });
 * model.compile({ optimizer, loss: 'categoricalCrossentropy' });
 * await model.fit(xs, ys, { callbacks: [sophiaHessianCallback(model, optimizer, { inputs: tf.slice(xs, 0, 256) })] });
 */
export function sophia(options: SophiaOptions = {}): SophiaOptimizer {
  return new SophiaOptimizer(options);
}
