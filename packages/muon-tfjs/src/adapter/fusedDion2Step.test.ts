import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../kernels/nativeAddon.js';
import type { NewtonSchulzPrecision } from '../math/newtonSchulzSchedule.js';
import { newtonSchulzEach } from '../math/orthogonalizer.js';
import { linear } from '../math/schedule.js';
import type { Dion2Options } from '../optimizers/dion2.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { fixNativeThreads } from '../testing/fixedNativeThreads.js';
import { checkpointByPosition as checkpointOf, hostValues as values, stepBoth as stepTwins } from '../testing/twinSteps.js';
import { HybridOptimizer } from './HybridOptimizer.js';
import { dion2 as createDion2 } from './optimizers.js';
import type { TransformOptimizer } from './TransformOptimizer.js';

// The fused Dion2 step (native/src/fused_dion2_step.cc) against the composed transformation it
// executes. Tolerance: none (bitwise equality), for the reasons of fusedMuonStep.test.ts: every
// float32 operation of the composition is performed once, in the same order, with the scalars
// rounded as TF.js rounds them, and the selected submatrix goes to the same engine with the same
// plan, precision and thread count. The selection itself is the composition's because the L1
// norms are accumulated as the backend's tf.sum accumulates them (float32 on wasm, float64 on cpu:
// the test "selects as the backend's tf.sum" tells the two apart) and ordered as tf.topk orders.

const native = loadNativeAddon();
// Both paths orthogonalize with the engine, whose products' bits depend on the thread count.
fixNativeThreads();
const info = native.available ? native.addon.info() : undefined;
const PRECISIONS = [
  { precision: 'float32', runs: '' },
  { precision: 'bfloat16', runs: info === undefined || info.bfloat16 ? '' : ` (float32 here: bfloat16 ${info.products.bfloat16})` },
] as const satisfies readonly { precision: NewtonSchulzPrecision; runs: string }[];
/** Columns selected (tall: fanOut 32 ≤ 96), rows (wide), columns of the flattened 36×8 conv kernel, columns on a tie (square). */
const SHAPES = { tall: [96, 32], wide: [32, 96], conv: [3, 3, 4, 8], square: [48, 48] } as const;
const CONV_VIEWS = [{ name: '/conv', convKernel: true }] as const;
const dion2 = (options: Dion2Options = {}) => createDion2({ matrixViews: CONV_VIEWS, ...options });

let counter = 0;
function twinVariables(shapes: readonly (readonly number[])[]): [tf.Variable[], tf.Variable[]] {
  const make = () => shapes.map((shape, i) => tf.variable(tf.randomNormal([...shape], 0, 0.1, 'float32', 7 + i), true, `fusedDion2_${++counter}${shape.length > 2 ? '/conv' : ''}`));
  return [make(), make()];
}

const stepBoth = (steps: number, a: TransformOptimizer, va: tf.Variable[], b: TransformOptimizer, vb: tf.Variable[]): void =>
  stepTwins(steps, a, va, b, vb, (v, step, i) => tf.randomNormal(v.shape, 0, 1, 'float32', 1000 * step + i));

const DECAYS: Record<string, Dion2Options> = {
  none: { weightDecay: 0 },
  decoupled: { weightDecay: 0.1 },
  corrected: { weightDecay: 0.1, correctedWeightDecay: true, learningRate: linear({ from: 0.02, to: 0.005, steps: 4 }) },
  cautious: { weightDecay: 0.1, cautiousWeightDecay: true },
};

describe.each(TEST_BACKENDS)('the fused Dion2 step on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.runIf(native.available)('runs by default where the native kernel can, and says so', () => {
    const [[w]] = twinVariables([[8, 4]]);
    const optimizer = dion2();
    expect(optimizer.describeExecution()).toEqual([expect.objectContaining({ label: 'dion2', strategy: 'fused', lastStep: 'none' })]);
    optimizer.applyGradients({ [(w as tf.Variable).name]: tf.onesLike(w as tf.Variable) });
    expect(optimizer.describeExecution()[0]?.lastStep).toBe('fused');
  });

  for (const { precision, runs } of PRECISIONS) {
    describe.runIf(native.available).each(Object.entries(DECAYS))(`equals the composed step bit for bit in ${precision}${runs}, weight decay %s`, (_, decay) => {
      // α = 1/4 (k = 8, 8, 2, 12 slices), one slice (k = 1), and every slice (α = 1: Muon without Nesterov).
      it.each([0.25, 0.01, 1])('fraction %s: tall, wide, conv and square, 4 steps of error feedback', async (fraction) => {
        const options: Dion2Options = { ...decay, fraction, errorFeedbackDecay: 0.9, lrAdjust: 'matchAdamW', precision };
        const [va, vb] = twinVariables(Object.values(SHAPES));
        const fused = dion2(options);
        const composed = dion2({ ...options, execution: { fused: false } });
        stepBoth(4, fused, va, composed, vb);
        expect(fused.describeExecution()[0]?.lastStep).toBe('fused');
        expect(composed.describeExecution()[0]).toEqual(expect.objectContaining({ strategy: 'composed', lastStep: 'composed', reason: expect.stringMatching(/fused: false/) }));
        va.forEach((v, i) => expect(values(v), Object.keys(SHAPES)[i]).toEqual(values(vb[i] as tf.Variable)));
        expect(await checkpointOf(fused, va)).toEqual(await checkpointOf(composed, vb));
      });
    });
  }

  it.runIf(native.available)('selects as the backend\'s tf.sum adds: a tie in float32 that float64 breaks', () => {
    // [fanIn, fanOut] = [3, 2]: columns are selected, k = ⌈0.5·2⌉ = 1. Column 0 holds 1, 0, 0 and
    // column 1 holds 1, 2⁻²⁴, 2⁻²⁴. Added in float32 (wasm) column 1's norm is 1 (1 + 2⁻²⁴ rounds to
    // even, twice): a tie, and tf.topk takes the lower index, column 0. Added in float64 (cpu) it is
    // 1 + 2⁻²³, representable in float32: column 1 is larger and is taken.
    const tiny = 2 ** -24;
    const gradient = () => tf.tensor2d([[1, 1], [0, tiny], [0, tiny]]);
    const selectedColumn = (fused: boolean): number => {
      const w = tf.variable(tf.zeros([3, 2]), true, `fusedDion2_tie_${fused}_${++counter}`);
      const optimizer = dion2({ fraction: 0.5, weightDecay: 0, execution: { fused } });
      const g = gradient();
      optimizer.applyGradients({ [w.name]: g });
      const moved = [0, 1].filter((c) => values(w).some((x, k) => k % 2 === c && x !== 0));
      tf.dispose([g, w]);
      optimizer.dispose();
      expect(moved).toHaveLength(1);
      return moved[0] as number;
    };
    const expected = backend === 'cpu' ? 1 : 0;
    expect(selectedColumn(false)).toBe(expected);
    expect(selectedColumn(true)).toBe(expected);
  });

  it.runIf(native.available).each(Object.entries(DECAYS))('the hybrid\'s Dion2 half, with its AdamW half, weight decay %s', async (_, decay) => {
    const shapes = [...Object.values(SHAPES), [32], [16, 8]];
    const [va, vb] = twinVariables(shapes);
    const make = (vs: tf.Variable[], fused: boolean) =>
      new HybridOptimizer({
        groups: { dion2: { optimizer: 'dion2', options: { ...decay, matrixViews: CONV_VIEWS, execution: { fused } } }, adamw: { optimizer: 'adamw', options: { weightDecay: 0.01 } } },
        label: ({ name }) => (name === (vs[4] as tf.Variable).name || name === (vs[5] as tf.Variable).name ? 'adamw' : 'dion2'),
      });
    const fused = make(va, true);
    const composed = make(vb, false);
    stepBoth(3, fused, va, composed, vb);
    expect(fused.describeExecution()).toEqual([
      expect.objectContaining({ label: 'dion2', strategy: 'fused', lastStep: 'fused' }),
      expect.objectContaining({ label: 'adamw', strategy: 'fused', lastStep: 'fused' }),
    ]);
    va.forEach((v, i) => expect(values(v), `variable ${i}`).toEqual(values(vb[i] as tf.Variable)));
    expect(await checkpointOf(fused, va)).toEqual(await checkpointOf(composed, vb));
  });

  it.runIf(native.available)('checkpoints move between fused and composed optimizers unchanged', async () => {
    const [va, vb] = twinVariables([SHAPES.wide, SHAPES.square]);
    const first = dion2({ execution: { fused: false } });
    const second = dion2();
    stepBoth(2, first, va, second, vb);
    const rename = (name: string) => va.reduce((n, v, i) => n.replace(v.name, (vb[i] as tf.Variable).name), name);
    const saved = (await first.getWeights()).map(({ name, tensor }) => ({ name: rename(name), tensor: tensor.clone() }));
    const resumed = dion2();
    await resumed.setWeights(saved);
    vb.forEach((v, i) => v.assign(va[i] as tf.Variable));
    stepBoth(2, first, va, resumed, vb);
    expect(resumed.describeExecution()[0]?.lastStep).toBe('fused');
    va.forEach((v, i) => expect(values(v)).toEqual(values(vb[i] as tf.Variable)));
    tf.dispose(saved.map((s) => s.tensor));
  });

  it.runIf(native.available)('all-or-nothing: a NaN gradient of the last variable leaves every earlier one and all state untouched', async () => {
    const [vs] = twinVariables(Object.values(SHAPES));
    const optimizer = dion2({ weightDecay: 0.1 });
    const grads = () => vs.map((v) => ({ name: v.name, tensor: tf.onesLike(v) }));
    optimizer.applyGradients(grads());
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

  it.runIf(native.available)('all-or-nothing: finite gradients that make a non-finite value are refused by name, as composed', () => {
    // A learning rate of 1e39 overflows the weight; two gradients of 3e38 overflow the momentum M + G.
    const cases: { options: Dion2Options; gradient: number; steps: number }[] = [
      { options: { learningRate: 1e39 }, gradient: 1, steps: 1 },
      { options: {}, gradient: 3e38, steps: 2 },
    ];
    for (const { options, gradient, steps } of cases) {
      const run = (fused: boolean) => {
        const [[w]] = twinVariables([[4, 6]]);
        const optimizer = dion2({ ...options, execution: { fused } });
        const grad = tf.fill([4, 6], gradient);
        let message = '';
        let before: number[] = [];
        for (let step = 0; step < steps; step++) {
          before = values(w as tf.Variable);
          try {
            optimizer.applyGradients({ [(w as tf.Variable).name]: grad });
          } catch (error) {
            message = (error as Error).message.replaceAll((w as tf.Variable).name, 'w');
          }
        }
        expect(values(w as tf.Variable)).toEqual(before);
        grad.dispose();
        return message;
      };
      const fused = run(true);
      expect(fused).toMatch(/^The step computed non-finite \(NaN or Inf\) values for 'w.*' from finite gradients/);
      expect(fused).toBe(run(false));
    }
  });

  it.runIf(native.available)('leaks no tensor: a fused step leaves the tensor count as the composed one does', () => {
    const [va, vb] = twinVariables(Object.values(SHAPES));
    const fused = dion2({ weightDecay: 0.1, cautiousWeightDecay: true });
    const composed = dion2({ weightDecay: 0.1, cautiousWeightDecay: true, execution: { fused: false } });
    stepBoth(1, fused, va, composed, vb);
    const count = tf.memory().numTensors;
    stepBoth(3, fused, va, composed, vb);
    expect(tf.memory().numTensors).toBe(count);
  });

  it('runs composed, saying why, where the options need the composition', () => {
    const reasons = (optimizer: TransformOptimizer) => optimizer.describeExecution().map(({ strategy, reason }) => `${strategy}: ${reason}`);
    expect(reasons(dion2({ matrixViews: [{ name: 'experts', reductionAxes: 1, outputAxes: 2 }] }))).toEqual([expect.stringMatching(/^composed: matrixViews sees some weights as batches/)]);
    expect(reasons(dion2({ convOrthogonalization: 'perTap' }))).toEqual([expect.stringMatching(/^composed: convOrthogonalization 'perTap' selects in each tap apart/)]);
    expect(reasons(dion2({ execution: { orthogonalize: newtonSchulzEach } }))).toEqual([expect.stringMatching(/^composed: execution names its own orthogonalize kernel/)]);
    expect(reasons(dion2({ execution: { fused: false } }))).toEqual(['composed: turned off by execution: { fused: false }']);
  });
});
