import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dion2StepVariable } from '../math/dion2StepKernel.js';
import { resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { type StepOutputs, type StepVariableOf, addonStepExport, commonStepExportOptions, expectMismatchedGradientRefused, expectNonFiniteFlagged, expectRefusedWritingNothing } from '../testing/stepKernelContract.js';
import { loadNativeAddon } from './nativeAddon.js';
import { nativeDion2Step } from './nativeDion2Step.js';

// The kernel's own contract: its flags, what it computes on slices worked by hand, and its
// refusals. Its values are compared bit for bit with the composed step in
// src/adapter/fusedDion2Step.test.ts.
const status = loadNativeAddon();
const schedule = resolveNewtonSchulz({ coefficients: 'polarExpress5' });
const settings = { schedule, errorFeedbackDecay: 0.9, learningRate: 0.1, weightDecay: 0, cautious: false };
/** Two of the variable's columns selected: the [6, 4] and [3, 2] variables of the shared checks can both make that selection. */
const dion2Variable: StepVariableOf<Dion2StepVariable> = (tensors) => ({ ...tensors, side: 'columns', selected: 2, shapeScale: 1 });

describe.runIf(status.available).each(TEST_BACKENDS)('nativeDion2Step on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('updates only the selected slices and decays only their momentum (hand-checked on a [3, 4] matrix)', () => {
    // Rows are the shorter side of [3, 4]; k = 1. M' = M + G = G (M = 0); row L1 norms 3, 4, 1.5:
    // row 1 is selected. Its momentum becomes 0.9·M'₁ (float32 of (0.9 − 1) + 1), the others stay
    // M'; the parameter changes on row 1 only (p = 0, no decay, p' = −lr·s·O with O ≠ 0 there).
    const kernel = nativeDion2Step();
    const grad = tf.tensor2d([[1, 0, 2, 0], [0, 3, 0, 1], [0.5, 0.5, 0, 0.5]]);
    const param = tf.zeros([3, 4]);
    const momentum = tf.zeros([3, 4]);
    const [result] = kernel.step([{ param, grad, momentum, side: 'rows', selected: 1, shapeScale: 1 }], settings);
    const factor = Math.fround(Math.fround(0.9 - 1) + 1);
    expect(result?.momentum.arraySync()).toEqual([[1, 0, 2, 0], [0, 3, 0, 1].map((x) => Math.fround(x * factor)), [0.5, 0.5, 0, 0.5]]);
    const moved = (result?.param.arraySync() as number[][]).map((row) => row.some((x) => x !== 0));
    expect(moved).toEqual([false, true, false]);
    // Row 1 is [0, 3, 0, 1]: its polar factor is the row over its length, and 5 polarExpress
    // iterations take a single σ = 1 (after normalization) to within their 0.14 worst-case error.
    const row = (result?.param.arraySync() as number[][])[1] as number[];
    [0, 3 / Math.sqrt(10), 0, 1 / Math.sqrt(10)].forEach((o, j) => expect(Math.abs((row[j] as number) + 0.1 * o)).toBeLessThan(0.1 * 0.15));
    expect([result?.gradientFinite, result?.momentumFinite, result?.paramFinite]).toEqual([true, true, true]);
    tf.dispose([grad, param, momentum, result?.param, result?.momentum]);
  });

  it('flags a non-finite gradient, and a non-finite new value from finite inputs, per variable', () => {
    expectNonFiniteFlagged(nativeDion2Step(), settings, dion2Variable, 'skipped');
  });

  it('refuses a selection its variable cannot make, naming the variable, and leaves no tensor behind', () => {
    const kernel = nativeDion2Step();
    const param = tf.zeros([3, 2]);
    const count = tf.memory().numTensors;
    for (const selected of [0, 3, 1.5]) {
      expect(() => kernel.step([{ param, grad: param, momentum: param, side: 'columns', selected, shapeScale: 1 }], settings)).toThrow(
        `nativeDion2Step: variable 0 ([3, 2]) cannot select ${selected} of its 2 columns`,
      );
    }
    expect(tf.memory().numTensors).toBe(count);
    param.dispose();
    expectMismatchedGradientRefused(kernel, settings, dion2Variable);
  });
});

describe.runIf(status.available)('the addon export dion2Step', () => {
  const grad = Float32Array.of(1, -2, 3, 0.5, -1, 2);
  /** One [3, 2] variable selecting 1 of its 2 columns (a [1, 3] submatrix), into `outputs`, with `changes`. */
  const options = (outputs: StepOutputs, changes: Record<string, unknown> = {}): Record<string, unknown> => ({
    ...commonStepExportOptions(grad, outputs),
    variableShapes: Int32Array.of(3, 2),
    selections: Int32Array.of(1, 1),
    shapes: Int32Array.of(1, 3),
    errorFeedbackDecay: 0.95,
    normsInFloat64: false,
    ...changes,
  });
  const call = addonStepExport(status, 'dion2Step');
  /** Expects `changes` to be refused with a RangeError and `message`, and nothing written. */
  const expectRefused = (changes: Record<string, unknown>, message: RegExp) => expectRefusedWritingNothing(call, (outputs) => options(outputs, changes), RangeError, message);

  it('runs on valid options and refuses, writing nothing, a selection or plan that does not fit its variable', () => {
    const outputs = [new Float32Array(6), new Float32Array(6)] as const;
    expect(call(options(outputs))).toEqual(new Uint8Array(1));
    expectRefused({ selections: Int32Array.of(2, 1) }, /^dion2Step: selections\[0, 1\] must start with a side \(0 rows, 1 columns\)$/);
    expectRefused({ selections: Int32Array.of(1, 3) }, /^dion2Step: selections\[0, 1\] selects 3 of 2 slices$/);
    expectRefused({ selections: Int32Array.of(1, 0) }, /^dion2Step: selections\[0, 1\] selects 0 of 2 slices$/);
    expectRefused({ shapes: Int32Array.of(1, 2) }, /^dion2Step: shapes\[0, 1\] must be the selected submatrix \[1, 3\]$/);
    expectRefused({ variableShapes: Int32Array.of(3) }, /^dion2Step: variableShapes must hold two numbers per variable$/);
    expectRefused({ variableShapes: Int32Array.of(0, 2) }, /^dion2Step: variableShapes\[0, 1\] must be positive$/);
    expectRefused({ errorFeedbackDecay: 1 }, /^dion2Step: errorFeedbackDecay must be in \[0, 1\), got 1/);
  });
});
