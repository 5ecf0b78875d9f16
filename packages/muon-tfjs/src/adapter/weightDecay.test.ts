import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { addDecayedWeights } from '../transforms/addDecayedWeights.js';
import { SILENT_TAPS } from '../transforms/taps.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { adamw, lion, muon } from './optimizers.js';
import { hybrid } from './HybridOptimizer.js';
import { MuonWithAdamWOptimizer } from './MuonWithAdamWOptimizer.js';

/** float32 holds ~7 significant digits; the hand values below are exact to 1e-12 (AdamW's ε aside, 2e-8). */
const FP32 = 1e-6;

function expectClose(actual: tf.Tensor, expected: number[], tolerance = FP32): void {
  const got = Array.from(actual.dataSync());
  expect(got).toHaveLength(expected.length);
  got.forEach((x, i) => expect(Math.abs(x - (expected[i] as number)), `entry ${i}: ${x} vs ${expected[i]}`).toBeLessThan(tolerance));
}

describe.each(TEST_BACKENDS)('weight-decay variants worked by hand, on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('addDecayedWeights, cautious: decays only where u·p ≥ 0', () => {
    // u = [1, −1, 2, 0], p = [2, 2, −1, −3], wd 0.5: u·p = [2, −2, −2, 0] → mask [1, 0, 0, 1]
    //   u + 0.5·p·mask = [1 + 1, −1, 2, 0 − 1.5] = [2, −1, 2, −1.5]
    const u = tf.tensor1d([1, -1, 2, 0]);
    const p = tf.tensor1d([2, 2, -1, -3]);
    const { updates } = addDecayedWeights(0.5, { cautious: true }).update({ p: u }, {}, { p }, { step: 1, inputs: {}, taps: SILENT_TAPS });
    expectClose(updates['p'] as tf.Tensor, [2, -1, 2, -1.5]);
  });

  it('AdamW, corrected: a step at lr_t decays by lr_t²/lr_max·wd', () => {
    // p = [1, −2], g = [0.5, −1], lr_max = 0.1 (given at construction), lr_t = 0.05, wd 0.1.
    //   Adam's first step: u = g/(|g| + ε) = [1, −1] (to 2e-8)
    //   decay lr_t²/lr_max·wd = 0.0025/0.1·0.1 = 0.0025 (decoupled would be lr_t·wd = 0.005)
    //   p ← p − 0.0025·p − 0.05·u = [1 − 0.0025 − 0.05, −2 + 0.005 + 0.05] = [0.9475, −1.945]
    const p = tf.variable(tf.tensor1d([1, -2]), true, `wd_adamw_corrected_${backend}`);
    const optimizer = adamw({ learningRate: 0.1, weightDecay: 0.1, correctedWeightDecay: true });
    optimizer.learningRate = 0.05;
    optimizer.applyGradients({ [p.name]: tf.tensor1d([0.5, -1]) });
    expectClose(p, [0.9475, -1.945]);
    // At lr_t = lr_max the corrected decay is the decoupled one: step 2 (u = [1, −1] again, see
    // stepsByHand) p ← p·(1 − 0.1·0.1) − 0.1·u = [0.9475·0.99 − 0.1, −1.945·0.99 + 0.1] = [0.838025, −1.82555]
    optimizer.learningRate = 0.1;
    optimizer.applyGradients({ [p.name]: tf.tensor1d([0.5, -1]) });
    expectClose(p, [0.838025, -1.82555]);
  });

  it('Lion, cautious: no decay where the update pushes p away from 0', () => {
    // p = [1, −2, 3], g = [0.5, 1, 0], lr 0.1, wd 0.5, β₁ 0.9: u = sign(0.1·g) = [1, 1, 0]
    //   u·p = [1, −2, 0] → mask [1, 0, 1]
    //   p ← p − 0.1·(u + 0.5·p·mask) = [1 − 0.15, −2 − 0.1, 3 − 0.15] = [0.85, −2.1, 2.85]
    const p = tf.variable(tf.tensor1d([1, -2, 3]), true, `wd_lion_cautious_${backend}`);
    const optimizer = lion({ learningRate: 0.1, weightDecay: 0.5, cautiousWeightDecay: true });
    optimizer.applyGradients({ [p.name]: tf.tensor1d([0.5, 1, 0]) });
    expectClose(p, [0.85, -2.1, 2.85]);
  });

  it('Muon, corrected and cautious together', () => {
    // p = ones([2, 4]), g = [[3, 0, 0, 0], [0, −4, 0, 0]], β 0.95 Nesterov, one cubic Newton–Schulz
    // step (1.5, −0.5, 0): as in stepsByHand, X = g/5 and the odd polynomial maps ±0.6 ↦ ±0.792,
    // ±0.8 ↦ ±0.944, so O = [[0.792, 0, 0, 0], [0, −0.944, 0, 0]]; s = √2.
    //   cautious mask of s·O·p: every entry ≥ 0 except [1, 1] (−0.944·1 < 0)
    //   corrected: lr_max 0.2, lr_t 0.1, wd 0.5 → decay lr_t²/lr_max·wd = 0.01/0.2·0.5 = 0.025
    //   p[0,0] = 1 − 0.025 − 0.1·√2·0.792;  p[1,1] = 1 + 0.1·√2·0.944 (not decayed);  others 0.975
    const p = tf.variable(tf.ones([2, 4]), true, `wd_muon_both_${backend}`);
    const optimizer = muon({
      learningRate: 0.2,
      weightDecay: 0.5,
      correctedWeightDecay: true,
      cautiousWeightDecay: true,
      coefficients: [1.5, -0.5, 0],
      nsSteps: 1,
    });
    optimizer.learningRate = 0.1;
    optimizer.applyGradients({ [p.name]: tf.tensor2d([[3, 0, 0, 0], [0, -4, 0, 0]]) });
    const r = 0.1 * Math.SQRT2;
    expectClose(p, [0.975 - r * 0.792, 0.975, 0.975, 0.975, 0.975, 1 + r * 0.944, 0.975, 0.975]);
  });

  it('each group of a hybrid decays by its own variant', () => {
    // Group 'a' (AdamW, corrected, lr_max 0.1 at lr_t 0.05) takes a = [1, −2] as in the AdamW case
    // above → [0.9475, −1.945]; group 'b' (Lion, cautious) takes b = [1, −2, 3] as in the Lion case
    // → [0.85, −2.1, 2.85]. The labels route by name.
    const a = tf.variable(tf.tensor1d([1, -2]), true, `wd_hybrid_a_${backend}`);
    const b = tf.variable(tf.tensor1d([1, -2, 3]), true, `wd_hybrid_b_${backend}`);
    const optimizer = hybrid([a, b], {
      groups: {
        a: { optimizer: 'adamw', options: { learningRate: 0.1, weightDecay: 0.1, correctedWeightDecay: true } },
        b: { optimizer: 'lion', options: { learningRate: 0.1, weightDecay: 0.5, cautiousWeightDecay: true } },
      },
      label: (v) => (v.name === a.name ? 'a' : 'b'),
    });
    optimizer.setLearningRate('a', 0.05);
    optimizer.applyGradients({ [a.name]: tf.tensor1d([0.5, -1]), [b.name]: tf.tensor1d([0.5, 1, 0]) });
    expectClose(a, [0.9475, -1.945]);
    expectClose(b, [0.85, -2.1, 2.85]);
  });
});

describe('weight-decay options', () => {
  beforeAll(() => useBackend('cpu'));

  it('are refused by name when malformed', () => {
    expect(() => muon({ correctedWeightDecay: 'yes' as unknown as boolean })).toThrow(/MuonOptimizer: correctedWeightDecay must be a boolean, got yes/);
    expect(() => adamw({ cautiousWeightDecay: 1 as unknown as boolean })).toThrow(/AdamWOptimizer: cautiousWeightDecay must be a boolean/);
    expect(() => lion({ maxLearningRate: 0 })).toThrow(/LionOptimizer: maxLearningRate must be a finite number > 0, got 0/);
    expect(() => new MuonWithAdamWOptimizer({ adamw: { weightDecay: -1 } })).toThrow(/MuonWithAdamWOptimizer\.adamw: weightDecay must be a finite number ≥ 0/);
  });

  it('default to decoupled decay with lr_max = the learning rate given at construction', () => {
    expect(muon({ learningRate: 0.03 }).options).toMatchObject({ weightDecay: 0, correctedWeightDecay: false, cautiousWeightDecay: false, maxLearningRate: 0.03 });
    expect(adamw().options).toMatchObject({ weightDecay: 0.01, correctedWeightDecay: false, cautiousWeightDecay: false, maxLearningRate: 1e-3 });
  });

  it('keep lr_max through a save mid-schedule (the saved learning rate is the scheduled one)', () => {
    const original = new MuonWithAdamWOptimizer({ muon: { learningRate: 0.02, correctedWeightDecay: true }, adamw: { cautiousWeightDecay: true } });
    original.muonLearningRate = 0.005;
    const copy = new MuonWithAdamWOptimizer(original.getConfig() as object);
    expect(copy.muonLearningRate).toBe(0.005);
    expect(copy.muonOptions).toMatchObject({ correctedWeightDecay: true, maxLearningRate: 0.02 });
    expect(copy.adamwOptions).toMatchObject({ cautiousWeightDecay: true, maxLearningRate: 3e-4 });
  });
});
