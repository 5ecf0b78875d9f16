import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backends.js';
import { OPTIMIZER_TEST_BACKENDS, reportWebGpuSkipped } from '../testing/webgpuBackend.js';
import { adamw, lion, muon } from './optimizers.js';

/** float32 holds ~7 significant digits; the hand values below are exact to 1e-12. */
const FP32 = 1e-6;

async function expectClose(actual: tf.Tensor, expected: number[], tolerance = FP32): Promise<void> {
  const got = Array.from(await actual.data());
  expect(got).toHaveLength(expected.length);
  got.forEach((x, i) => expect(Math.abs(x - (expected[i] as number)), `entry ${i}: ${x} vs ${expected[i]}`).toBeLessThan(tolerance));
}

describe.each(OPTIMIZER_TEST_BACKENDS)('one step worked by hand, on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('Muon', async () => {
    // p = ones([2, 4]) (a Dense kernel: fanIn 2, fanOut 4), g = [[3, 0, 0, 0], [0, 4, 0, 0]],
    // β = 0.95, Nesterov, one cubic Newton–Schulz step (a, b, c) = (1.5, −0.5, 0), lr 0.1, wd 0.5.
    //   m = 0.95·0 + 0.05·g = [[0.15, 0, 0, 0], [0, 0.2, 0, 0]]
    //   u = 0.05·g + 0.95·m = 0.0975·g;  ‖u‖_F = 0.0975·5 = 0.4875;  X = u/‖u‖_F = [[0.6, 0…], [0, 0.8, 0…]]
    //   XXᵀ = diag(0.36, 0.64), so X ← 1.5X − 0.5·XXᵀX maps 0.6 ↦ 0.9 − 0.108 = 0.792, 0.8 ↦ 1.2 − 0.256 = 0.944
    //   s = √max(1, fanOut/fanIn) = √2
    //   p ← p·(1 − 0.1·0.5) − 0.1·√2·O: p[0,0] = 0.95 − 0.1·√2·0.792, p[1,1] = 0.95 − 0.1·√2·0.944, else 0.95
    // eps = 1e-7 perturbs X by 2e-7 relative: within FP32.
    const p = tf.variable(tf.ones([2, 4]), true, `muon_hand_${backend}`);
    const optimizer = muon({ learningRate: 0.1, weightDecay: 0.5, coefficients: [1.5, -0.5, 0], nsSteps: 1 });
    optimizer.applyGradients({ [p.name]: tf.tensor2d([[3, 0, 0, 0], [0, 4, 0, 0]]) });
    const r = 0.1 * Math.SQRT2;
    await expectClose(p, [0.95 - r * 0.792, 0.95, 0.95, 0.95, 0.95, 0.95 - r * 0.944, 0.95, 0.95]);
    await expectClose(optimizer.getSlot(p.name, 'momentum') as tf.Variable, [0.15, 0, 0, 0, 0, 0.2, 0, 0]);
  });

  it('AdamW, two steps', async () => {
    // p = [1, −2], g = [0.5, −1] twice, lr 0.1, β = (0.9, 0.999), ε = 1e-8, wd 0.1.
    // Step 1: m = 0.1g, v = 0.001g², m̂ = g, v̂ = g², u = g/(|g| + ε) = [1, −1] (to 2e-8)
    //   p ← p − 0.1·(u + 0.1p) = [1 − 0.11, −2 + 0.12] = [0.89, −1.88]
    // Step 2: m = 0.9·0.1g + 0.1g = 0.19g, m̂ = 0.19g/(1 − 0.81) = g
    //   v = (0.999·0.001 + 0.001)g² = 0.001999g², v̂ = 0.001999g²/(1 − 0.998001) = g², u = [1, −1]
    //   p ← p − 0.1·(u + 0.1p) = [0.89 − 0.1089, −1.88 + 0.1188] = [0.7811, −1.7612]
    const p = tf.variable(tf.tensor1d([1, -2]), true, `adamw_hand_${backend}`);
    const optimizer = adamw({ learningRate: 0.1, weightDecay: 0.1 });
    optimizer.applyGradients({ [p.name]: tf.tensor1d([0.5, -1]) });
    await expectClose(p, [0.89, -1.88]);
    optimizer.applyGradients({ [p.name]: tf.tensor1d([0.5, -1]) });
    await expectClose(p, [0.7811, -1.7612]);
    expect(optimizer.iterations).toBe(2);
  });

  it('Lion, two steps (the update uses β₁, the momentum β₂)', async () => {
    // p = [1, −2, 3], lr 0.1, wd 0.5, β = (0.9, 0.99).
    // Step 1, g = [0.5, −1, 0]: c = 0.1g → sign [1, −1, 0]
    //   p ← p − 0.1·(sign + 0.5p) = [1 − 0.15, −2 + 0.2, 3 − 0.15] = [0.85, −1.8, 2.85];  m = 0.01g = [0.005, −0.01, 0]
    // Step 2, g = [−0.5, 1, 0]: c = 0.9m + 0.1g = [−0.0455, 0.091, 0] → sign [−1, 1, 0]
    //   p ← [0.85 − 0.1·(−1 + 0.425), −1.8 − 0.1·(1 − 0.9), 2.85 − 0.1·1.425] = [0.9075, −1.81, 2.7075]
    //   m = 0.99m + 0.01g = [0.00495 − 0.005, −0.0099 + 0.01, 0] = [−0.00005, 0.0001, 0]
    const p = tf.variable(tf.tensor1d([1, -2, 3]), true, `lion_hand_${backend}`);
    const optimizer = lion({ learningRate: 0.1, weightDecay: 0.5 });
    optimizer.applyGradients({ [p.name]: tf.tensor1d([0.5, -1, 0]) });
    await expectClose(p, [0.85, -1.8, 2.85]);
    optimizer.applyGradients([{ name: p.name, tensor: tf.tensor1d([-0.5, 1, 0]) }]);
    await expectClose(p, [0.9075, -1.81, 2.7075]);
    await expectClose(optimizer.getSlot(p.name, 'm') as tf.Variable, [-0.00005, 0.0001, 0], 1e-9);
  });
});

reportWebGpuSkipped(it);
