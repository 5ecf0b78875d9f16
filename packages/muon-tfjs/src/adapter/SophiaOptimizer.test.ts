import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { SOPHIA_TAPS } from '../transforms/scaleBySophia.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { sophiaHessianCallback } from './sophiaHessianCallback.js';
import { type HybridOptimizer, hybrid } from './HybridOptimizer.js';
import { SophiaOptimizer, sophia } from './optimizers.js';
import { saveInMemory } from '../testing/saveInMemory.js';

/**
 * float32 keeps 24 bits (6e-8 relative); a handful of operations on values ≤ 3 stays within 1e-6
 * absolute, against hand values exact to 1e-12.
 */
const FP32 = 1e-6;

function expectClose(actual: tf.Tensor, expected: number[]): void {
  const got = Array.from(actual.dataSync());
  got.forEach((x, i) => expect(Math.abs(x - (expected[i] as number)), `entry ${i}: ${x} vs ${expected[i]}`).toBeLessThan(FP32));
}

describe.each(TEST_BACKENDS)('SophiaG, on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('two steps worked by hand: the clipped ratio m/(ρ·h), the estimate fed once, decoupled decay', () => {
    // p = [1, −2, 3], g = [0.5, −1, 0.01] on both steps; β₁ = β₂ = 0.5, ρ = 0.1, ε = 1e-15, lr 0.1, wd 0.2.
    // Before step 1 the estimate ĥ = [10, 1, 100] is provided:
    //   h = 0.5·0 + 0.5·ĥ = [5, 0.5, 50];  m = 0.5·g = [0.25, −0.5, 0.005];  ρh = [0.5, 0.05, 5]
    //   m/(ρh) = [0.5, −10, 0.001] → clip to [−1, 1]: u = [0.5, −1, 0.001]
    //   p ← p·(1 − 0.1·0.2) − 0.1·u = [0.98 − 0.05, −1.96 + 0.1, 2.94 − 0.0001] = [0.93, −1.86, 2.9399]
    // Step 2, no new estimate (h kept): m = 0.5·m + 0.5·g = [0.375, −0.75, 0.0075]
    //   u = clip([0.75, −15, 0.0015]) = [0.75, −1, 0.0015]
    //   p ← p·0.98 − 0.1·u = [0.9114 − 0.075, −1.8228 + 0.1, 2.881102 − 0.00015] = [0.8364, −1.7228, 2.880952]
    const p = tf.variable(tf.tensor1d([1, -2, 3]), true, `sophia_hand_${backend}`);
    const optimizer = sophia({ learningRate: 0.1, beta1: 0.5, beta2: 0.5, rho: 0.1, weightDecay: 0.2 });
    const g = () => ({ [p.name]: tf.tensor1d([0.5, -1, 0.01]) });
    optimizer.provideStepInputs('hessianDiagonal', { [p.name]: tf.tensor1d([10, 1, 100]) });
    optimizer.applyGradients(g());
    expectClose(p, [0.93, -1.86, 2.9399]);
    optimizer.applyGradients(g());
    expectClose(p, [0.8364, -1.7228, 2.880952]);
    expectClose(optimizer.getSlot(p.name, 'hessian') as tf.Variable, [5, 0.5, 50]);
    expectClose(optimizer.getSlot(p.name, 'm') as tf.Variable, [0.375, -0.75, 0.0075]);
    optimizer.dispose();
  });

  it('before any estimate h = 0 and the step is sign(m)·lr, as in the reference', () => {
    // m = 0.035·g; m/(ρ·0 + 1e-15) is huge, clipped to ±1: p ← p − lr·sign(g) (wd 0)
    const p = tf.variable(tf.tensor1d([0, 0, 0]), true, `sophia_sign_${backend}`);
    const optimizer = sophia({ learningRate: 0.01, weightDecay: 0 });
    optimizer.applyGradients({ [p.name]: tf.tensor1d([3, -1e-3, 0]) });
    expectClose(p, [-0.01, 0.01, 0]);
    optimizer.dispose();
  });

  it('reports the fraction of unclipped entries (the reference win_rate) on a tap', () => {
    // With the hand example's first step: |u| = [0.5, 1, 0.001] → 2 of 3 unclipped.
    const p = tf.variable(tf.tensor1d([1, -2, 3]), true, `sophia_tap_${backend}`);
    const optimizer = sophia({ beta1: 0.5, beta2: 0.5, rho: 0.1 });
    const seen: number[] = [];
    optimizer.tap(SOPHIA_TAPS.unclippedFraction, ({ value }) => seen.push(value.dataSync()[0] as number));
    optimizer.provideStepInputs('hessianDiagonal', { [p.name]: tf.tensor1d([10, 1, 100]) });
    optimizer.applyGradients({ [p.name]: tf.tensor1d([0.5, -1, 0.01]) });
    expect(seen).toHaveLength(1);
    expect(Math.abs((seen[0] as number) - 2 / 3)).toBeLessThan(FP32);
    optimizer.dispose();
  });

  it('refuses a negative Hessian estimate (a step uphill) and a checkpoint whose h is negative, naming the variable', async () => {
    // With ĥ = [−10, 1, 100] the hand example's first step would give h₀ = −5, m/(ρh) = 0.25/−0.5:
    // u₀ = −0.5, a step along +g. The estimate is B·ĝ⊙ĝ ≥ 0, so a negative entry is a caller's bug.
    const p = tf.variable(tf.tensor1d([1, -2, 3]), true, `sophia_negative_${backend}`);
    const optimizer = sophia({ beta1: 0.5, beta2: 0.5, rho: 0.1 });
    const count = tf.memory().numTensors;
    expect(() => optimizer.provideStepInputs('hessianDiagonal', { [p.name]: tf.tensor1d([-10, 1, 100]) })).toThrow(
      `SophiaOptimizer.provideStepInputs('hessianDiagonal'): values of this kind are never negative, but '${p.name}' has -10`,
    );
    expect(tf.memory().numTensors).toBe(count + 1); // the caller's tensor only: nothing kept
    optimizer.provideStepInputs('hessianDiagonal', {}); // nothing to check: no estimate this time
    optimizer.provideStepInputs('hessianDiagonal', { [p.name]: tf.tensor1d([0, 1, 100]) }); // zero is an estimate
    optimizer.applyGradients({ [p.name]: tf.tensor1d([0.5, -1, 0.01]) });
    const checkpoint = (await optimizer.getWeights()).map(({ name, tensor }) =>
      name === `${p.name}/hessian` ? { name, tensor: tf.tensor1d([0, -0.5, 50]) } : { name, tensor: tensor.clone() },
    );
    const fresh = sophia({ beta1: 0.5, beta2: 0.5, rho: 0.1 });
    await expect(fresh.setWeights(checkpoint)).rejects.toThrow(new RegExp(`'${p.name}/hessian' has negative entries \\(min -0.5\\)`));
    optimizer.dispose();
    fresh.dispose();
  });

  it('joins a hybrid as the sophia kind, where the estimate reaches only its group', () => {
    const kernel = tf.variable(tf.zeros([3, 2]), true, `sophia_hybrid_kernel_${backend}`);
    const bias = tf.variable(tf.zeros([2]), true, `sophia_hybrid_bias_${backend}`);
    const optimizer = hybrid([kernel, bias], { groups: { muon: { optimizer: 'muon' }, adamw: { optimizer: 'sophia', options: { rho: 0.1, beta2: 0.5 } } } });
    optimizer.provideStepInputs('hessianDiagonal', { [kernel.name]: tf.ones([3, 2]), [bias.name]: tf.fill([2], 4) });
    optimizer.applyGradients({ [kernel.name]: tf.ones([3, 2]), [bias.name]: tf.ones([2]) });
    expectClose(optimizer.getSlot(bias.name, 'hessian') as tf.Variable, [2, 2]);
    expect(optimizer.getSlot(kernel.name, 'hessian')).toBeUndefined();
    optimizer.dispose();
  });

  it('checks its options by name and round-trips its config', () => {
    expect(() => sophia({ rho: -1 })).toThrow(/SophiaOptimizer: rho must be a finite number ≥ 0, got -1/);
    expect(() => sophia({ rho: 0, epsilon: 0 })).toThrow(/rho and epsilon are both 0/);
    expect(() => sophia({ beta1: 1 })).toThrow(/beta1 must be in \[0, 1\)/);
    expect(() => sophia({ hessianInterval: 10 } as object)).toThrow(/unknown option 'hessianInterval'/);
    const original = sophia({ learningRate: 3e-3, beta1: 0.9, beta2: 0.95, rho: 0.03, weightDecay: 0.1, epsilon: 1e-12 });
    const copy = SophiaOptimizer.fromConfig(SophiaOptimizer, { ...original.getConfig(), customObjects: {} });
    expect(copy.getConfig()).toEqual(original.getConfig());
  });

  it('a NorMuon + Sophia hybrid saves with the model (Hessian state included) and resumes bit-identically', async () => {
    const xs = tf.randomNormal([64, 6], 0, 1, 'float32', 61);
    const ys = tf.cast(tf.oneHot(tf.argMax(tf.matMul(xs, tf.randomNormal([6, 3], 0, 1, 'float32', 62)), 1), 3), 'float32');
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [6], units: 8, activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed: 63 }), name: 'hidden' }),
        tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 64 }), name: 'head' }),
      ],
    });
    const groups = { muon: { optimizer: 'normuon', options: { beta2: 0.9 } }, adamw: { optimizer: 'sophia', options: { learningRate: 3e-3, rho: 1 } } } as const;
    const optimizer = hybrid(model, { groups });
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    // 4 steps an epoch; estimates after steps 2 and 4 reach steps 3 and 5.
    const fitWithEstimates = (m: tfl.LayersModel) => m.fit(xs, ys, { epochs: 1, batchSize: 16, shuffle: false, verbose: 0, callbacks: [sophiaHessianCallback(m, m.optimizer as HybridOptimizer, { inputs: xs, every: 2 })] });
    await fitWithEstimates(model);
    const artifacts = await saveInMemory(model, { includeOptimizer: true });
    // The estimate provided after step 4 is pending: it is saved with the optimizer, and reaches step 5 of both.
    await fitWithEstimates(model);
    const expected = model.getWeights().map((w) => Array.from(w.dataSync()));
    // Saved state binds to the reloaded (renamed) variables, here once the original model is gone (while it lives too: inProcessReload.test.ts).
    model.dispose();
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    const restored = reloaded.optimizer as HybridOptimizer;
    expect(restored.groupOptions('muon')).toMatchObject({ beta2: 0.9 });
    expect(restored.groupOptions('adamw')).toMatchObject({ rho: 1 });
    await fitWithEstimates(reloaded);
    expect(reloaded.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(expected);
  });
});
