import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../kernels/nativeAddon.js';
import { newtonSchulzEach } from '../math/orthogonalizer.js';
import { linear } from '../math/schedule.js';
import type { Dion2Options } from '../optimizers/dion2.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { fixNativeThreads } from '../testing/fixedNativeThreads.js';
import { type FusedStepKind, expectFusedEqualsComposed, testFusedStepContract } from '../testing/fusedStepContract.js';
import { CONV_VIEWS, MATRIX_SHAPES as SHAPES, NEWTON_SCHULZ_PRECISIONS as PRECISIONS } from '../testing/matrixStepCases.js';
import { expectTwinsEqual, hostValues as values, standardNormalGradient, stepBoth as stepTwins, twinVariables } from '../testing/twinSteps.js';
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
const dion2 = (options: Dion2Options = {}) => createDion2({ matrixViews: CONV_VIEWS, ...options });

const stepBoth = (steps: number, a: TransformOptimizer, va: tf.Variable[], b: TransformOptimizer, vb: tf.Variable[]): void => stepTwins(steps, a, va, b, vb, standardNormalGradient);

const DION2: FusedStepKind<Dion2Options> = {
  label: 'dion2',
  make: dion2,
  /** Columns selected (tall: fanOut 32 ≤ 96), rows (wide), columns of the flattened 36×8 conv kernel, columns on a tie (square). */
  shapes: SHAPES,
  gradient: standardNormalGradient,
  decay: { weightDecay: 0.1 },
  overflowShape: [4, 6],
  // A learning rate of 1e39 overflows the weight; two gradients of 3e38 overflow the momentum M + G,
  // and the weight with it.
  overflows: [
    { options: { learningRate: 1e39 }, gradient: (shape) => tf.fill(shape, 1), steps: 1, refused: ['w'] },
    { options: {}, gradient: (shape) => tf.fill(shape, 3e38), steps: 2, refused: ['w', 'w/momentum'] },
  ],
};

const DECAYS: Record<string, Dion2Options> = {
  none: { weightDecay: 0 },
  decoupled: { weightDecay: 0.1 },
  corrected: { weightDecay: 0.1, correctedWeightDecay: true, learningRate: linear({ from: 0.02, to: 0.005, steps: 4 }) },
  cautious: { weightDecay: 0.1, cautiousWeightDecay: true },
};

describe.each(TEST_BACKENDS)('the fused Dion2 step on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  testFusedStepContract(DION2);

  for (const { precision, runs } of PRECISIONS) {
    describe.runIf(native.available).each(Object.entries(DECAYS))(`equals the composed step bit for bit in ${precision}${runs}, weight decay %s`, (_, decay) => {
      // α = 1/4 (k = 8, 8, 2, 12 slices), one slice (k = 1), and every slice (α = 1: Muon without Nesterov).
      it.each([0.25, 0.01, 1])('fraction %s: tall, wide, conv and square, 4 steps of error feedback', async (fraction) => {
        await expectFusedEqualsComposed(DION2, { ...decay, fraction, errorFeedbackDecay: 0.9, lrAdjust: 'matchAdamW', precision }, 4);
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
      const w = tf.variable(tf.zeros([3, 2]));
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
    await expectTwinsEqual(fused, va, composed, vb);
  });

  it('runs composed, saying why, where the options need the composition', () => {
    const reasons = (optimizer: TransformOptimizer) => optimizer.describeExecution().map(({ strategy, reason }) => `${strategy}: ${reason}`);
    expect(reasons(dion2({ matrixViews: [{ name: 'experts', reductionAxes: 1, outputAxes: 2 }] }))).toEqual([expect.stringMatching(/^composed: matrixViews sees some weights as batches/)]);
    expect(reasons(dion2({ convOrthogonalization: 'perTap' }))).toEqual([expect.stringMatching(/^composed: convOrthogonalization 'perTap' selects in each tap apart/)]);
    expect(reasons(dion2({ execution: { orthogonalize: newtonSchulzEach } }))).toEqual([expect.stringMatching(/^composed: execution names its own orthogonalize kernel/)]);
    expect(reasons(dion2({ execution: { fused: false } }))).toEqual(['composed: turned off by execution: { fused: false }']);
  });
});
