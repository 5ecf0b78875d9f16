import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../kernels/nativeAddon.js';
import { newtonSchulzEach } from '../math/orthogonalizer.js';
import { linear, momentumWarmup, piecewise } from '../math/schedule.js';
import type { MuonHyperParameters, MuonOptions } from '../optimizers/muon.js';
import { MUON_TAPS } from '../transforms/scaleByMuon.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { type FusedStepKind, expectFusedEqualsComposed, testFusedStepContract } from '../testing/fusedStepContract.js';
import { CONV_VIEWS, MATRIX_SHAPES as SHAPES, NEWTON_SCHULZ_PRECISIONS as PRECISIONS } from '../testing/matrixStepCases.js';
import { expectTwinsEqual, hostValues as values, seededVariables, standardNormalGradient, stepBoth as stepTwins, twinVariables } from '../testing/twinSteps.js';
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
