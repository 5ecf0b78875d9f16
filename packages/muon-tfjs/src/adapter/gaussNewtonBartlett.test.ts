import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { gaussNewtonBartlett } from './gaussNewtonBartlett.js';
import { sophiaHessianCallback } from './sophiaHessianCallback.js';
import { sophia } from './SophiaOptimizer.js';

/** A linear softmax model z = xW, as the estimator sees a model. */
function linearModel(w: tf.Variable) {
  return { predict: (x: tf.Tensor | tf.Tensor[]) => tf.matMul(x as tf.Tensor, w), trainableWeights: [{ read: () => w }] };
}

describe.each(TEST_BACKENDS)('the Gauss–Newton–Bartlett estimate, on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('worked by hand where it does not depend on the sampled labels', () => {
    // W = 0 ([2, 2]), x = I₂ (B = 2 rows): p = [½, ½] on each row; the mean cross-entropy on labels
    // y has ∂/∂W = ½·xᵀ(P − Y), whose row i is ½(p − e_{yᵢ}) = ±[−¼, ¼] whatever yᵢ is.
    //   ĝ⊙ĝ = 1/16 everywhere, ‖ĝ‖ = ½ < clipNorm 1;  estimate = B·ĝ⊙ĝ = 2/16 = 0.125.
    // With clipNorm ¼ the gradient is halved first: 0.125/4 = 0.03125. Exact in float32.
    const w = tf.variable(tf.zeros([2, 2]), true, `gnb_hand_${backend}`);
    const x = tf.eye(2);
    expect(Array.from(gaussNewtonBartlett(linearModel(w), x, { outputs: 'logits' })[w.name]?.dataSync() ?? [])).toEqual([0.125, 0.125, 0.125, 0.125]);
    expect(Array.from(gaussNewtonBartlett(linearModel(w), x, { outputs: 'logits', clipNorm: 0.25 })[w.name]?.dataSync() ?? [])).toEqual([0.03125, 0.03125, 0.03125, 0.03125]);
  });

  it("samples from the model's own distribution: its mean is the Gauss–Newton diagonal p(1 − p)", () => {
    // One input x = 1 repeated B = 500 times, logits log[0.8, 0.2]: ĝ_j = p_j − f_j with f the
    // sampled label frequencies, so B·ĝ_j² = B(p_j − f_j)², whose mean over the sampling is
    // p_j(1 − p_j) = 0.16: the Gauss–Newton (Fisher) diagonal of the logit weights. Labels drawn
    // from anything else (e.g. uniform) would give B·0.3² = 45. Over 100 seeds each draw is
    // 0.16·χ²₁ (σ = 0.16·√2), so the mean has σ = 0.0226: |mean − 0.16| < 0.08 is 3.5σ.
    const w = tf.variable(tf.tensor2d([[Math.log(0.8), Math.log(0.2)]]), true, `gnb_mean_${backend}`);
    const x = tf.ones([500, 1]);
    let total = 0;
    for (let seed = 0; seed < 100; seed++) {
      const estimate = gaussNewtonBartlett(linearModel(w), x, { outputs: 'logits', seed });
      total += (estimate[w.name]?.dataSync()[0] as number) / 100;
      Object.values(estimate).forEach((t) => t.dispose());
    }
    expect(Math.abs(total - 0.16)).toBeLessThan(0.08);
  });

  it('reads a softmax or sigmoid output layer as probabilities; a 1-unit output as a Bernoulli', () => {
    // Sigmoid head, kernel 0, no bias, x = I₂ (B = 2 rows): p = ½ on each row, and the mean
    // Bernoulli loss on labels y has ∂/∂wᵢ = ½(½ − yᵢ) = ±¼ whatever yᵢ is: estimate 2·1/16 = 0.125.
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 1, activation: 'sigmoid', useBias: false, kernelInitializer: 'zeros' })] });
    const estimate = gaussNewtonBartlett(model, tf.eye(2));
    expect(Object.keys(estimate)).toEqual([(model.trainableWeights[0]?.read() as tf.Variable).name]);
    expect(Array.from(Object.values(estimate)[0]?.dataSync() ?? [])).toEqual([0.125, 0.125]);
  });

  it('the model.fit callback provides an estimate after every k-th step, and Sophia trains with it', async () => {
    const xs = tf.randomNormal([64, 6], 0, 1, 'float32', 51);
    const ys = tf.cast(tf.oneHot(tf.argMax(tf.matMul(xs, tf.randomNormal([6, 3], 0, 1, 'float32', 52)), 1), 3), 'float32');
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [6], units: 8, activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed: 53 }) }),
        tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 54 }) }),
      ],
    });
    const optimizer = sophia({ learningRate: 0.01, weightDecay: 0 });
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const provided: number[] = [];
    const original = optimizer.provideStepInputs.bind(optimizer);
    optimizer.provideStepInputs = (kind, tensors) => {
      provided.push(optimizer.iterations);
      original(kind, tensors);
    };
    const before = (model.evaluate(xs, ys) as tf.Scalar).dataSync()[0] as number;
    // 4 steps an epoch, 3 epochs, k = 5: estimates after steps 5 and 10.
    await model.fit(xs, ys, { epochs: 3, batchSize: 16, shuffle: false, verbose: 0, callbacks: [sophiaHessianCallback(model, optimizer, { inputs: xs, every: 5 })] });
    expect(provided).toEqual([5, 10]);
    const kernel = (model.trainableWeights[0]?.read() as tf.Variable).name;
    expect(tf.min(optimizer.getSlot(kernel, 'hessian') as tf.Variable).dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(tf.max(optimizer.getSlot(kernel, 'hessian') as tf.Variable).dataSync()[0]).toBeGreaterThan(0);
    expect((model.evaluate(xs, ys) as tf.Scalar).dataSync()[0]).toBeLessThan(before);
  });
});
