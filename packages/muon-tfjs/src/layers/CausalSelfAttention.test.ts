import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { adamw } from '../adapter/optimizers.js';
import { qkClipHook, type QKClipReport } from '../stability/qkClipHook.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { CausalSelfAttention, type CausalSelfAttentionArgs } from './CausalSelfAttention.js';
import { saveInMemory } from '../testing/saveInMemory.js';

const BATCH = 2;
const TIME = 4;
const WIDTH = 6;

/** A one-layer model around the attention, its weights set from a seed (Glorot-sized normals). */
function attentionModel(args: Omit<CausalSelfAttentionArgs, 'inputShape'>, seed: number): { model: tfl.LayersModel; layer: CausalSelfAttention } {
  const layer = new CausalSelfAttention({ ...args, inputShape: [TIME, WIDTH] });
  const model = tfl.sequential({ layers: [layer] });
  model.setWeights(model.weights.map((w, i) => tf.randomNormal(w.shape as number[], 0, 0.6, 'float32', seed + i)));
  return { model, layer };
}

/** Row-major float64 copy of a 2-D weight. */
function matrix(t: tf.Tensor): number[][] {
  return t.arraySync() as number[][];
}

/**
 * Causal multi-head attention in float64, written out from its definition: per head h (key/value
 * head g = ⌊h/(H/KV)⌋), logits q_i·k_j/√d for j ≤ i, softmax over j, Σ p_ij v_j, heads side by
 * side, times the output kernel. Returns the output and each head's maximum logit.
 */
function attention64(x: number[][][], wq: number[][], qOff: number, wk: number[][], kOff: number, wv: number[][], vOff: number, wo: number[][], heads: number, kvHeads: number, d: number): { y: number[][][]; maxLogits: number[] } {
  const dot = (a: number[], b: number[]): number => a.reduce((s, ai, i) => s + ai * (b[i] as number), 0);
  const project = (row: number[], w: number[][], offset: number): number[] => Array.from({ length: d }, (_, c) => row.reduce((s, xi, i) => s + xi * (w[i]?.[offset + c] as number), 0));
  const maxLogits = new Array<number>(heads).fill(-Infinity);
  const y = x.map((rows) => {
    const merged = rows.map(() => [] as number[]);
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / (heads / kvHeads));
      const q = rows.map((r) => project(r, wq, qOff + h * d));
      const k = rows.map((r) => project(r, wk, kOff + g * d));
      const v = rows.map((r) => project(r, wv, vOff + g * d));
      q.forEach((qi, i) => {
        const logits = k.slice(0, i + 1).map((kj) => dot(qi, kj) / Math.sqrt(d));
        maxLogits[h] = Math.max(maxLogits[h] as number, ...logits);
        const top = Math.max(...logits);
        const e = logits.map((l) => Math.exp(l - top));
        const z = e.reduce((a, b) => a + b, 0);
        for (let c = 0; c < d; c++) merged[i]?.push(e.reduce((s, p, j) => s + (p / z) * (v[j]?.[c] as number), 0));
      });
    }
    return merged.map((m) => Array.from({ length: WIDTH }, (_, o) => m.reduce((s, mi, i) => s + mi * (wo[i]?.[o] as number), 0)));
  });
  return { y, maxLogits };
}

function reference(layer: CausalSelfAttention, x: tf.Tensor3D): { y: number[][][]; maxLogits: number[] } {
  const weights = layer.getWeights().map(matrix);
  const { numHeads: h, numKeyValueHeads: kv, headDim: d } = layer;
  const xs = x.arraySync();
  if (layer.fusedQkv) {
    const [qkv, wo] = weights as [number[][], number[][]];
    return attention64(xs, qkv, 0, qkv, h * d, qkv, (h + kv) * d, wo, h, kv, d);
  }
  const [wq, wk, wv, wo] = weights as [number[][], number[][], number[][], number[][]];
  return attention64(xs, wq, 0, wk, 0, wv, 0, wo, h, kv, d);
}

function expectNear(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) expect(Math.abs((actual[i] as number) - (expected[i] as number)), `entry ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThan(tolerance);
}

const CONFIGS = [
  ['multi-head, separate kernels', { numHeads: 3 }],
  ['grouped-query (4 heads, 2 key/value heads, headDim 2), separate kernels', { numHeads: 4, numKeyValueHeads: 2, headDim: 2 }],
  ['grouped-query, fused QKV', { numHeads: 2, numKeyValueHeads: 1, fusedQkv: true }],
] as const;

describe.each(TEST_BACKENDS)('CausalSelfAttention on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(CONFIGS)('%s: output and recorded maximum logits match float64 attention', (_, args) => {
    // Values are O(1) sums of ~10 products: float32 rounding stays below 1e-5 absolute.
    const { model, layer } = attentionModel({ ...args, recordMaxLogits: true }, 3);
    const x = tf.randomNormal([BATCH, TIME, WIDTH], 0, 1, 'float32', 5) as tf.Tensor3D;
    const expected = reference(layer, x);
    const y = model.predict(x) as tf.Tensor;
    expectNear(y.dataSync(), expected.y.flat(2), 1e-5);
    const recorded = layer.takeMaxLogits() as tf.Tensor1D;
    expectNear(recorded.dataSync(), expected.maxLogits, 1e-5);
    expect(layer.takeMaxLogits()).toBeUndefined();
  });

  it('keeps the running maximum over forward passes until taken, and records nothing when off', () => {
    const { model, layer } = attentionModel({ numHeads: 3 }, 7);
    const small = tf.mul(tf.randomNormal([BATCH, TIME, WIDTH], 0, 1, 'float32', 8), 0.1) as tf.Tensor3D;
    const large = tf.mul(small, 30) as tf.Tensor3D;
    const count = tf.memory().numTensors;
    tf.dispose(model.predict(large) as tf.Tensor);
    expect(layer.takeMaxLogits()).toBeUndefined();
    expect(tf.memory().numTensors).toBe(count);
    layer.recordMaxLogits = true;
    tf.dispose(model.predict(large) as tf.Tensor);
    tf.dispose(model.predict(small) as tf.Tensor);
    // One kept [heads] tensor, and no other: recording reads nothing back.
    expect(tf.memory().numTensors).toBe(count + 1);
    expectNear((layer.takeMaxLogits() as tf.Tensor).dataSync(), reference(layer, large).maxLogits, 1e-4);
  });

  it('saves and reloads with its config (registered class)', async () => {
    const { model } = attentionModel({ numHeads: 4, numKeyValueHeads: 2, headDim: 2, fusedQkv: true }, 11);
    const saved = await saveInMemory(model);
    const copy = await tfl.loadLayersModel(tf.io.fromMemory(saved));
    const layer = copy.layers[0] as CausalSelfAttention;
    expect(layer).toBeInstanceOf(CausalSelfAttention);
    expect([layer.numHeads, layer.numKeyValueHeads, layer.headDim, layer.fusedQkv]).toEqual([4, 2, 2, true]);
    const x = tf.randomNormal([BATCH, TIME, WIDTH], 0, 1, 'float32', 12);
    expectNear((copy.predict(x) as tf.Tensor).dataSync(), (model.predict(x) as tf.Tensor).dataSync(), 1e-6);
  });

  it('refuses bad head counts by name', () => {
    expect(() => new CausalSelfAttention({ numHeads: 4, numKeyValueHeads: 3 })).toThrow(/numKeyValueHeads must be a positive divisor of numHeads \(4\), got 3/);
    expect(() => attentionModel({ numHeads: 4 }, 1)).toThrow(/width 6 must be a multiple of numHeads 4/);
  });

  it.each(CONFIGS)('%s: after a clipped step, the same batch’s recomputed logits are ≤ τ for every head', (_, args) => {
    // A step of AdamW (lr 0.05) on a loss that grows the logits, then QK-clip with S re-measured on
    // the step's input (remeasure). τ is half the largest head's maximum, so that some head
    // clips. The logits are recomputed with attentionLogits from the clipped float32 weights:
    // the clipped group's maximum is τ to float32 rounding (relative 1e-6 per factor).
    const { model, layer } = attentionModel(args, 17);
    const x = tf.randomNormal([BATCH, TIME, WIDTH], 0, 1, 'float32', 19) as tf.Tensor3D;
    const initial = Math.max(...reference(layer, x).maxLogits);
    const threshold = initial / 2;
    const optimizer = adamw({ learningRate: 0.05, weightDecay: 0 });
    const reports: QKClipReport[] = [];
    optimizer.addAfterStepHook('qkClip', qkClipHook({ targets: [layer.qkClipTarget({ remeasure: true })], threshold, onReport: (r) => reports.push(r) }));
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    optimizer.minimize(() => tf.neg(tf.mean(tf.square(model.apply(x) as tf.Tensor))) as tf.Scalar, false, variables);
    const [report] = reports;
    expect(report?.targets[0]?.eta.some((e) => e < 1)).toBe(true);
    const after = tf.max(layer.attentionLogits(x), [0, 2, 3]).arraySync() as number[];
    after.forEach((s) => expect(s).toBeLessThanOrEqual(threshold * (1 + 1e-5)));
    expect(Math.max(...after)).toBeCloseTo(threshold, 3);
  });

  it('by default clips with the maximum of the step’s own forward pass (Kimi K2, Megatron-LM)', () => {
    // S recorded in the forward pass of the step (weights before the update): η = τ/S exactly.
    const { model, layer } = attentionModel({ numHeads: 3 }, 23);
    const x = tf.randomNormal([BATCH, TIME, WIDTH], 0, 1, 'float32', 29) as tf.Tensor3D;
    const before = reference(layer, x).maxLogits;
    const threshold = Math.max(...before) / 2;
    const optimizer = adamw({ learningRate: 1e-3, weightDecay: 0 });
    const reports: QKClipReport[] = [];
    optimizer.addAfterStepHook('qkClip', qkClipHook({ targets: [layer.qkClipTarget()], threshold, onReport: (r) => reports.push(r) }));
    optimizer.minimize(() => tf.mean(tf.square(model.apply(x) as tf.Tensor)) as tf.Scalar, false, model.trainableWeights.map((w) => w.read() as tf.Variable));
    const target = reports[0]?.targets[0];
    expectNear(target?.maxLogits ?? [], before, 1e-5);
    expectNear(target?.eta ?? [], before.map((s) => (s > threshold ? threshold / s : 1)), 1e-6);
  });
});
