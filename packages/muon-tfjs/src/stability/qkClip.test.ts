import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { adamw } from '../adapter/optimizers.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { countSyncReads } from '../testing/syncReadCounter.js';
import { WEBGPU_MISSING, reportWebGpuSkipped } from '../testing/webgpuBackend.js';
import { qkClip, qkClipValues, qkClipValuesOnDevice } from './qkClip.js';
import { qkClipFactors, qkClipFactorsOnDevice } from './qkClipFactors.js';
import { type QKClipReport, qkClipHook } from './qkClipHook.js';

/** The values below are products of powers of 2 and of √2-free factors: float32 holds them to 1e-7. */
const FP32 = 1e-6;

let counter = 0;
function variable(values: number[][]): tf.Variable {
  counter += 1;
  return tf.variable(tf.tensor2d(values), true, `qk${counter}`);
}

/** A [rows, columns] matrix of ones, scaled column by column. */
function columnsScaled(rows: number, scales: number[]): number[][] {
  return Array.from({ length: rows }, () => [...scales]);
}

function expectMatrix(actual: tf.Tensor, expected: number[][]): void {
  const got = actual.arraySync() as number[][];
  expected.forEach((row, i) => row.forEach((x, j) => expect(Math.abs((got[i]?.[j] as number) - x), `[${i}, ${j}]: ${got[i]?.[j]} vs ${x}`).toBeLessThan(FP32)));
}

/**
 * Per-head maximum of the causal logits q·k/√d in float64, for x [time, dModel] and the layout
 * of the tests: head h's query columns [qOffset + h·d, +d) and its group's key columns.
 */
function maxLogits64(x: number[][], wq: number[][], qOffset: number, wk: number[][], kOffset: number, heads: number, kvHeads: number, d: number): number[] {
  const project = (w: number[][], col: number): number[] => x.map((row) => row.reduce((s, xi, i) => s + xi * (w[i]?.[col] as number), 0));
  const result: number[] = [];
  for (let h = 0; h < heads; h++) {
    const g = Math.floor(h / (heads / kvHeads));
    const q = Array.from({ length: d }, (_, c) => project(wq, qOffset + h * d + c));
    const k = Array.from({ length: d }, (_, c) => project(wk, kOffset + g * d + c));
    let best = -Infinity;
    for (let i = 0; i < x.length; i++) {
      for (let j = 0; j <= i; j++) {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += (q[c]?.[i] as number) * (k[c]?.[j] as number);
        best = Math.max(best, dot / Math.sqrt(d));
      }
    }
    result.push(best);
  }
  return result;
}

describe('qkClipFactors', () => {
  it('clips each head above τ to τ, per key/value group', () => {
    // MHA, τ 100: 50 → 1; 200 → 100/200; 100 is not above τ → 1; 400 → 100/400.
    expect(qkClipFactors([50, 200, 100, 400], 100)).toEqual([1, 0.5, 1, 0.25]);
    // GQA with 2 groups of 2 heads: group maxima 200 and 400.
    expect(qkClipFactors([50, 200, 400, 80], 100, 2)).toEqual([0.5, 0.5, 0.25, 0.25]);
    // MQA: one group, the largest logit decides for every head.
    expect(qkClipFactors([50, 200, 400, 80], 100, 1)).toEqual([0.25, 0.25, 0.25, 0.25]);
    // Negative maxima never clip.
    expect(qkClipFactors([-500, 0], 100)).toEqual([1, 1]);
  });

  it('refuses a non-finite logit, a bad τ and a group count that does not divide the heads', () => {
    expect(() => qkClipFactors([1, Number.NaN], 100)).toThrow(/maxLogits\[1\] is NaN/);
    expect(() => qkClipFactors([1, 2], 0)).toThrow(/threshold must be a finite number > 0, got 0/);
    expect(() => qkClipFactors([1, 2, 3], 100, 2)).toThrow(/kvHeads must be a positive divisor of the 3 query heads, got 2/);
  });
});

describe.each(TEST_BACKENDS)('qkClip on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('separate query and key kernels: only the clipped head’s column blocks, by η^α and η^(1−α)', () => {
    // dModel 2, 2 heads of headDim 2; S = [400, 50], τ 100 → η = [0.25, 1].
    // α = 0.5: head 0's query and key columns 0, 1 × 0.25^0.5 = 0.5; head 1 untouched.
    const query = variable(columnsScaled(2, [1, 1, 1, 1]));
    const key = variable(columnsScaled(2, [2, 2, 2, 2]));
    expect(qkClip({ query, key, heads: 2, maxLogits: [400, 50] })).toEqual([0.25, 1]);
    expectMatrix(query, columnsScaled(2, [0.5, 0.5, 1, 1]));
    expectMatrix(key, columnsScaled(2, [1, 1, 2, 2]));
    // α = 1 puts the whole factor on the query: S = [50, 800] → η = [1, 0.125]; the key stays.
    expect(qkClip({ query, key, heads: 2, maxLogits: tf.tensor1d([50, 800]), alpha: 1 })).toEqual([1, 0.125]);
    expectMatrix(query, columnsScaled(2, [0.5, 0.5, 0.125, 0.125]));
    expectMatrix(key, columnsScaled(2, [1, 1, 2, 2]));
  });

  it('a fused QKV kernel with grouped-query heads: one η per group, V untouched', () => {
    // 2 query heads sharing 1 key/value head, headDim 2: columns Q0 Q0 Q1 Q1 | K K | V V.
    // S = [50, 400] → the group's max 400 → η = 0.25 for both heads; α 0.5: Q and K × 0.5.
    const qkv = variable(columnsScaled(3, [1, 1, 1, 1, 4, 4, 3, 3]));
    expect(qkClip({ query: qkv, heads: 2, kvHeads: 1, maxLogits: [50, 400], threshold: 100 })).toEqual([0.25, 0.25]);
    expectMatrix(qkv, columnsScaled(3, [0.5, 0.5, 0.5, 0.5, 2, 2, 3, 3]));
  });

  it('MLA-style declared components: non-rotary parts √η each, the rotary query η, the rest untouched', () => {
    // 2 heads; the query up-projection holds per head [nope (2) | rope (1)] (stride 3), the key/value
    // up-projection per head [k nope (2) | v (2)] (stride 4); the shared rotary key is not declared.
    // S = [400, 50], τ 100 → η = [0.25, 1]: head 0's q nope and k nope × 0.5, its q rope × 0.25.
    const qb = variable(columnsScaled(2, [1, 1, 1, 1, 1, 1]));
    const kvb = variable(columnsScaled(2, [1, 1, 1, 1, 1, 1, 1, 1]));
    const eta = qkClip({
      heads: 2,
      maxLogits: [400, 50],
      components: [
        { variable: qb, part: 'query', blocks: 2, width: 2, stride: 3 },
        { variable: qb, part: 'rotaryQuery', blocks: 2, width: 1, offset: 2, stride: 3 },
        { variable: kvb, part: 'key', blocks: 2, width: 2, stride: 4 },
      ],
    });
    expect(eta).toEqual([0.25, 1]);
    expectMatrix(qb, columnsScaled(2, [0.5, 0.5, 0.25, 1, 1, 1]));
    expectMatrix(kvb, columnsScaled(2, [0.5, 0.5, 1, 1, 1, 1, 1, 1]));
  });

  it('changes nothing and allocates nothing when no head exceeds τ', () => {
    const query = variable(columnsScaled(2, [1, 1]));
    const key = variable(columnsScaled(2, [1, 1]));
    const count = tf.memory().numTensors;
    expect(qkClipValues({ query, key, heads: 1, maxLogits: [100] })).toEqual({ eta: [1], values: [] });
    expect(tf.memory().numTensors).toBe(count);
  });

  it.each([
    ['MHA, separate kernels', 4, 4, false],
    ['GQA, separate kernels', 4, 2, false],
    ['GQA, fused QKV', 4, 2, true],
    ['MQA, fused QKV', 4, 1, true],
  ] as const)('%s: after the clip, the same batch’s logits are ≤ τ for every head (float64 recomputation)', (_, heads, kvHeads, fused) => {
    // Random weights and inputs (seeded); τ is set below the largest head's maximum so that some
    // heads clip and others not. The logits are recomputed from the clipped float32 weights in
    // float64: a clipped group's maximum is τ up to float32 rounding of the weights (relative
    // 1e-6 per factor), so ≤ τ·(1 + 1e-5).
    const dModel = 6;
    const d = 3;
    const time = 5;
    const x = tf.randomNormal([time, dModel], 0, 1, 'float32', 7).arraySync() as number[][];
    const qCols = heads * d;
    const kCols = kvHeads * d;
    const kernels = fused
      ? { qkv: tf.variable(tf.randomNormal([dModel, qCols + 2 * kCols], 0, 1, 'float32', 11)) }
      : { q: tf.variable(tf.randomNormal([dModel, qCols], 0, 1, 'float32', 11)), k: tf.variable(tf.randomNormal([dModel, kCols], 0, 1, 'float32', 13)) };
    const measure = (): number[] => {
      const wq = (kernels.qkv ?? kernels.q)?.arraySync() as number[][];
      const wk = (kernels.qkv ?? kernels.k)?.arraySync() as number[][];
      return maxLogits64(x, wq, 0, wk, fused ? qCols : 0, heads, kvHeads, d);
    };
    const before = measure();
    const threshold = Math.max(...before) * 0.6;
    const layout = kernels.qkv !== undefined ? { query: kernels.qkv } : { query: kernels.q as tf.Variable, key: kernels.k as tf.Variable };
    const eta = qkClip({ ...layout, heads, kvHeads, maxLogits: before, threshold });
    expect(eta.some((e) => e < 1)).toBe(true);
    const after = measure();
    after.forEach((s, h) => {
      expect(s).toBeLessThanOrEqual(threshold * (1 + 1e-5));
      // Each head's logits scale by exactly its η (the logit is bilinear in W_q,h and W_k,g).
      expect(Math.abs(s - (eta[h] as number) * (before[h] as number))).toBeLessThan(1e-5 * Math.abs(before[h] as number) + 1e-9);
    });
    // The group holding the largest logit lands on τ.
    expect(Math.max(...after)).toBeCloseTo(threshold, 3);
  });

  it('names the variable and the shape at fault', () => {
    const query = variable(columnsScaled(2, [1, 1, 1]));
    const key = variable(columnsScaled(2, [1, 1, 1, 1]));
    expect(() => qkClip({ query, key, heads: 2, maxLogits: [1, 1] })).toThrow(new RegExp(`'${query.name}' \\(query\\): width must be a positive integer, got 1.5`));
    expect(() => qkClip({ query: key, key, heads: 2, maxLogits: [1] })).toThrow(/maxLogits must hold one value per query head \(2\), got length 1/);
    expect(() => qkClip({ query: key, key, heads: 2, maxLogits: tf.ones([1, 2]) })).toThrow(/got a tensor of shape \[1, 2\]/);
    expect(() => qkClip({ query: key, key, heads: 2, maxLogits: [1, 1], alpha: 2 })).toThrow(/alpha must be in \[0, 1\], got 2/);
    expect(() => qkClip({ heads: 2, maxLogits: [1, 1] })).toThrow(/no weights to clip/);
  });
});

describe.each(TEST_BACKENDS)('qkClipHook on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('clips after the step, reports S and η, and is all-or-nothing across layers', () => {
    // AdamW with lr 0.5 moves every weight by −0.5·sign(g) = −0.5 on its first step (g = 1, wd 0):
    // 1 → 0.5 and 2 → 1.5. Then layer 'a' (S = [400, 50], τ 100) clips head 0 by √0.25 = 0.5.
    const query = variable(columnsScaled(1, [1, 1]));
    const key = variable(columnsScaled(1, [2, 2]));
    const optimizer = adamw({ learningRate: 0.5, weightDecay: 0 });
    const reports: QKClipReport[] = [];
    // The record of step 1's forward pass, taken (and reset) by the hook as a layer's would be.
    let recorded: tf.Tensor | undefined = tf.tensor1d([400, 50]);
    const take = (): tf.Tensor | undefined => {
      const record = recorded;
      recorded = undefined;
      return record;
    };
    optimizer.addAfterStepHook(
      'qkClip',
      qkClipHook({
        targets: [{ name: 'a', query, key, heads: 2, maxLogits: take }],
        onReport: (r) => reports.push(r),
      }),
    );
    optimizer.applyGradients({ [query.name]: tf.onesLike(query), [key.name]: tf.onesLike(key) });
    expectMatrix(query, [[0.25, 0.5]]);
    expectMatrix(key, [[0.75, 1.5]]);
    expect(reports).toEqual([{ step: 1, targets: [{ name: 'a', maxLogits: [400, 50], eta: [0.25, 1] }] }]);
    // Nothing recorded on step 2: no clip, an empty report.
    optimizer.applyGradients({ [query.name]: tf.onesLike(query), [key.name]: tf.onesLike(key) });
    expect(reports[1]).toEqual({ step: 2, targets: [] });

    // A second layer with a non-finite record: the first layer's clip is not applied either.
    const other = variable(columnsScaled(1, [1, 1]));
    const failing = adamw({ learningRate: 0.5, weightDecay: 0 });
    failing.addAfterStepHook(
      'qkClip',
      qkClipHook({
        targets: [
          { name: 'good', query: other, key: other, heads: 2, maxLogits: () => [400, 400] },
          { name: 'bad', query: other, key: other, heads: 2, maxLogits: () => [Number.NaN, 1] },
        ],
      }),
    );
    expect(() => failing.applyGradients({ [other.name]: tf.onesLike(other) })).toThrow(/After-step hook 'qkClip' failed at step 1: QK-clip of 'bad': qkClip: maxLogits\[0\] is NaN/);
    expectMatrix(other, [[0.5, 0.5]]);
  });
});

describe.each(TEST_BACKENDS)('qkClipFactorsOnDevice on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('gives the host’s η per head, and NaN for a group with a NaN or +∞ logit', () => {
    // The cases of qkClipFactors above; every η there is a power of 2, exact in float32.
    for (const [logits, kvHeads] of [[[50, 200, 100, 400], 4], [[50, 200, 400, 80], 2], [[50, 200, 400, 80], 1], [[-500, 0], 2]] as const) {
      expect(Array.from(qkClipFactorsOnDevice(tf.tensor1d([...logits]), 100, kvHeads).dataSync())).toEqual(qkClipFactors(logits, 100, kvHeads));
    }
    // GQA with 2 groups: group 0 holds a NaN, group 1 a +∞; −∞ clips nothing, as on the host.
    expect(Array.from(qkClipFactorsOnDevice(tf.tensor1d([Number.NaN, 1, 1, Infinity]), 100, 2).dataSync())).toEqual([Number.NaN, Number.NaN, Number.NaN, Number.NaN]);
    expect(Array.from(qkClipFactorsOnDevice(tf.tensor1d([-Infinity, 400]), 100, 2).dataSync())).toEqual([1, 0.25]);
  });

  it('qkClipValuesOnDevice: the MLA example’s values, every declared weight staged (×1 where nothing clips)', () => {
    // As the MLA test above: S = [400, 50] → η = [0.25, 1]; q nope and k nope × 0.5, q rope × 0.25.
    const qb = variable(columnsScaled(2, [1, 1, 1, 1, 1, 1]));
    const kvb = variable(columnsScaled(2, [1, 1, 1, 1, 1, 1, 1, 1]));
    const untouched = variable(columnsScaled(2, [3, 3]));
    const { eta, values } = qkClipValuesOnDevice({
      heads: 2,
      maxLogits: tf.tensor1d([400, 50]),
      components: [
        { variable: qb, part: 'query', blocks: 2, width: 2, stride: 3 },
        { variable: qb, part: 'rotaryQuery', blocks: 2, width: 1, offset: 2, stride: 3 },
        { variable: kvb, part: 'key', blocks: 2, width: 2, stride: 4 },
        { variable: untouched, part: 'key', blocks: 2, width: 1 },
      ],
    });
    expect(Array.from(eta.dataSync())).toEqual([0.25, 1]);
    expect(values.map((v) => v.variable)).toEqual([qb, kvb, untouched]);
    expectMatrix(values[0]?.value as tf.Tensor, columnsScaled(2, [0.5, 0.5, 0.25, 1, 1, 1]));
    expectMatrix(values[1]?.value as tf.Tensor, columnsScaled(2, [0.5, 0.5, 1, 1, 1, 1, 1, 1]));
    expectMatrix(values[2]?.value as tf.Tensor, columnsScaled(2, [1.5, 3]));
    expect(() => qkClipValuesOnDevice({ query: qb, key: kvb, heads: 2, maxLogits: tf.ones([2, 1]) })).toThrow(/one value per query head \(2\), got a tensor of shape \[2, 1\]/);
  });
});

describe('qkClipHook on webgpu', () => {
  reportWebGpuSkipped(it);

  /** The hook run by hand on one step, as the optimizer runs it: staged values by variable name. */
  async function clipOnce(backend: 'cpu' | 'webgpu', records: readonly number[][]) {
    await useBackend(backend);
    // Separate MHA kernels (4 heads, headDim 2) and a fused GQA QKV kernel (4 query heads, 2 groups).
    const initial = {
      q: tf.randomNormal([3, 8], 0, 1, 'float32', 21).arraySync() as number[][],
      k: tf.randomNormal([3, 8], 0, 1, 'float32', 22).arraySync() as number[][],
      qkv: tf.randomNormal([3, 16], 0, 1, 'float32', 23).arraySync() as number[][],
    };
    const q = tf.variable(tf.tensor2d(initial.q), true, `qk_gpu_q_${backend}`);
    const k = tf.variable(tf.tensor2d(initial.k), true, `qk_gpu_k_${backend}`);
    const qkv = tf.variable(tf.tensor2d(initial.qkv), true, `qk_gpu_qkv_${backend}`);
    let report: (r: QKClipReport) => void = () => undefined;
    const reported = new Promise<QKClipReport>((resolve) => (report = resolve));
    const hook = qkClipHook({
      threshold: 100,
      alpha: 0.5,
      targets: [
        { name: 'mha', query: q, key: k, heads: 4, maxLogits: () => tf.tensor1d(records[0] as number[]) },
        { name: 'gqa', query: qkv, heads: 4, kvHeads: 2, maxLogits: () => tf.tensor1d(records[1] as number[]) },
      ],
      onReport: (r) => report(r),
    });
    const staged = new Map<string, tf.Tensor>();
    const reads = await countSyncReads(() =>
      tf.tidy(() => hook({ step: 1, variables: {}, assign: (variable, value) => staged.set(variable.name, tf.keep(value.clone())) })),
    );
    const weights: Record<string, number[]> = {};
    for (const [key, variable] of Object.entries({ q, k, qkv })) {
      const value = staged.get(variable.name);
      weights[key] = Array.from(await (value ?? variable).data());
      value?.dispose();
    }
    tf.dispose([q, k, qkv]);
    return { reads, weights, report: await reported };
  }

  it.runIf(WEBGPU_MISSING === undefined)('reads nothing back synchronously, clips as cpu does, and reports once the read arrives', async () => {
    // mha: heads 1 and 3 clip (300 → η 1/3, 250 → 0.4); gqa: group 0 (max 120) clips by 5/6,
    // group 1 (≤ 100) does not. τ/S in float32 on the device, in float64 on cpu: 6e-8 relative;
    // the weights take √η (α 0.5): within 1e-6 of cpu's, relative to a weight of order 1.
    const records = [[50, 300, 99, 250], [120, 30, 100, -4]];
    const cpu = await clipOnce('cpu', records);
    const gpu = await clipOnce('webgpu', records);
    expect(gpu.reads).toBe(0);
    expect(cpu.report.targets.map((t) => t.eta)).toEqual([[1, 1 / 3, 1, 0.4], [5 / 6, 5 / 6, 1, 1]]);
    for (const key of ['q', 'k', 'qkv'] as const) {
      (cpu.weights[key] as number[]).forEach((w, i) => expect(Math.abs((gpu.weights[key]?.[i] as number) - w), `${key}[${i}]`).toBeLessThan(1e-6 * Math.max(1, Math.abs(w))));
    }
    expect(gpu.report.step).toBe(1);
    gpu.report.targets.forEach((target, t) => {
      const expected = cpu.report.targets[t];
      expect(target.name).toBe(expected?.name);
      expect(target.maxLogits).toEqual(expected?.maxLogits);
      target.eta.forEach((e, h) => expect(Math.abs(e - (expected?.eta[h] as number))).toBeLessThan(1e-7));
    });
  });

  it.runIf(WEBGPU_MISSING === undefined)('a non-finite logit makes the staged values non-finite (for the optimizer’s guard) and reports η NaN', async () => {
    const gpu = await clipOnce('webgpu', [[50, Number.NaN, 1, 1], [1, 1, 1, 1]]);
    expect(gpu.reads).toBe(0);
    expect(gpu.weights['q']?.some(Number.isNaN)).toBe(true);
    expect(gpu.report.targets[0]?.eta).toEqual([1, Number.NaN, 1, 1]);
    expect(gpu.weights['qkv']?.every(Number.isFinite)).toBe(true);
  });
});
