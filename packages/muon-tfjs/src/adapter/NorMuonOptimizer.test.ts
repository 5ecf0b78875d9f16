import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { hybrid } from './HybridOptimizer.js';
import { NorMuonOptimizer, normuon } from './optimizers.js';

/** float32 holds ~7 significant digits; the hand values below are exact to 1e-12. */
const FP32 = 1e-6;

describe.each(TEST_BACKENDS)('NorMuon, on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('one step worked by hand (the Muon hand example, then the per-neuron normalization)', () => {
    // As Muon's hand example (stepsByHand.test.ts): p = ones([2, 4]), g = [[3, 0, 0, 0], [0, 4, 0, 0]],
    // one cubic Newton–Schulz step gives O = [[0.792, 0, 0, 0], [0, 0.944, 0, 0]].
    // Per-neuron second moment, β₂ = 0.5: mean over fanIn of O⊙O = [0.792²/2, 0.944²/2, 0, 0],
    //   v = [0.792²/4, 0.944²/4, 0, 0], √v = [0.396, 0.472, 0, 0] → Ô = [[2, 0, 0, 0], [0, 2, 0, 0]]
    //   (a zero column stays 0/(0 + ε) = 0); ‖Ô‖_F = 2√2, ‖O‖_F = √(0.792² + 0.944²), so both
    //   entries become √((0.792² + 0.944²)/2) = √0.7592.
    // Shape scale √max(1, 4/2) = √2, lr 0.1, wd 0.5: p ← 0.95 − 0.1·√2·√0.7592 there, 0.95 elsewhere.
    const p = tf.variable(tf.ones([2, 4]), true, `normuon_hand_${backend}`);
    const optimizer = normuon({ learningRate: 0.1, weightDecay: 0.5, coefficients: [1.5, -0.5, 0], nsSteps: 1, beta2: 0.5 });
    optimizer.applyGradients({ [p.name]: tf.tensor2d([[3, 0, 0, 0], [0, 4, 0, 0]]) });
    const moved = 0.95 - 0.1 * Math.SQRT2 * Math.sqrt(0.7592);
    Array.from(p.dataSync()).forEach((x, i) => expect(Math.abs(x - (i === 0 || i === 5 ? moved : 0.95)), `entry ${i}`).toBeLessThan(FP32));
    const v = Array.from((optimizer.getSlot(p.name, 'neuronSecondMoment') as tf.Variable).dataSync());
    [0.792 ** 2 / 4, 0.944 ** 2 / 4, 0, 0].forEach((x, i) => expect(Math.abs((v[i] as number) - x)).toBeLessThan(FP32));
    optimizer.dispose();
  });

  it("the paper's scaling is lrAdjust 'matchAdamW': the update's RMS is 0.2·lr when O is orthogonal", () => {
    // Paper (Algorithm 1): η̂ = 0.2·η·√(mn)/‖Ô‖_F, i.e. an update of RMS 0.2·η. Ours keeps ‖Ô‖_F = ‖O‖_F
    // = √min(m, n) for a semi-orthogonal O (polarExpress8 converges to it to float32 rounding), then
    // scales by 0.2·√max(m, n): RMS = 0.2·η·√(max·min)/√(mn) = 0.2·η. Tolerance 1e-4: the
    // distance of polarExpress8's output from orthogonal in float32 (< 1e-5) and sums of 32 squares.
    const p = tf.variable(tf.zeros([8, 4]), true, `normuon_paper_${backend}`);
    const optimizer = normuon({ learningRate: 0.01, lrAdjust: 'matchAdamW', coefficients: 'polarExpress8' });
    optimizer.applyGradients({ [p.name]: tf.randomNormal([8, 4], 0, 1, 'float32', 42) });
    const rms = Math.sqrt(tf.mean(tf.square(p)).dataSync()[0] as number);
    expect(Math.abs(rms / 0.01 - 0.2)).toBeLessThan(1e-4);
    optimizer.dispose();
  });

  it('joins a hybrid as the normuon kind, refuses vectors there, and round-trips its config', () => {
    const kernel = tf.variable(tf.zeros([4, 3]), true, `normuon_hybrid_kernel_${backend}`);
    const bias = tf.variable(tf.zeros([3]), true, `normuon_hybrid_bias_${backend}`);
    const optimizer = hybrid([kernel, bias], { groups: { muon: { optimizer: 'normuon', options: { beta2: 0.9 } }, adamw: { optimizer: 'adamw' } } });
    expect(optimizer.describeRouting().map((r) => [r.label, r.optimizer])).toEqual([['muon', 'normuon'], ['adamw', 'adamw']]);
    optimizer.applyGradients({ [kernel.name]: tf.ones([4, 3]), [bias.name]: tf.ones([3]) });
    expect(optimizer.getSlot(kernel.name, 'neuronSecondMoment')?.shape).toEqual([1, 3]);
    expect(() => hybrid([bias], { groups: { muon: { optimizer: 'normuon' } }, label: () => 'muon' })).toThrow(/NorMuon needs rank ≥ 2/);
    expect(() => normuon({ beta2: 1 })).toThrow(/NorMuonOptimizer: beta2 must be in \[0, 1\), got 1/);
    expect(() => normuon({ epsilon: -1 })).toThrow(/NorMuonOptimizer: epsilon must be a finite number > 0/);
    const original = normuon({ learningRate: 0.03, beta2: 0.9, epsilon: 1e-8, weightDecay: 0.1 });
    const copy = NorMuonOptimizer.fromConfig(NorMuonOptimizer, { ...original.getConfig(), customObjects: {} });
    expect(copy.getConfig()).toEqual(original.getConfig());
    optimizer.dispose();
  });
});
