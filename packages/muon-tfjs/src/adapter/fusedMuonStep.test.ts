import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { NATIVE_MOMENTUM_DTYPE_CODES, loadNativeAddon } from '../kernels/nativeAddon.js';
import { nativeMuonStep } from '../kernels/nativeMuonStep.js';
import type { MuonStepKernel } from '../math/muonStepKernel.js';
import type { NewtonSchulzPrecision } from '../math/newtonSchulzSchedule.js';
import { newtonSchulzEach } from '../math/orthogonalizer.js';
import { linear, momentumWarmup, piecewise } from '../math/schedule.js';
import { fusedMuonStep } from '../optimizers/fusedMuon.js';
import { type MuonHyperParameters, type MuonOptions, resolveMuonOptions } from '../optimizers/muon.js';
import { MUON_BFLOAT16_MOMENTUM_SLOT, MUON_TAPS } from '../transforms/scaleByMuon.js';
import { SILENT_TAPS } from '../transforms/taps.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { checkpointByPosition as checkpointOf, hostValues as values, stepBoth as stepTwins } from '../testing/twinSteps.js';
import { HybridOptimizer } from './HybridOptimizer.js';
import { muon as createMuon } from './optimizers.js';
import { MuonWithAdamWOptimizer } from './MuonWithAdamWOptimizer.js';
import type { TransformOptimizer } from './TransformOptimizer.js';

// The fused Muon step (native/src/fused_muon_step.cc) against the composed transformation it
// executes. Tolerance: none (bitwise equality). The fused kernel performs the composition's float32
// operations one by one in the same order, with every scalar rounded to float32 as TF.js rounds a
// JavaScript number, and no fused multiply-add (ISO C++, baseline target); TF.js's cpu backend
// computes each op in float64 and rounds once, which equals the float32 op (Figueroa: 53 ≥ 2·24+2),
// and the wasm backend computes in float32. The orthogonalization is the same engine called with the
// same plans, the same precision, the same inputs and the same thread schedule (in bfloat16 too:
// the same operands rounded the same way into the same products). So every stage, hence every new
// value, is the same float32 number; a difference of one ulp would show a stage computed differently.

const native = loadNativeAddon();
const info = native.available ? native.addon.info() : undefined;
/**
 * The precisions compared, with what runs here: a bfloat16 schedule runs float32 on both paths
 * where bfloat16 products cannot run (said once; src/kernels/nativeMuonStep.test.ts checks that
 * fallback against float32), and is compared all the same.
 */
const PRECISIONS = [
  { precision: 'float32', runs: '' },
  { precision: 'bfloat16', runs: info === undefined || info.bfloat16 ? '' : ` (float32 here: bfloat16 ${info.products.bfloat16})` },
] as const satisfies readonly { precision: NewtonSchulzPrecision; runs: string }[];
const SHAPES = { tall: [96, 32], wide: [32, 96], conv: [3, 3, 4, 8], square: [48, 48] } as const;

/** The conv kernel is one by declaration: muon() on bare variables has no layer class to tell (the fused step flattens it as the composition does). */
const CONV_VIEWS = [{ name: '/conv', convKernel: true }] as const;
/** Muon with the conv kernels declared. */
const muon = (options: MuonOptions = {}) => createMuon({ matrixViews: CONV_VIEWS, ...options });

let counter = 0;
/** Two identical sets of variables (one per optimizer), one per shape. */
function twinVariables(shapes: readonly (readonly number[])[]): [tf.Variable[], tf.Variable[]] {
  const make = () => shapes.map((shape, i) => tf.variable(tf.randomNormal([...shape], 0, 0.1, 'float32', 7 + i), true, `fused${++counter}${shape.length > 2 ? '/conv' : ''}`));
  return [make(), make()];
}

/** Applies the same `steps` seeded standard normal gradients to both optimizers, each on its own variables. */
const stepBoth = (steps: number, a: TransformOptimizer, va: tf.Variable[], b: TransformOptimizer, vb: tf.Variable[]): void =>
  stepTwins(steps, a, va, b, vb, (v, step, i) => tf.randomNormal(v.shape, 0, 1, 'float32', 1000 * step + i));

const DECAYS: Record<string, MuonHyperParameters> = {
  none: {},
  decoupled: { weightDecay: 0.1 },
  corrected: { weightDecay: 0.1, correctedWeightDecay: true, learningRate: linear({ from: 0.02, to: 0.005, steps: 4 }) },
  cautious: { weightDecay: 0.1, cautiousWeightDecay: true },
  'corrected + cautious': { weightDecay: 0.1, correctedWeightDecay: true, cautiousWeightDecay: true, learningRate: linear({ from: 0.02, to: 0.005, steps: 4 }) },
};

describe.each(TEST_BACKENDS)('the fused Muon step on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.runIf(native.available)('runs by default where the native kernel can, and says so', () => {
    const [[w]] = twinVariables([[8, 4]]);
    const optimizer = muon();
    expect(optimizer.describeExecution()).toEqual([expect.objectContaining({ label: 'muon', strategy: 'fused', lastStep: 'none' })]);
    optimizer.applyGradients({ [(w as tf.Variable).name]: tf.onesLike(w as tf.Variable) });
    expect(optimizer.describeExecution()[0]?.lastStep).toBe('fused');
    // bfloat16 too: the kernel runs the schedule's precision (or float32, said once, where it cannot).
    expect(muon({ precision: 'bfloat16' }).describeExecution()).toEqual([expect.objectContaining({ label: 'muon', strategy: 'fused' })]);
  });

  for (const { precision, runs } of PRECISIONS) {
    const variant = `${precision}${runs}`;
    describe.runIf(native.available).each(Object.entries(DECAYS))(`equals the composed step bit for bit in ${variant}, weight decay %s`, (_, decay) => {
      it.each([true, false])('nesterov %s: tall, wide, conv and square, 3 steps, with a momentum warm-up', async (nesterov) => {
        const options: MuonOptions = { ...decay, nesterov, momentum: momentumWarmup({ from: 0.85, to: 0.95, steps: 2 }), lrAdjust: 'matchAdamW', precision };
        const [va, vb] = twinVariables(Object.values(SHAPES));
        const fused = muon(options);
        const composed = muon({ ...options, execution: { fused: false } });
        stepBoth(3, fused, va, composed, vb);
        expect(fused.describeExecution()[0]?.lastStep).toBe('fused');
        expect(composed.describeExecution()[0]).toEqual(expect.objectContaining({ strategy: 'composed', lastStep: 'composed', reason: expect.stringMatching(/fused: false/) }));
        va.forEach((v, i) => expect(values(v), Object.keys(SHAPES)[i]).toEqual(values(vb[i] as tf.Variable)));
        expect(await checkpointOf(fused, va)).toEqual(await checkpointOf(composed, vb));
      });
    });

    it.runIf(native.available)(`equals the composed step bit for bit in ${variant} with turboMuon (AOL normalization)`, async () => {
      // AOL rescales inside the engine both paths share: the fused step must run it, not drop it.
      const options: MuonOptions = { coefficients: 'turboMuon', weightDecay: 0.1, precision };
      const [va, vb] = twinVariables(Object.values(SHAPES));
      const fused = muon(options);
      const composed = muon({ ...options, execution: { fused: false } });
      stepBoth(3, fused, va, composed, vb);
      expect(fused.describeExecution()[0]?.lastStep).toBe('fused');
      va.forEach((v, i) => expect(values(v), Object.keys(SHAPES)[i]).toEqual(values(vb[i] as tf.Variable)));
      expect(await checkpointOf(fused, va)).toEqual(await checkpointOf(composed, vb));
    });

    it.runIf(native.available).each(Object.entries(DECAYS))(`the hybrid's Muon half in ${variant}, weight decay %s`, async (_, decay) => {
      const shapes = [...Object.values(SHAPES), [32], [16, 8]];
      const [va, vb] = twinVariables(shapes);
      const head = (vs: tf.Variable[]) => [{ pattern: (vs[5] as tf.Variable).name, to: 'adamw' as const }];
      const fused = new MuonWithAdamWOptimizer({ muon: { ...decay, precision, matrixViews: CONV_VIEWS }, adamw: { weightDecay: 0.01 }, overrides: head(va) });
      const composed = new MuonWithAdamWOptimizer({ muon: { ...decay, precision, matrixViews: CONV_VIEWS, execution: { fused: false } }, adamw: { weightDecay: 0.01 }, overrides: head(vb) });
      stepBoth(3, fused, va, composed, vb);
      expect(fused.describeExecution()).toEqual([
        expect.objectContaining({ label: 'muon', strategy: 'fused', lastStep: 'fused' }),
        expect.objectContaining({ label: 'adamw', strategy: 'fused', lastStep: 'fused' }),
      ]);
      va.forEach((v, i) => expect(values(v), `variable ${i}`).toEqual(values(vb[i] as tf.Variable)));
      expect(await checkpointOf(fused, va)).toEqual(await checkpointOf(composed, vb));
    });
  }

  it.runIf(native.available)('nsSteps over training (3, then 5 from step 3): the fused step runs each step\'s count, bit for bit as composed', async () => {
    const nsSteps = piecewise({ boundaries: [2], values: [3, 5] });
    const [va, vb] = twinVariables(Object.values(SHAPES));
    const fused = muon({ nsSteps, weightDecay: 0.1 });
    const composed = muon({ nsSteps, weightDecay: 0.1, execution: { fused: false } });
    stepBoth(4, fused, va, composed, vb);
    expect(fused.describeExecution()[0]?.lastStep).toBe('fused');
    va.forEach((v, i) => expect(values(v), Object.keys(SHAPES)[i]).toEqual(values(vb[i] as tf.Variable)));
    expect(await checkpointOf(fused, va)).toEqual(await checkpointOf(composed, vb));
    // The count does change: two steps at 3, then one at 5, differ from three steps at 3.
    const [[a], [b]] = twinVariables([[48, 48]]);
    const scheduled = muon({ nsSteps });
    const three = muon({ nsSteps: 3 });
    stepBoth(2, scheduled, [a as tf.Variable], three, [b as tf.Variable]);
    expect(values(a as tf.Variable)).toEqual(values(b as tf.Variable));
    stepBoth(1, scheduled, [a as tf.Variable], three, [b as tf.Variable]);
    expect(values(a as tf.Variable)).not.toEqual(values(b as tf.Variable));
  });

  it.runIf(native.available)('a step with a Muon tap heard runs composed and delivers the values; the others run fused', () => {
    const [va, vb] = twinVariables([SHAPES.tall, SHAPES.conv]);
    const tapped = muon();
    const composed = muon({ execution: { fused: false } });
    const heard: { step: number; variable: string; shape: number[] }[] = [];
    tapped.tap(MUON_TAPS.newtonSchulzOutput, ({ step, variable, value }) => heard.push({ step, variable, shape: value.shape }), { every: 2 });
    const paths: string[] = [];
    for (let step = 0; step < 4; step++) {
      stepBoth(1, tapped, va, composed, vb);
      paths.push(tapped.describeExecution()[0]?.lastStep as string);
    }
    expect(paths).toEqual(['fused', 'composed', 'fused', 'composed']);
    expect(heard.map(({ step, shape }) => [step, shape])).toEqual([
      [2, [96, 32]],
      [2, [36, 8]],
      [4, [96, 32]],
      [4, [36, 8]],
    ]);
    va.forEach((v, i) => expect(values(v)).toEqual(values(vb[i] as tf.Variable)));
  });

  it.runIf(native.available)('checkpoints move between fused and composed optimizers unchanged', async () => {
    const [va, vb] = twinVariables([SHAPES.wide, SHAPES.square]);
    const first = muon({ execution: { fused: false } });
    const second = muon();
    stepBoth(2, first, va, second, vb);
    const saved = (await first.getWeights()).map(({ name, tensor }) => ({ name: name.replace(va[0]?.name as string, vb[0]?.name as string).replace(va[1]?.name as string, vb[1]?.name as string), tensor: tensor.clone() }));
    const resumed = muon();
    await resumed.setWeights(saved);
    vb.forEach((v, i) => v.assign(va[i] as tf.Variable));
    stepBoth(2, first, va, resumed, vb);
    expect(resumed.describeExecution()[0]?.lastStep).toBe('fused');
    va.forEach((v, i) => expect(values(v)).toEqual(values(vb[i] as tf.Variable)));
    tf.dispose(saved.map((s) => s.tensor));
  });

  it.runIf(native.available)('all-or-nothing: a NaN gradient of the last variable leaves every earlier one and all state untouched', async () => {
    const [vs] = twinVariables(Object.values(SHAPES));
    const optimizer = muon({ weightDecay: 0.1 });
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

  it.runIf(native.available)('all-or-nothing in the hybrid: a NaN in an AdamW gradient also stops the fused Muon half', () => {
    const [vs] = twinVariables([SHAPES.tall, SHAPES.square, [32]]);
    const optimizer = new MuonWithAdamWOptimizer();
    const before = vs.map(values);
    const grads = vs.map((v, i) => ({ name: v.name, tensor: i === 2 ? tf.fill(v.shape, Number.POSITIVE_INFINITY) : tf.onesLike(v) }));
    expect(() => optimizer.applyGradients(grads)).toThrow(new RegExp(`gradient for '${vs[2]?.name}'; no variable was updated`));
    vs.forEach((v, i) => expect(values(v)).toEqual(before[i]));
    expect(optimizer.iterations).toBe(0);
    expect(optimizer.variableNames).toEqual([]);
    tf.dispose(grads.map((g) => g.tensor));
  });

  it.runIf(native.available)('all-or-nothing: finite gradients that make a non-finite value are refused by name, as composed', () => {
    const run = (fused: boolean) => {
      const [[w]] = twinVariables([[4, 4]]);
      const optimizer = muon({ learningRate: 1e39, execution: { fused } });
      const before = values(w as tf.Variable);
      const grad = tf.randomNormal([4, 4], 0, 1, 'float32', 3);
      let message = '';
      try {
        optimizer.applyGradients({ [(w as tf.Variable).name]: grad });
      } catch (error) {
        message = (error as Error).message.replace((w as tf.Variable).name, 'w');
      }
      expect(values(w as tf.Variable)).toEqual(before);
      grad.dispose();
      return message;
    };
    const fused = run(true);
    expect(fused).toMatch(/^The step computed non-finite \(NaN or Inf\) values for 'w' from finite gradients/);
    expect(fused).toBe(run(false));
  });

  it.runIf(native.available)('leaks no tensor: a fused step leaves the tensor count as the composed one does', () => {
    const [va, vb] = twinVariables(Object.values(SHAPES));
    const fused = muon({ weightDecay: 0.1, cautiousWeightDecay: true });
    const composed = muon({ weightDecay: 0.1, cautiousWeightDecay: true, execution: { fused: false } });
    stepBoth(1, fused, va, composed, vb); // creates the state
    const count = tf.memory().numTensors;
    stepBoth(3, fused, va, composed, vb);
    expect(tf.memory().numTensors).toBe(count);
  });

  it('runs composed, saying why, where the options need the composition', () => {
    const reasons = (optimizer: TransformOptimizer) => optimizer.describeExecution().map(({ strategy, reason }) => `${strategy}: ${reason}`);
    expect(reasons(muon({ blockColumns: [{ name: 'qkv', blocks: 3 }] }))).toEqual([expect.stringMatching(/^composed: blockColumns splits matrices/)]);
    expect(reasons(muon({ execution: { orthogonalize: newtonSchulzEach } }))).toEqual([expect.stringMatching(/^composed: execution names its own orthogonalize kernel/)]);
    expect(reasons(muon({ execution: { fused: false } }))).toEqual(['composed: turned off by execution: { fused: false }']);
    const hybrid = new HybridOptimizer({ groups: { muon: { optimizer: 'normuon' }, adamw: { optimizer: 'lion' } } });
    expect(reasons(hybrid)).toEqual(['composed: NorMuon has no fused step', 'composed: Lion has no fused step']);
    expect(() => muon({ execution: { fused: 'yes' as unknown as boolean } })).toThrow(/execution.fused must be a boolean, got yes/);
  });
});

// Under momentumDtype 'bfloat16' the native kernel reads and writes the packed slot itself
// (fused_muon_step.cc's packedMomentumPass): the composition unpacks m exactly, steps on the float32
// m' and packs it rounded to nearest even, and so must the fused step, bit for bit, stored words
// included. Odd sizes leave the last word half filled.
const ODD_SHAPES = { tall: [15, 7], wide: [7, 15], conv: [3, 3, 3, 5], square: [9, 9], even: [8, 6] } as const;

describe.runIf(native.available).each(TEST_BACKENDS)("the fused Muon step with momentumDtype 'bfloat16' on %s", (backend) => {
  beforeAll(() => useBackend(backend));
  afterEach(() => vi.restoreAllMocks());

  it.each([true, false])('nesterov %s: equals the composed step bit for bit over 4 steps, odd sizes, weights and packed words, the kernel reading the packed slot', async (nesterov) => {
    const options: MuonOptions = { nesterov, momentumDtype: 'bfloat16', weightDecay: 0.1, momentum: momentumWarmup({ from: 0.85, to: 0.95, steps: 2 }), lrAdjust: 'matchAdamW' };
    const [va, vb] = twinVariables(Object.values(ODD_SHAPES));
    const fused = muon(options);
    const composed = muon({ ...options, execution: { fused: false } });
    if (!native.available) throw new Error('runs with the addon only');
    const muonStep = vi.spyOn(native.addon, 'muonStep');
    stepBoth(4, fused, va, composed, vb);
    expect(fused.describeExecution()[0]?.lastStep).toBe('fused');
    expect(composed.describeExecution()[0]?.lastStep).toBe('composed');
    // One call per step, on the packed words: no float32 momentum crossed into the addon.
    expect(muonStep).toHaveBeenCalledTimes(4);
    for (const [call] of muonStep.mock.calls) {
      if (call === undefined) throw new Error('muonStep called without options');
      expect(call.momentumDtype).toBe(NATIVE_MOMENTUM_DTYPE_CODES.bfloat16);
      expect(call.momenta.map((m) => [m.constructor.name, m.length])).toEqual(va.map((v) => ['Int32Array', Math.ceil(v.size / 2)]));
    }
    va.forEach((v, i) => expect(values(v), Object.keys(ODD_SHAPES)[i]).toEqual(values(vb[i] as tf.Variable)));
    const packed = va.map((v) => fused.getSlot(v.name, MUON_BFLOAT16_MOMENTUM_SLOT) as tf.Variable);
    expect(packed.map((p) => [p.dtype, p.shape])).toEqual(va.map((v) => ['int32', [Math.ceil(v.size / 2)]]));
    // An odd size's last word holds its value in the low half, the high half +0, as packBfloat16 leaves it.
    expect(packed.filter((p, i) => (va[i] as tf.Variable).size % 2 === 1).map((p) => ((values(p).at(-1) as number) >>> 16) === 0)).toEqual([true, true, true, true]);
    expect(await checkpointOf(fused, va)).toEqual(await checkpointOf(composed, vb));
    tf.dispose([...va, ...vb]);
  });

  it('a kernel that reads float32 momentum only is handed it unpacked and its result packed: the same bits', () => {
    const packedKernel = nativeMuonStep();
    const float32Kernel: MuonStepKernel = { unavailable: () => packedKernel.unavailable(), step: (variables, settings) => packedKernel.step(variables, settings) };
    const run = (kernel: MuonStepKernel) => {
      const step = fusedMuonStep(resolveMuonOptions({ momentumDtype: 'bfloat16', weightDecay: 0.1 }), () => 0.02, kernel);
      if (typeof step === 'string') throw new Error(step);
      const shapes = Object.values(ODD_SHAPES).filter((shape) => shape.length === 2);
      const byName = (make: (shape: readonly number[], i: number) => tf.Tensor) => Object.fromEntries(shapes.map((shape, i) => [`v${i}`, make(shape, i)]));
      const params = byName((shape, i) => tf.randomNormal([...shape], 0, 0.1, 'float32', 10 + i));
      const grads = byName((shape, i) => tf.randomNormal([...shape], 0, 1, 'float32', 20 + i));
      // A stored momentum of every kind of word: random bfloat16 pairs.
      const state = Object.fromEntries(
        Object.entries(byName((shape, i) => tf.randomUniform([Math.ceil(tf.util.sizeFromShape([...shape]) / 2)], -0x3f800000, 0x3f800000, 'int32', 30 + i))).map(([name, m]) => [
          name,
          { [MUON_BFLOAT16_MOMENTUM_SLOT]: m },
        ]),
      );
      const result = step.step(grads, state, params, { step: 1, inputs: {}, taps: SILENT_TAPS });
      const out = {
        values: Object.values(result.values).map(values),
        state: Object.values(result.state).map((slots) => [slots[MUON_BFLOAT16_MOMENTUM_SLOT]?.dtype, values(slots[MUON_BFLOAT16_MOMENTUM_SLOT] as tf.Tensor)]),
        flags: [result.nonFiniteGradients, result.nonFiniteValues],
      };
      tf.dispose([...Object.values(params), ...Object.values(grads), ...Object.values(state).flatMap(Object.values), ...Object.values(result.values), ...Object.values(result.state).flatMap(Object.values)]);
      return out;
    };
    const packed = run(packedKernel);
    expect(packed.state.every(([dtype]) => dtype === 'int32')).toBe(true);
    expect(packed).toEqual(run(float32Kernel));
  });

  it('a NaN gradient is refused with the composed step\'s message; no variable and no packed slot changes', async () => {
    const run = async (fused: boolean) => {
      const [vs] = twinVariables(Object.values(ODD_SHAPES));
      const optimizer = muon({ momentumDtype: 'bfloat16', weightDecay: 0.1, execution: { fused } });
      optimizer.applyGradients(vs.map((v, i) => ({ name: v.name, tensor: tf.randomNormal(v.shape, 0, 1, 'float32', 50 + i) })));
      const before = vs.map(values);
      const state = await checkpointOf(optimizer, vs);
      const bad = vs.map((v, i) => ({ name: v.name, tensor: i === 2 ? tf.fill(v.shape, Number.NaN) : tf.onesLike(v) }));
      let message = '';
      try {
        optimizer.applyGradients(bad);
      } catch (error) {
        message = (error as Error).message.replace((vs[2] as tf.Variable).name, 'conv');
      }
      expect(optimizer.describeExecution()[0]?.lastStep).toBe(fused ? 'fused' : 'composed');
      vs.forEach((v, i) => expect(values(v)).toEqual(before[i]));
      expect(await checkpointOf(optimizer, vs)).toEqual(state);
      expect(optimizer.iterations).toBe(1);
      tf.dispose([...bad.map((g) => g.tensor), ...vs]);
      return message;
    };
    const fused = await run(true);
    expect(fused).toBe("Non-finite (NaN or Inf) gradient for 'conv'; no variable was updated");
    expect(fused).toBe(await run(false));
  });

  it('a finite momentum that rounds to Inf in bfloat16 is refused by its slot, as composed, and nothing changes', async () => {
    // β = 0: m' = g; 3.4e38 is a finite float32 above the midpoint between bfloat16's largest
    // finite value (0x7f7f, 3.3895e38) and Inf, so it is stored as Inf (the last, half-filled word).
    const run = async (fused: boolean) => {
      const [[w]] = twinVariables([[5, 3]]);
      const v = w as tf.Variable;
      const optimizer = muon({ momentum: 0, momentumDtype: 'bfloat16', execution: { fused } });
      const ones = tf.onesLike(v);
      optimizer.applyGradients({ [v.name]: ones });
      const before = values(v);
      const state = await checkpointOf(optimizer, [v]);
      const grad = tf.tensor2d(Array.from({ length: 15 }, (_, k) => (k === 14 ? 3.4e38 : 1)), [5, 3]);
      let message = '';
      try {
        optimizer.applyGradients({ [v.name]: grad });
      } catch (error) {
        message = (error as Error).message.replaceAll(v.name, 'w');
      }
      expect(values(v)).toEqual(before);
      expect(await checkpointOf(optimizer, [v])).toEqual(state);
      expect(optimizer.iterations).toBe(1);
      expect(optimizer.describeExecution()[0]?.lastStep).toBe(fused ? 'fused' : 'composed');
      tf.dispose([ones, grad, v]);
      return message;
    };
    const fused = await run(true);
    expect(fused).toContain(MUON_BFLOAT16_MOMENTUM_SLOT);
    expect(fused).toBe(await run(false));
  });

  it('checkpoints move between fused and composed optimizers unchanged, and resume bit for bit', async () => {
    const [va, vb] = twinVariables([ODD_SHAPES.tall, ODD_SHAPES.square]);
    const options: MuonOptions = { momentumDtype: 'bfloat16', weightDecay: 0.1 };
    const first = muon({ ...options, execution: { fused: false } });
    const second = muon(options);
    stepBoth(2, first, va, second, vb);
    const rename = (name: string) => va.reduce((n, v, i) => n.replace(v.name, (vb[i] as tf.Variable).name), name);
    const saved = (await first.getWeights()).map(({ name, tensor }) => ({ name: rename(name), tensor: tensor.clone() }));
    expect(saved.filter(({ name }) => name.endsWith(MUON_BFLOAT16_MOMENTUM_SLOT)).map(({ tensor }) => tensor.dtype)).toEqual(['int32', 'int32']);
    const resumed = muon(options);
    await resumed.setWeights(saved);
    vb.forEach((v, i) => v.assign(va[i] as tf.Variable));
    stepBoth(3, first, va, resumed, vb);
    expect(resumed.describeExecution()[0]?.lastStep).toBe('fused');
    va.forEach((v, i) => expect(values(v)).toEqual(values(vb[i] as tf.Variable)));
    expect(await checkpointOf(resumed, vb)).toEqual(await checkpointOf(first, va));
    // And back: the fused optimizer's checkpoint resumes a composed one.
    const back = muon({ ...options, execution: { fused: false } });
    const unrename = (name: string) => vb.reduce((n, v, i) => n.replace(v.name, (va[i] as tf.Variable).name), name);
    const savedBack = (await resumed.getWeights()).map(({ name, tensor }) => ({ name: unrename(name), tensor: tensor.clone() }));
    await back.setWeights(savedBack);
    va.forEach((v, i) => v.assign(vb[i] as tf.Variable));
    stepBoth(2, resumed, vb, back, va);
    expect(back.describeExecution()[0]?.lastStep).toBe('composed');
    va.forEach((v, i) => expect(values(v)).toEqual(values(vb[i] as tf.Variable)));
    tf.dispose([...saved.map((s) => s.tensor), ...savedBack.map((s) => s.tensor), ...va, ...vb]);
  });
});
