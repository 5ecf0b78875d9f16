import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../kernels/nativeAddon.js';
import { cosine, linear } from '../math/schedule.js';
import type { AdamWOptions } from '../optimizers/adamw.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { checkpointByPosition as checkpointOf, hostValues as values, stepBoth as stepTwins } from '../testing/twinSteps.js';
import { adamw } from './optimizers.js';
import { MuonWithAdamWOptimizer } from './MuonWithAdamWOptimizer.js';
import type { TransformOptimizer } from './TransformOptimizer.js';

// The fused AdamW step (native/src/fused_adam_step.cc) against the composed transformation it
// executes. Tolerance: none (bitwise equality). The kernel performs the composition's float32
// operations one by one in the same order (m, v, the bias-corrected direction, the decay, −lr, p +
// update), with every scalar rounded to float32 as TF.js rounds a JavaScript number and no fused
// multiply-add; +, ×, ÷ and √ are correctly rounded in float32 on the wasm backend and in float64
// then rounded on the cpu backend, which is the same float32 number (53 ≥ 2·24 + 2). So every new
// value and moment is the same float32 number; one ulp of difference would show an operation
// computed differently.

const native = loadNativeAddon();
const SHAPES = { matrix: [24, 40], bias: [40], conv: [3, 3, 2, 5], scalar: [] } as const;

let counter = 0;
/** Two identical sets of variables (one per optimizer), one per shape. */
function twinVariables(shapes: readonly (readonly number[])[]): [tf.Variable[], tf.Variable[]] {
  const make = () => shapes.map((shape, i) => tf.variable(tf.randomNormal([...shape], 0, 0.1, 'float32', 7 + i), true, `fusedAdam${++counter}`));
  return [make(), make()];
}

/** Applies the same `steps` seeded gradients of spread-out magnitudes (e^±8) to both optimizers, each on its own variables. */
const stepBoth = (steps: number, a: TransformOptimizer, va: tf.Variable[], b: TransformOptimizer, vb: tf.Variable[]): void =>
  stepTwins(steps, a, va, b, vb, (v, step, i) => tf.tidy(() => tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 1000 * step + i), tf.exp(tf.randomUniform(v.shape, -8, 8, 'float32', 77 + step)))));

const SETTINGS: Record<string, AdamWOptions> = {
  'no decay': { weightDecay: 0 },
  'decoupled decay, defaults': {},
  'corrected decay under a schedule': { weightDecay: 0.1, correctedWeightDecay: true, learningRate: linear({ from: 0.01, to: 0.002, steps: 4 }) },
  'cautious decay, small ε, β₂ 0.95': { weightDecay: 0.1, cautiousWeightDecay: true, epsilon: 1e-12, beta2: 0.95 },
  'corrected + cautious, cosine': { weightDecay: 0.2, correctedWeightDecay: true, cautiousWeightDecay: true, learningRate: cosine({ peak: 0.02, steps: 6 }) },
};

describe.each(TEST_BACKENDS)('the fused AdamW step on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.runIf(native.available)('runs by default where the native kernel can, and says so', () => {
    const [[w]] = twinVariables([[4, 3]]);
    const optimizer = adamw();
    expect(optimizer.describeExecution()).toEqual([expect.objectContaining({ label: 'adamw', strategy: 'fused', lastStep: 'none' })]);
    optimizer.applyGradients({ [(w as tf.Variable).name]: tf.onesLike(w as tf.Variable) });
    expect(optimizer.describeExecution()[0]?.lastStep).toBe('fused');
  });

  it.runIf(native.available).each(Object.entries(SETTINGS))('equals the composed step bit for bit, %s: matrix, bias, conv kernel and scalar, 5 steps', async (_, options) => {
    const [va, vb] = twinVariables(Object.values(SHAPES));
    const fused = adamw(options);
    const composed = adamw({ ...options, execution: { fused: false } });
    stepBoth(5, fused, va, composed, vb);
    expect(fused.describeExecution()[0]?.lastStep).toBe('fused');
    expect(composed.describeExecution()[0]).toEqual(expect.objectContaining({ strategy: 'composed', lastStep: 'composed', reason: expect.stringMatching(/fused: false/) }));
    va.forEach((v, i) => expect(values(v), Object.keys(SHAPES)[i]).toEqual(values(vb[i] as tf.Variable)));
    expect(await checkpointOf(fused, va)).toEqual(await checkpointOf(composed, vb));
  });

  it.runIf(native.available)("the hybrid's AdamW half runs fused beside the fused Muon half, bit for bit as composed", async () => {
    const shapes = [[16, 8], [8], [8, 4]];
    const [va, vb] = twinVariables(shapes);
    const head = (vs: tf.Variable[]) => [{ pattern: (vs[2] as tf.Variable).name, to: 'adamw' as const }];
    const fused = new MuonWithAdamWOptimizer({ adamw: { weightDecay: 0.01 }, overrides: head(va) });
    const composed = new MuonWithAdamWOptimizer({ adamw: { weightDecay: 0.01, execution: { fused: false } }, overrides: head(vb) });
    stepBoth(3, fused, va, composed, vb);
    expect(fused.describeExecution()).toEqual([
      expect.objectContaining({ label: 'muon', lastStep: 'fused' }),
      expect.objectContaining({ label: 'adamw', strategy: 'fused', lastStep: 'fused' }),
    ]);
    va.forEach((v, i) => expect(values(v), `variable ${i}`).toEqual(values(vb[i] as tf.Variable)));
    expect(await checkpointOf(fused, va)).toEqual(await checkpointOf(composed, vb));
  });

  it.runIf(native.available)('checkpoints move between fused and composed optimizers unchanged', async () => {
    const [va, vb] = twinVariables([SHAPES.matrix, SHAPES.bias]);
    const first = adamw({ execution: { fused: false } });
    const second = adamw();
    stepBoth(2, first, va, second, vb);
    const saved = (await first.getWeights()).map(({ name, tensor }) => ({ name: name.replace(va[0]?.name as string, vb[0]?.name as string).replace(va[1]?.name as string, vb[1]?.name as string), tensor: tensor.clone() }));
    const resumed = adamw();
    await resumed.setWeights(saved);
    vb.forEach((v, i) => v.assign(va[i] as tf.Variable));
    stepBoth(2, first, va, resumed, vb);
    expect(resumed.describeExecution()[0]?.lastStep).toBe('fused');
    va.forEach((v, i) => expect(values(v)).toEqual(values(vb[i] as tf.Variable)));
    tf.dispose(saved.map((s) => s.tensor));
  });

  it.runIf(native.available)('all-or-nothing: a NaN gradient of the last variable leaves every earlier one and all state untouched', async () => {
    const [vs] = twinVariables(Object.values(SHAPES));
    const optimizer = adamw();
    optimizer.applyGradients(vs.map((v) => ({ name: v.name, tensor: tf.onesLike(v) })));
    const before = vs.map(values);
    const state = await checkpointOf(optimizer, vs);
    const count = tf.memory().numTensors;
    const bad = vs.map((v, i) => ({ name: v.name, tensor: i === 3 ? tf.fill(v.shape, Number.NaN) : tf.onesLike(v) }));
    expect(() => optimizer.applyGradients(bad)).toThrow(new RegExp(`^Non-finite \\(NaN or Inf\\) gradient for '${vs[3]?.name}'; no variable was updated$`));
    expect(optimizer.describeExecution()[0]?.lastStep).toBe('fused');
    vs.forEach((v, i) => expect(values(v)).toEqual(before[i]));
    expect(await checkpointOf(optimizer, vs)).toEqual(state);
    expect(optimizer.iterations).toBe(1);
    tf.dispose(bad.map((g) => g.tensor));
    expect(tf.memory().numTensors).toBe(count);
  });

  it.runIf(native.available)('all-or-nothing: finite gradients that make a non-finite value are refused by name, with the message of the composed step', () => {
    // g = 2e19: g² overflows float32, so v is +Inf (and the update 0/Inf = 0 leaves p finite);
    // lr = 1e39 makes p' infinite from a finite m̂/(√v̂ + ε). Both steps must name the same values.
    for (const [options, gradient] of [[{}, 2e19], [{ learningRate: 1e39 }, 1]] as const) {
      const run = (fused: boolean) => {
        const [[w]] = twinVariables([[4, 4]]);
        const optimizer = adamw({ ...options, execution: { fused } });
        const before = values(w as tf.Variable);
        const grad = tf.fill([4, 4], gradient);
        let message = '';
        try {
          optimizer.applyGradients({ [(w as tf.Variable).name]: grad });
        } catch (error) {
          message = (error as Error).message.replaceAll((w as tf.Variable).name, 'w');
        }
        expect(values(w as tf.Variable)).toEqual(before);
        expect(optimizer.iterations).toBe(0);
        grad.dispose();
        return message;
      };
      const fused = run(true);
      expect(fused).toMatch(/^The step computed non-finite \(NaN or Inf\) values for 'w/);
      expect(fused).toBe(run(false));
    }
  });

  it.runIf(native.available)('leaks no tensor: a fused step leaves the tensor count as the composed one does', () => {
    const [va, vb] = twinVariables(Object.values(SHAPES));
    const fused = adamw({ cautiousWeightDecay: true });
    const composed = adamw({ cautiousWeightDecay: true, execution: { fused: false } });
    stepBoth(1, fused, va, composed, vb); // creates the state
    const count = tf.memory().numTensors;
    stepBoth(3, fused, va, composed, vb);
    expect(tf.memory().numTensors).toBe(count);
  });

  it('empty variables step to empty values, fused or not', () => {
    const [va, vb] = twinVariables([[0, 3], [2, 2]]);
    const fused = adamw();
    const composed = adamw({ execution: { fused: false } });
    stepBoth(2, fused, va, composed, vb);
    expect(va[0]?.shape).toEqual([0, 3]);
    expect(values(va[1] as tf.Variable)).toEqual(values(vb[1] as tf.Variable));
  });

  it('refuses an execution setting it does not take, naming it', () => {
    expect(() => adamw({ execution: { orthogonalize: () => [] } as never })).toThrow("AdamWOptimizer: unknown execution setting 'orthogonalize'; valid settings are fused");
    expect(() => adamw({ execution: { fused: 'yes' } as never })).toThrow('AdamWOptimizer: execution.fused must be a boolean, got yes');
  });
});

describe('the fused AdamW step without the addon', () => {
  it('runs composed and says why: the reason the addon is absent', () => {
    const optimizer = adamw();
    const row = optimizer.describeExecution()[0];
    if (native.available) expect(row?.strategy).toBe('fused');
    else expect(row).toEqual(expect.objectContaining({ strategy: 'composed', reason: native.reason }));
  });
});
