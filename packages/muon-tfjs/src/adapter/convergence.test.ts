import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { linearDecay } from '../math/schedule.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { adamw } from './AdamWOptimizer.js';
import { lion } from './LionOptimizer.js';
import { muon } from './MuonOptimizer.js';
import { muonWithAdamW } from './MuonWithAdamWOptimizer.js';
import { hybrid } from './HybridOptimizer.js';
import { normuon } from './NorMuonOptimizer.js';
import type { SingleRateOptimizer } from './SingleRateOptimizer.js';

/**
 * One convergence suite for every optimizer (the optax pattern): the same problems, each with a
 * learning rate decaying linearly to 0 (a {@link linearDecay} schedule the optimizer reads at its
 * step index), must be solved to a small fraction of the initial loss. Peak rates are each
 * optimizer's usual scale.
 */
const optimizers: Record<string, () => SingleRateOptimizer> = {
  muon: () => muon({ learningRate: 0.2 }),
  adamw: () => adamw({ learningRate: 0.1, weightDecay: 0 }),
  lion: () => lion({ learningRate: 0.1 }),
  normuon: () => normuon({ learningRate: 0.2 }),
};

/** Runs `steps` steps of `loss` over `w` with lr decaying linearly from its initial value to 0. */
function train(optimizer: SingleRateOptimizer, loss: () => tf.Scalar, w: tf.Variable, steps: number): { first: number; last: number } {
  optimizer.learningRate = linearDecay({ peak: optimizer.learningRate, steps });
  const value = () => tf.tidy(() => loss().dataSync()[0] as number);
  const first = value();
  for (let step = 0; step < steps; step++) {
    optimizer.minimize(loss, false, [w]);
  }
  return { first, last: value() };
}

describe.each(TEST_BACKENDS)('every optimizer converges, on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(Object.keys(optimizers))('%s: the quadratic ½‖W − W*‖²', (kind) => {
    const target = tf.randomNormal([6, 10], 0, 1, 'float32', 21);
    const w = tf.variable(tf.zeros([6, 10]), true, `quadratic_${kind}_${backend}`);
    const { first, last } = train((optimizers[kind] as () => SingleRateOptimizer)(), () => tf.mul(tf.sum(tf.square(tf.sub(w, target))), 0.5), w, 150);
    expect(last).toBeLessThan(1e-2 * first);
  });

  it.each(Object.keys(optimizers))('%s: matrix least squares ½·mean‖XW − Y‖²', (kind) => {
    const x = tf.randomNormal([64, 12], 0, 1, 'float32', 22);
    const y = tf.matMul(x, tf.randomNormal([12, 6], 0, 1, 'float32', 23));
    const w = tf.variable(tf.zeros([12, 6]), true, `lstsq_${kind}_${backend}`);
    const { first, last } = train((optimizers[kind] as () => SingleRateOptimizer)(), () => tf.mul(tf.mean(tf.sum(tf.square(tf.sub(tf.matMul(x, w), y)), 1)), 0.5), w, 200);
    expect(last).toBeLessThan(1e-2 * first);
  });

  it.each(['muonWithAdamW', 'normuonWithAdamW', 'adamw', 'lion'])('%s: an MLP fitted with model.fit on seeded synthetic data', async (kind) => {
    // Two Gaussian-feature classes separated by a random hyperplane through a 16-unit hidden layer.
    const xs = tf.randomNormal([256, 10], 0, 1, 'float32', 24);
    const ys = tf.cast(tf.greater(tf.matMul(xs, tf.randomNormal([10, 1], 0, 1, 'float32', 25)), 0), 'float32');
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [10], units: 16, activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed: 26 }) }),
        tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tfl.initializers.glorotUniform({ seed: 27 }) }),
      ],
    });
    const optimizer =
      kind === 'muonWithAdamW'
        ? muonWithAdamW(model, { muon: { learningRate: 0.02 }, adamw: { learningRate: 0.01 } })
        : kind === 'normuonWithAdamW'
          ? hybrid(model, { groups: { muon: { optimizer: 'normuon', options: { learningRate: 0.02 } }, adamw: { optimizer: 'adamw', options: { learningRate: 0.01 } } } })
          : kind === 'adamw'
          ? adamw({ learningRate: 0.01 })
          : lion({ learningRate: 0.003 });
    model.compile({ optimizer, loss: 'binaryCrossentropy' });
    const initial = (model.evaluate(xs, ys) as tf.Scalar).dataSync()[0] as number;
    await model.fit(xs, ys, { epochs: 20, batchSize: 32, shuffle: false, verbose: 0 });
    const final = (model.evaluate(xs, ys) as tf.Scalar).dataSync()[0] as number;
    expect(initial).toBeGreaterThan(0.5);
    expect(final).toBeLessThan(0.25 * initial);
  });
});
