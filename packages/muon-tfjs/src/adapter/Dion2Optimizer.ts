import * as tf from '@tensorflow/tfjs-core';
import { fastestOrthogonalizer } from '../kernels/fastestOrthogonalizer.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { type Dion2Options, type ResolvedDion2Options, dion2Transformation, resolveDion2Options } from '../optimizers/dion2.js';
import type { GradientTransformation } from '../transforms/gradientTransformation.js';
import { SingleRateOptimizer } from './SingleRateOptimizer.js';

/**
 * Dion2 (Ahn et al., arXiv 2512.16928) as a `tf.Optimizer`: Muon that orthogonalizes only the
 * α-fraction of the momentum's rows (or columns) of largest L1 norm and keeps the rest in the
 * momentum. For matrices and conv kernels only; use `hybrid` with a `dion2` group to train a whole
 * model. State: `<variable>/momentum`.
 */
export class Dion2Optimizer extends SingleRateOptimizer {
  static className = 'Dion2Optimizer';
  /** The options in force, defaults filled in (the learning rate is {@link learningRate}). */
  readonly options: ResolvedDion2Options;
  readonly #orthogonalize: Orthogonalizer;

  constructor(options: Dion2Options = {}) {
    const resolved = resolveDion2Options(options, Dion2Optimizer.className);
    super(resolved.learningRate);
    this.options = resolved;
    this.#orthogonalize = options.orthogonalize ?? fastestOrthogonalizer();
  }

  protected override createTransformation(): GradientTransformation {
    return dion2Transformation(this.options, this.currentLearningRate, this.#orthogonalize);
  }

  override getConfig(): tf.serialization.ConfigDict {
    // The resolved schedule is not enumerable: the config holds the user's settings, and fromConfig resolves it again.
    const { schedule: _, ...settings } = this.options;
    return { ...settings, coefficients: settings.coefficients as tf.serialization.ConfigDictValue, learningRate: this.learningRateConfig };
  }
}

tf.serialization.registerClass(Dion2Optimizer);

/**
 * Creates a Dion2 optimizer for matrices and conv kernels.
 * @example
 * const opt = dion2({ learningRate: 0.02, fraction: 0.25 });
 * opt.minimize(() => loss(), false, [hiddenKernel]);
 */
export function dion2(options: Dion2Options = {}): Dion2Optimizer {
  return new Dion2Optimizer(options);
}
