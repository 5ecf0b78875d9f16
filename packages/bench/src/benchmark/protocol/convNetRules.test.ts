import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type HybridOptimizer, linearDecay, muonWithAdamW } from 'muon-tfjs';
import { setupBackend } from '../runs/backend.js';
import { CONVNET_RULES, convNetRule, convNetRuleSpec, withWarmup } from './convNetRules.js';
import { initializeWeights, buildConvNet, CONVNET_DEFAULT } from 'muon-tfjs-tasks';

/** The routing table of a rule's optimizer on the benchmark ConvNet, by layer. */
function routing(id: string): Map<string, { label: string; matrix?: readonly number[]; matrices?: number }> {
  const model = buildConvNet(CONVNET_DEFAULT);
  const optimizer = convNetRuleSpec(convNetRule(id)).create(linearDecay({ peak: 0.02, steps: 100 }), { model, auxLearningRate: 1e-3 }) as HybridOptimizer;
  const rows = new Map(optimizer.describeRouting().filter((r) => r.variable.includes('kernel')).map((r) => [r.variable.split('/')[0] as string, r]));
  optimizer.dispose();
  model.dispose();
  return rows;
}

describe('the ConvNet rules (issue 12, item 5)', () => {
  beforeAll(() => setupBackend('cpu'));

  it('route the first conv to Muon by default and to AdamW under every other rule; the head is always AdamW', () => {
    const all = routing('muon-all-convs');
    expect([...all].map(([layer, r]) => [layer, r.label])).toEqual([['conv1', 'muon'], ['conv2', 'muon'], ['hidden', 'muon'], ['head', 'adamw']]);
    expect(all.get('conv2')?.matrix).toEqual([3 * 3 * 16, 32]);
    for (const rule of CONVNET_RULES.filter((r) => r.firstConv === 'adamw')) {
      const rows = routing(rule.id);
      expect([...rows].map(([layer, r]) => [layer, r.label]), rule.id).toEqual([['conv1', 'adamw'], ['conv2', 'muon'], ['hidden', 'muon'], ['head', 'adamw']]);
    }
  });

  it("the README's one-line form of the rule, an override by the first conv's name, routes the same way", () => {
    const model = buildConvNet(CONVNET_DEFAULT);
    const optimizer = muonWithAdamW(model, { overrides: [{ pattern: 'conv1/', to: 'adamw' }] });
    const labels = optimizer.describeRouting().filter((r) => r.variable.includes('kernel')).map((r) => [r.variable.split('/')[0], r.label]);
    expect(labels).toEqual([['conv1', 'adamw'], ['conv2', 'muon'], ['hidden', 'muon'], ['head', 'adamw']]);
    optimizer.dispose();
    model.dispose();
  });

  it('per-tap orthogonalizes conv2 as 9 [16, 32] taps and leaves the Dense kernel whole', () => {
    const rows = routing('muon-per-tap');
    expect(rows.get('conv2')).toMatchObject({ matrix: [16, 32], matrices: 9 });
    expect(rows.get('hidden')?.matrix).toEqual([7 * 7 * 32, 64]);
    expect(rows.get('hidden')?.matrices).toBeUndefined();
  });

  it('per-filter normalizes each filter of conv2: one step moves every filter by lr·s in Frobenius norm', () => {
    // A [fanIn, 1] block's polar factor is g/‖g‖ (one singular value, 1), and √max(1, 1/fanIn) = 1;
    // Newton–Schulz (jordan) maps a lone singular value 1 of the normalized block to p(1) = 0.7005
    // (3.4445 − 4.7750 + 2.0315), iterated five times; compare with that composed value.
    const model = buildConvNet(CONVNET_DEFAULT);
    initializeWeights(model, 1);
    const kernel = model.getLayer('conv2').trainableWeights[0]?.read() as tf.Variable;
    const before = kernel.clone();
    const peak = 0.05;
    const optimizer = convNetRuleSpec(convNetRule('muon-per-filter')).create(peak, { model, auxLearningRate: 1e-3 });
    const g = tf.randomNormal(kernel.shape, 0, 1, 'float32', 3);
    optimizer.applyGradients({ [kernel.name]: g });
    let p = 1;
    for (let i = 0; i < 5; i++) p = 3.4445 * p - 4.775 * p ** 3 + 2.0315 * p ** 5;
    // Decay p·(1 − lr·wd) is part of the step: remove it before measuring the update.
    const update = tf.sub(tf.mul(before, 1 - peak * 0.01), kernel);
    const norms = tf.sqrt(tf.sum(tf.square(tf.reshape(update, [144, 32])), 0)).dataSync();
    for (const norm of norms) expect(norm).toBeCloseTo(peak * p, 5);
    optimizer.dispose();
    model.dispose();
  });

  it("warm-up: Muon's rate and momentum ramp over the rule's fraction of the run, inside the same decay", () => {
    const schedule = withWarmup(linearDecay({ peak: 0.1, steps: 400 }), 0.1);
    expect(schedule).toMatchObject({ peak: 0.1, steps: 400, final: 0, warmupSteps: 40 });
    expect(() => withWarmup(0.1, 0.1)).toThrow(/withWarmup: a warm-up rule needs the run's linear decay schedule/);
    const model = buildConvNet(CONVNET_DEFAULT);
    const optimizer = convNetRuleSpec(convNetRule('muon-warmup')).create(linearDecay({ peak: 0.1, steps: 400 }), { model, auxLearningRate: 1e-3 }) as HybridOptimizer;
    expect(optimizer.learningRateScheduleOf('muon')).toMatchObject({ warmupSteps: 40 });
    expect(optimizer.groupOptions('muon')['momentum']).toMatchObject({ from: 0.85, to: 0.95, steps: 40 });
    optimizer.dispose();
    model.dispose();
  });

  it('names the rules it knows when given an unknown one', () => {
    expect(() => convNetRule('muon-svd')).toThrow(/unknown ConvNet rule 'muon-svd'; choose from muon-all-convs, muon-first-conv-adamw/);
  });
});
