import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { countSyncReads } from '../testing/syncReadCounter.js';
import { WEBGPU_MISSING, reportWebGpuSkipped } from '../testing/webgpuBackend.js';
import { gaussNewtonBartlett, sampledLabels } from './gaussNewtonBartlett.js';
import { sophiaHessianCallback } from './sophiaHessianCallback.js';
import { muonWithAdamW } from './MuonWithAdamWOptimizer.js';
import { sophia } from './optimizers.js';

/** A linear softmax model z = xW, as the estimator sees a model. */
function linearModel(w: tf.Variable) {
  return { predict: (x: tf.Tensor | tf.Tensor[]) => tf.matMul(x as tf.Tensor, w), trainableWeights: [{ read: () => w }] };
}

describe.each(TEST_BACKENDS)('the Gauss–Newton–Bartlett estimate, on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('the callback refuses, when made, an optimizer that reads no Hessian estimate', () => {
    const w = tf.variable(tf.zeros([2, 2]), true, `gnb_refused_${backend}`);
    expect(() => sophiaHessianCallback(linearModel(w), muonWithAdamW([w]), { inputs: tf.eye(2) })).toThrow(
      "sophiaHessianCallback: MuonWithAdamWOptimizer reads no 'hessianDiagonal' input (it reads none); use a Sophia optimizer or a hybrid with a sophia group",
    );
  });

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

describe.each(TEST_BACKENDS)('sampledLabels on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('draws each row from its own distribution: frequencies against the exact probabilities (χ²)', async () => {
    // 4000 rows of p = [0.5, 0.3, 0.15, 0.05], then 4000 rows of the reverse order. Per half,
    // Σ (count − Np)²/(Np) follows χ² with 3 degrees of freedom: 16.27 is its 0.999 quantile (a
    // correct sampler fails one seed in a thousand; a fixed seed makes the outcome deterministic).
    const p = [0.5, 0.3, 0.15, 0.05];
    const rows = 4000;
    const logP = tf.log(tf.concat([tf.tile(tf.tensor2d([p]), [rows, 1]), tf.tile(tf.tensor2d([[...p].reverse()]), [rows, 1])])) as tf.Tensor2D;
    const labels = sampledLabels(logP, 17);
    const values = await labels.data();
    expect(labels.shape).toEqual([2 * rows, 4]);
    for (const [half, probabilities] of [[0, p], [1, [...p].reverse()]] as const) {
      const counts = new Array<number>(4).fill(0);
      for (let r = half * rows; r < (half + 1) * rows; r++) {
        const row = Array.from(values.slice(r * 4, r * 4 + 4));
        expect(row.reduce((a, b) => a + b, 0), `row ${r} is one-hot`).toBe(1);
        counts[row.indexOf(1)] = (counts[row.indexOf(1)] as number) + 1;
      }
      const chiSquared = counts.reduce((sum, count, c) => sum + (count - rows * (probabilities[c] as number)) ** 2 / (rows * (probabilities[c] as number)), 0);
      expect(chiSquared, `half ${half}: counts ${counts.join(', ')}`).toBeLessThan(16.27);
    }
  });

  it('never draws a class of probability 0, and carries no gradient', () => {
    // Class 1 has p = 0 (log p = −Inf): the CDF's step at it is empty, so no draw lands there.
    const logP = tf.log(tf.tile(tf.tensor2d([[0.5, 0, 0.5]]), [500, 1])) as tf.Tensor2D;
    const counts = tf.sum(sampledLabels(logP, 3), 0).arraySync() as number[];
    expect(counts[1]).toBe(0);
    expect((counts[0] as number) + (counts[2] as number)).toBe(500);
    const gradient = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(sampledLabels(x as tf.Tensor2D, 3), x)))(tf.log(tf.tensor2d([[0.25, 0.75]])));
    // d/dx Σ y⊙x with y held fixed: y itself, one-hot.
    expect(Array.from(gradient.dataSync()).sort()).toEqual([0, 1]);
  });
});

describe('the Gauss–Newton–Bartlett estimate on webgpu', () => {
  reportWebGpuSkipped(it);

  it.runIf(WEBGPU_MISSING === undefined)('reads nothing back synchronously, draws the labels cpu draws, and gives its estimate', async () => {
    // A 2-layer softmax model from fixed arrays, built on each backend so that no tensor moves
    // between backends. The labels use the same uniform draws on both backends; a label could
    // differ only if a draw fell within float32 round-off of a CDF step (~1e-7 per row, so about
    // 1e-4 over these rows): they are compared exactly. The estimates go through float32 matmuls
    // and exps computed differently on the GPU: relative 1e-4 of the largest entry.
    const xValues = tf.randomNormal([64, 5], 0, 1, 'float32', 61).arraySync() as number[][];
    const hidden = tf.randomNormal([5, 8], 0, 0.7, 'float32', 62).arraySync() as number[][];
    const head = tf.randomNormal([8, 4], 0, 0.7, 'float32', 63).arraySync() as number[][];
    const estimateOn = async (backend: 'cpu' | 'webgpu'): Promise<{ reads: number; labels: Float32Array; estimate: Float32Array[] }> => {
      await useBackend(backend);
      const w1 = tf.variable(tf.tensor2d(hidden), true, `gnb_gpu_w1_${backend}`);
      const w2 = tf.variable(tf.tensor2d(head), true, `gnb_gpu_w2_${backend}`);
      const model = {
        predict: (x: tf.Tensor | tf.Tensor[]) => tf.matMul(tf.tanh(tf.matMul(x as tf.Tensor2D, w1)), w2),
        trainableWeights: [{ read: () => w1 }, { read: () => w2 }],
      };
      const x = tf.tensor2d(xValues);
      let estimates: Record<string, tf.Tensor>[] = [];
      let labels: tf.Tensor | undefined;
      const reads = await countSyncReads(() => {
        estimates = [5, 6, 7].map((seed) => gaussNewtonBartlett(model, x, { outputs: 'logits', seed }));
        labels = tf.tidy(() => sampledLabels(tf.logSoftmax(model.predict(x) as tf.Tensor2D) as tf.Tensor2D, 5));
      });
      const estimate = await Promise.all(estimates.flatMap((e) => [e[w1.name], e[w2.name]]).map(async (t) => (await (t as tf.Tensor).data()) as Float32Array));
      const result = { reads, labels: (await (labels as tf.Tensor).data()) as Float32Array, estimate };
      estimates.forEach((e) => Object.values(e).forEach((t) => t.dispose()));
      tf.dispose([w1, w2, x, labels as tf.Tensor]);
      return result;
    };
    const cpu = await estimateOn('cpu');
    const gpu = await estimateOn('webgpu');
    expect(gpu.reads).toBe(0);
    expect(Array.from(gpu.labels)).toEqual(Array.from(cpu.labels));
    cpu.estimate.forEach((expected, i) => {
      const scale = Math.max(...Array.from(expected, Math.abs));
      const actual = gpu.estimate[i] as Float32Array;
      expected.forEach((e, j) => expect(Math.abs((actual[j] as number) - e), `estimate ${i}[${j}]`).toBeLessThanOrEqual(1e-4 * scale));
    });
  });
});
