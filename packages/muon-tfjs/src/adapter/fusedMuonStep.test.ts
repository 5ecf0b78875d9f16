import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { NATIVE_MOMENTUM_DTYPE_CODES, loadNativeAddon } from '../kernels/nativeAddon.js';
import { nativeMuonStep } from '../kernels/nativeMuonStep.js';
import type { MuonStepKernel } from '../math/muonStepKernel.js';
import { newtonSchulzEach } from '../math/orthogonalizer.js';
import { linear, momentumWarmup, piecewise } from '../math/schedule.js';
import { fusedMuonStep } from '../optimizers/fusedMuon.js';
import { type MuonHyperParameters, type MuonOptions, resolveMuonOptions } from '../optimizers/muon.js';
import { MUON_BFLOAT16_MOMENTUM_SLOT, MUON_TAPS } from '../transforms/scaleByMuon.js';
import { SILENT_TAPS } from '../transforms/taps.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { type FusedStepKind, expectFusedEqualsComposed, testFusedStepContract } from '../testing/fusedStepContract.js';
import { CONV_VIEWS, MATRIX_SHAPES as SHAPES, NEWTON_SCHULZ_PRECISIONS as PRECISIONS } from '../testing/matrixStepCases.js';
import { checkpointByPosition as checkpointOf, expectTwinsEqual, hostValues as values, seededVariables, standardNormalGradient, stepBoth as stepTwins, twinVariables } from '../testing/twinSteps.js';
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
/** Muon with the conv kernels declared. */
const muon = (options: MuonOptions = {}) => createMuon({ matrixViews: CONV_VIEWS, ...options });

/** Applies the same `steps` seeded standard normal gradients to both optimizers, each on its own variables. */
const stepBoth = (steps: number, a: TransformOptimizer, va: tf.Variable[], b: TransformOptimizer, vb: tf.Variable[]): void => stepTwins(steps, a, va, b, vb, standardNormalGradient);

const MUON: FusedStepKind<MuonOptions> = {
  label: 'muon',
  make: muon,
  shapes: SHAPES,
  gradient: standardNormalGradient,
  decay: { weightDecay: 0.1 },
  overflowShape: [4, 4],
  // A learning rate of 1e39 overflows the weight.
  overflows: [{ options: { learningRate: 1e39 }, gradient: (shape) => tf.randomNormal(shape, 0, 1, 'float32', 3), steps: 1, refused: ['w'] }],
};

const DECAYS: Record<string, MuonHyperParameters> = {
  none: {},
  decoupled: { weightDecay: 0.1 },
  corrected: { weightDecay: 0.1, correctedWeightDecay: true, learningRate: linear({ from: 0.02, to: 0.005, steps: 4 }) },
  cautious: { weightDecay: 0.1, cautiousWeightDecay: true },
  'corrected + cautious': { weightDecay: 0.1, correctedWeightDecay: true, cautiousWeightDecay: true, learningRate: linear({ from: 0.02, to: 0.005, steps: 4 }) },
};

describe.each(TEST_BACKENDS)('the fused Muon step on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  testFusedStepContract(MUON);

  it.runIf(native.available)('runs fused by default in bfloat16 too: the kernel runs the schedule\'s precision (or float32, said once, where it cannot)', () => {
    expect(muon({ precision: 'bfloat16' }).describeExecution()).toEqual([expect.objectContaining({ label: 'muon', strategy: 'fused' })]);
  });

  for (const { precision, runs } of PRECISIONS) {
    const variant = `${precision}${runs}`;
    describe.runIf(native.available).each(Object.entries(DECAYS))(`equals the composed step bit for bit in ${variant}, weight decay %s`, (_, decay) => {
      it.each([true, false])('nesterov %s: tall, wide, conv and square, 3 steps, with a momentum warm-up', async (nesterov) => {
        await expectFusedEqualsComposed(MUON, { ...decay, nesterov, momentum: momentumWarmup({ from: 0.85, to: 0.95, steps: 2 }), lrAdjust: 'matchAdamW', precision }, 3);
      });
    });

    it.runIf(native.available)(`equals the composed step bit for bit in ${variant} with turboMuon (AOL normalization)`, async () => {
      // AOL rescales inside the engine both paths share: the fused step must run it, not drop it.
      await expectFusedEqualsComposed(MUON, { coefficients: 'turboMuon', weightDecay: 0.1, precision }, 3);
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
      await expectTwinsEqual(fused, va, composed, vb);
    });
  }

  it.runIf(native.available)('nsSteps over training (3, then 5 from step 3): the fused step runs each step\'s count, bit for bit as composed', async () => {
    const nsSteps = piecewise({ boundaries: [2], values: [3, 5] });
    await expectFusedEqualsComposed(MUON, { nsSteps, weightDecay: 0.1 }, 4);
    // The count does change: two steps at 3, then one at 5, differ from three steps at 3.
    const [[a], [b]] = twinVariables([[48, 48]]);
    const scheduled = muon({ nsSteps });
    const three = muon({ nsSteps: 3 });
    stepBoth(2, scheduled, [a as tf.Variable], three, [b as tf.Variable]);
    expect(values(a as tf.Variable)).toEqual(values(b as tf.Variable));
    stepBoth(1, scheduled, [a as tf.Variable], three, [b as tf.Variable]);
    expect(values(a as tf.Variable)).not.toEqual(values(b as tf.Variable));
  });

  it.runIf(native.available)('a step with a Muon tap heard runs composed and delivers the values; the others run fused, and the state goes on as one path\'s', async () => {
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
    expect(await checkpointOf(tapped, va)).toEqual(await checkpointOf(composed, vb));
  });

  it.runIf(native.available)('all-or-nothing in the hybrid: a NaN in an AdamW gradient also stops the fused Muon half', () => {
    const vs = seededVariables([SHAPES.tall, SHAPES.square, [32]]);
    const optimizer = new MuonWithAdamWOptimizer();
    const before = vs.map(values);
    const grads = vs.map((v, i) => ({ name: v.name, tensor: i === 2 ? tf.fill(v.shape, Number.POSITIVE_INFINITY) : tf.onesLike(v) }));
    expect(() => optimizer.applyGradients(grads)).toThrow(new RegExp(`gradient for '${vs[2]?.name}'; no variable was updated`));
    vs.forEach((v, i) => expect(values(v)).toEqual(before[i]));
    expect(optimizer.iterations).toBe(0);
    expect(optimizer.variableNames).toEqual([]);
    tf.dispose(grads.map((g) => g.tensor));
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

const MUON_BFLOAT16: FusedStepKind<MuonOptions> = {
  ...MUON,
  make: (options) => muon({ momentumDtype: 'bfloat16', ...options }),
  shapes: ODD_SHAPES,
  overflowShape: [5, 3],
  overflows: [
    ...MUON.overflows,
    // β = 0: m' = g; 3.4e38 is a finite float32 above the midpoint between bfloat16's largest
    // finite value (0x7f7f, 3.3895e38) and Inf, so the slot stores Inf (in the last, half-filled
    // word) while Newton–Schulz, on the float32 m', and the weight stay finite.
    {
      options: { momentum: 0 },
      gradient: (shape) => {
        const size = tf.util.sizeFromShape(shape);
        return tf.tensor(Array.from({ length: size }, (_, k) => (k === size - 1 ? 3.4e38 : 1)), shape);
      },
      steps: 1,
      refused: [`w/${MUON_BFLOAT16_MOMENTUM_SLOT}`],
    },
  ],
};

describe.runIf(native.available).each(TEST_BACKENDS)("the fused Muon step with momentumDtype 'bfloat16' on %s", (backend) => {
  beforeAll(() => useBackend(backend));
  afterEach(() => vi.restoreAllMocks());

  testFusedStepContract(MUON_BFLOAT16);

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
});
