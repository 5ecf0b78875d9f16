import * as tf from '@tensorflow/tfjs-core';
import { HESSIAN_DIAGONAL_INPUT } from '../transforms/scaleBySophia.js';
import type { TransformOptimizer } from './TransformOptimizer.js';

/**
 * The parts of a tfjs-layers model the estimator uses (structural: no runtime dependency on
 * tfjs-layers): `predict`, the trainable weights (`read()` gives the `tf.Variable`), and, to tell
 * probabilities from logits, the layers' configs.
 */
export interface PredictingModel {
  predict(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[];
  readonly trainableWeights: readonly { read(): tf.Tensor }[];
  readonly layers?: readonly { getConfig(): object }[];
}

/** Options of {@link gaussNewtonBartlett}. */
export interface GaussNewtonBartlettOptions {
  /**
   * What the model outputs along its last axis: `probabilities` (a softmax or sigmoid output
   * layer) or `logits`. Default: `probabilities` when the last layer's activation is softmax or
   * sigmoid, else `logits`. A last axis of size 1 is a Bernoulli output (sigmoid).
   */
  readonly outputs?: 'probabilities' | 'logits';
  /** Seed of the label sampling. Default 0; the callback varies it from one estimate to the next. */
  readonly seed?: number;
  /** Clip the sampled-label gradient to this global norm first, as `train_sophiag.py` (1.0). Default 1. */
  readonly clipNorm?: number;
}

/**
 * Sophia's Gauss–Newton–Bartlett estimate of the Hessian diagonal (Liu et al., arXiv 2305.14342,
 * Algorithm 2; `train_sophiag.py`): labels ŷ are SAMPLED from the model's own output distribution
 * on `inputs`, ĝ is the gradient of the mean cross-entropy on those labels (clipped to `clipNorm`),
 * and the estimate is B·ĝ⊙ĝ with B the number of predictions averaged (rows of the output, e.g.
 * batch × time for a sequence model). Its expectation is the diagonal of the Gauss–Newton matrix,
 * and it needs no true labels. Returns one tensor per trainable variable, keyed by variable name;
 * the caller disposes them. Nothing is read back: the labels are sampled on the device
 * ({@link sampledLabels}), so on webgl and webgpu an estimate never stalls the GPU queue, and on
 * every backend the same seed draws the same labels.
 * @example
 * const estimate = gaussNewtonBartlett(model, tf.slice(xs, 0, 256), { seed: step });
 * optimizer.provideStepInputs('hessianDiagonal', estimate);
 * Object.values(estimate).forEach((t) => t.dispose());
 */
export function gaussNewtonBartlett(model: PredictingModel, inputs: tf.Tensor | tf.Tensor[], options: GaussNewtonBartlettOptions = {}): Record<string, tf.Tensor> {
  const { seed = 0, clipNorm = 1 } = options;
  const outputs = options.outputs ?? detectOutputs(model);
  if (outputs !== 'probabilities' && outputs !== 'logits') {
    throw new Error(`gaussNewtonBartlett: outputs must be 'probabilities' or 'logits', got ${JSON.stringify(outputs)}`);
  }
  if (!(clipNorm > 0)) {
    throw new Error(`gaussNewtonBartlett: clipNorm must be > 0, got ${String(clipNorm)}`);
  }
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return tf.tidy(() => {
    let rows = 0;
    const { grads } = tf.variableGrads(() => {
      const output = model.predict(inputs);
      if (Array.isArray(output)) {
        throw new Error(`gaussNewtonBartlett: the model has ${output.length} outputs; the estimator needs one`);
      }
      const logProbabilities = toLogProbabilities(output, outputs);
      rows = logProbabilities.shape[0];
      const labels = sampledLabels(logProbabilities, seed);
      return tf.neg(tf.mean(tf.sum(tf.mul(labels, logProbabilities), 1))) as tf.Scalar;
    }, variables);
    const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
    const factor = tf.minimum(1, tf.div(clipNorm, tf.maximum(norm, 1e-30)));
    const estimate: Record<string, tf.Tensor> = {};
    for (const [name, g] of Object.entries(grads)) {
      estimate[name] = tf.mul(tf.square(tf.mul(g, factor)), rows);
    }
    return estimate;
  });
}

/**
 * Computes the estimate on `inputs`, hands it to `optimizer` for its next step
 * (`provideStepInputs('hessianDiagonal', ...)`) and frees it: what a custom loop calls every k
 * steps, and what {@link sophiaHessianCallback} does in `model.fit`.
 */
export function provideHessianEstimate(optimizer: TransformOptimizer, model: PredictingModel, inputs: tf.Tensor | tf.Tensor[], options: GaussNewtonBartlettOptions = {}): void {
  const estimate = gaussNewtonBartlett(model, inputs, options);
  try {
    optimizer.provideStepInputs(HESSIAN_DIAGONAL_INPUT, estimate);
  } finally {
    Object.values(estimate).forEach((t) => t.dispose());
  }
}

/**
 * One label per row of `logProbabilities` `[rows, classes]`, drawn from the row's distribution by
 * inverse CDF, as one-hot rows `[rows, classes]`: the label is the number of cumulative
 * probabilities below a uniform draw (clamped to the last class against round-off in the CDF). It
 * stays on the device, so a step that estimates reads nothing back on webgl/webgpu; the uniform
 * draws come from tfjs-core's seeded generator, identical on every backend. The labels carry no
 * gradient, as in the reference (`Categorical(logits).sample()`): the comparison has none in
 * TF.js, so a custom gradient of zero cuts them off the differentiated graph. Not
 * `tf.multinomial`: with a seed, tfjs-backend-cpu 4.22 draws the same label for every row.
 * @example
 * const labels = sampledLabels(tf.log(tf.tensor2d([[0.8, 0.2]])), 7); // [[1, 0]] with probability 0.8
 */
export function sampledLabels(logProbabilities: tf.Tensor2D, seed: number): tf.Tensor2D {
  const [rows, classes] = logProbabilities.shape;
  const sample = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const logP = inputs[0] as tf.Tensor2D;
    const cdf = tf.cumsum(tf.exp(logP), 1);
    const draw = tf.randomUniform([rows, 1], 0, 1, 'float32', seed);
    const labels = tf.minimum(tf.sum(tf.cast(tf.less(cdf, draw), 'int32'), 1), tf.scalar(classes - 1, 'int32'));
    // Cast, not oneHot's dtype argument: tfjs-backend-wasm 4.22 writes int32 bits whatever dtype it is asked.
    return { value: tf.cast(tf.oneHot(labels, classes), 'float32'), gradFunc: () => tf.zerosLike(logP) };
  });
  return sample(logProbabilities) as tf.Tensor2D;
}

/** The output as a `[rows, classes]` matrix of log-probabilities (a Bernoulli output as 2 classes). */
function toLogProbabilities(output: tf.Tensor, outputs: 'probabilities' | 'logits'): tf.Tensor2D {
  const classes = output.shape[output.shape.length - 1] ?? 1;
  const flat = tf.reshape(output, [-1, classes]);
  if (classes === 1) {
    // Bernoulli: log(1 − p), log p; from a logit z these are −softplus(z), −softplus(−z).
    return (
      outputs === 'logits' ? tf.concat([tf.neg(tf.softplus(flat)), tf.neg(tf.softplus(tf.neg(flat)))], 1) : tf.log(tf.clipByValue(tf.concat([tf.sub(1, flat), flat], 1), 1e-7, 1))
    ) as tf.Tensor2D;
  }
  return (outputs === 'logits' ? tf.logSoftmax(flat) : tf.log(tf.clipByValue(flat, 1e-7, 1))) as tf.Tensor2D;
}

/** `probabilities` when the model's last layer ends in softmax or sigmoid, else `logits`. */
function detectOutputs(model: PredictingModel): 'probabilities' | 'logits' {
  const last = model.layers?.[model.layers.length - 1]?.getConfig() as { activation?: unknown } | undefined;
  return last?.activation === 'softmax' || last?.activation === 'sigmoid' ? 'probabilities' : 'logits';
}
