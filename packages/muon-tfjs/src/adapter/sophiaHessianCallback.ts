import type * as tf from '@tensorflow/tfjs-core';
import { SOPHIA_HESSIAN_INTERVAL } from '../optimizers/sophia.js';
import { HESSIAN_DIAGONAL_INPUT } from '../transforms/scaleBySophia.js';
import { type GaussNewtonBartlettOptions, type PredictingModel, provideHessianEstimate } from './gaussNewtonBartlett.js';
import type { TransformOptimizer } from './TransformOptimizer.js';

/** Options of {@link sophiaHessianCallback}. */
export interface SophiaHessianCallbackOptions extends Omit<GaussNewtonBartlettOptions, 'seed'> {
  /**
   * The inputs to estimate on (no labels needed: they are sampled), or a function returning a
   * fresh batch each time (the reference uses the next training batch); the callback disposes
   * nothing it did not create.
   */
  readonly inputs: tf.Tensor | tf.Tensor[] | (() => tf.Tensor | tf.Tensor[]);
  /** k: estimate after every k-th optimizer step. Default 10 (the reference's `hess_interval`). */
  readonly every?: number;
  /** Seed of the first estimate's label sampling; the i-th estimate uses seed + i. Default 0. */
  readonly seed?: number;
}

/** The callback object `model.fit` accepts (tfjs-layers' `CustomCallbackArgs`, structurally). */
export interface BatchEndCallback {
  onBatchEnd(batch: number, logs?: unknown): Promise<void>;
}

/**
 * A `model.fit` callback that feeds Sophia its Gauss–Newton–Bartlett Hessian estimate: after every
 * k-th step (optimizer `iterations` a multiple of k, i.e. `iter_num % k == k − 1` in
 * `train_sophiag.py`) it estimates on `inputs` and provides the estimate for the next step. Works
 * with a `SophiaOptimizer` and with a hybrid that has a `sophia` group (other groups ignore it).
 * @example
 * const optimizer = sophia({ learningRate: 3e-3 });
 * model.compile({ optimizer, loss: 'categoricalCrossentropy' });
 * await model.fit(xs, ys, { epochs: 5, callbacks: [sophiaHessianCallback(model, optimizer, { inputs: tf.slice(xs, 0, 256), every: 10 })] });
 */
export function sophiaHessianCallback(model: PredictingModel, optimizer: TransformOptimizer, options: SophiaHessianCallbackOptions): BatchEndCallback {
  const { inputs, every = SOPHIA_HESSIAN_INTERVAL, seed = 0, ...estimator } = options;
  if (!Number.isInteger(every) || every < 1) {
    throw new Error(`sophiaHessianCallback: every must be an integer ≥ 1, got ${String(every)}`);
  }
  // Refused now rather than at the first estimate, k steps into training.
  const reads = optimizer.stepInputKinds;
  if (!reads.includes(HESSIAN_DIAGONAL_INPUT)) {
    throw new Error(
      `sophiaHessianCallback: ${optimizer.getClassName()} reads no '${HESSIAN_DIAGONAL_INPUT}' input (it reads ${reads.length === 0 ? 'none' : reads.map((k) => `'${k}'`).join(', ')}); use a Sophia optimizer or a hybrid with a sophia group`,
    );
  }
  let estimates = 0;
  return {
    async onBatchEnd() {
      if (optimizer.iterations === 0 || optimizer.iterations % every !== 0) return;
      const batch = typeof inputs === 'function' ? inputs() : inputs;
      provideHessianEstimate(optimizer, model, batch, { ...estimator, seed: seed + estimates });
      estimates += 1;
    },
  };
}
