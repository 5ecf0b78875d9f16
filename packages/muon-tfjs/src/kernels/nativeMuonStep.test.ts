import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { MuonStepKernel, MuonStepVariable } from '../math/muonStepKernel.js';
import { roundToBfloat16Bits } from '../math/bfloat16Storage.js';
import { type NewtonSchulzSchedule, resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { type StepOutputs, type StepVariableOf, addonStepExport, commonStepExportOptions, expectMismatchedGradientRefused, expectNonFiniteFlagged, expectRefusedWritingNothing } from '../testing/stepKernelContract.js';
import { NATIVE_MOMENTUM_DTYPE_CODES, NATIVE_PRECISION_CODES, loadNativeAddon } from './nativeAddon.js';
import { nativeMuonStep } from './nativeMuonStep.js';
import { nativeOrthogonalizer } from './nativeOrthogonalizer.js';

// The kernel's own contract: its flags, its precision and its refusals. Its values are compared bit
// for bit with the composed step in src/adapter/fusedMuonStep.test.ts.
const status = loadNativeAddon();
const schedule = resolveNewtonSchulz();
const settings = { beta: 0.95, nesterov: true, schedule, learningRate: 0.02, weightDecay: 0, cautious: false, momentumDtype: 'float32' } as const;
const muonVariable: StepVariableOf<MuonStepVariable> = (tensors) => ({ ...tensors, shapeScale: 1 });
const info = status.available ? status.addon.info() : undefined;
const bfloat16Missing = info === undefined || info.bfloat16 ? undefined : info.products.bfloat16;

describe.runIf(status.available).each(TEST_BACKENDS)('nativeMuonStep on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('can run here, and flags a non-finite gradient and a non-finite new value per variable', () => {
    const kernel = nativeMuonStep();
    expect(kernel.unavailable()).toBeUndefined();
    expectNonFiniteFlagged(kernel, settings, muonVariable, 'computed');
  });

  it('refuses mismatched tensors, naming the variable, and leaves no tensor behind', () => {
    expectMismatchedGradientRefused(nativeMuonStep(), settings, muonVariable);
  });
});

/**
 * The orthogonalized look-ahead O of one fused step, and the new momentum it came from: with p = 0,
 * s = 1, lr = −1 and no decay, the update p' = 0 + (O·1)·1 is O itself, bit for bit. β = 0.9, no
 * Nesterov, so the look-ahead is the new momentum (1 − β)·g.
 */
function orthogonalizedStep(kernel: MuonStepKernel, stepSchedule: NewtonSchulzSchedule, shapes: readonly (readonly [number, number])[]): { orthogonalized: number[][]; momenta: tf.Tensor2D[] } {
  const variables = shapes.map((shape, i) => ({ param: tf.zeros([...shape]), grad: tf.randomNormal([...shape], 0, 1, 'float32', 40 + i), momentum: tf.zeros([...shape]), shapeScale: 1 }));
  const results = kernel.step(variables, { beta: 0.9, nesterov: false, schedule: stepSchedule, learningRate: -1, weightDecay: 0, cautious: false, momentumDtype: 'float32' });
  const orthogonalized = results.map((r) => Array.from(r.param.dataSync()));
  tf.dispose([...variables.flatMap((v) => [v.param, v.grad, v.momentum]), ...results.map((r) => r.param)]);
  return { orthogonalized, momenta: results.map((r) => r.momentum as tf.Tensor2D) };
}

describe.runIf(status.available)('the precision of the fused step', () => {
  beforeAll(() => useBackend('cpu'));
  const shapes = [
    [48, 16],
    [16, 48],
  ] as const;

  for (const [precision, missing] of [
    ['float32', undefined],
    ['bfloat16', bfloat16Missing],
  ] as const) {
    it.skipIf(missing !== undefined)(`is the schedule's, as nativeOrthogonalizer runs it: ${precision}${missing === undefined ? '' : ` (skipped: ${missing}; the fallback is tested below)`}`, () => {
      const stepSchedule = resolveNewtonSchulz({ precision });
      const { orthogonalized, momenta } = orthogonalizedStep(nativeMuonStep(), stepSchedule, shapes);
      const composed = nativeOrthogonalizer()(momenta, stepSchedule);
      composed.forEach((o, i) => expect(orthogonalized[i], `matrix ${i}`).toEqual(Array.from(o.dataSync())));
      if (precision === 'bfloat16') {
        // Not float32's values: the precision reached the products.
        const float32 = orthogonalizedStep(nativeMuonStep(), schedule, shapes);
        float32.orthogonalized.forEach((o, i) => expect(o, `matrix ${i}`).not.toEqual(orthogonalized[i]));
        tf.dispose(float32.momenta);
      }
      tf.dispose([...momenta, ...composed]);
    });
  }

  it("without bfloat16 products (library 'openblas'), a bfloat16 schedule runs float32 and says so once, one message with the orthogonalizer's", () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const kernel = nativeMuonStep({ library: 'openblas' });
    const float32 = orthogonalizedStep(kernel, schedule, shapes);
    const bfloat16Schedule = resolveNewtonSchulz({ precision: 'bfloat16' });
    const runs = [orthogonalizedStep(kernel, bfloat16Schedule, shapes), orthogonalizedStep(kernel, bfloat16Schedule, shapes)];
    const composed = nativeOrthogonalizer({ library: 'openblas' })(float32.momenta, bfloat16Schedule);
    for (const run of runs) run.orthogonalized.forEach((o, i) => expect(o, `matrix ${i}`).toEqual(float32.orthogonalized[i]));
    composed.forEach((o, i) => expect(Array.from(o.dataSync()), `matrix ${i}`).toEqual(float32.orthogonalized[i]));
    const ours = warn.mock.calls.filter(([message]) => String(message).startsWith('muon-tfjs:'));
    expect(ours).toEqual([["muon-tfjs: precision 'bfloat16' was requested; the native kernel runs Newton–Schulz in float32 (library 'openblas' computes in float32)"]]);
    warn.mockRestore();
    tf.dispose([...float32.momenta, ...runs.flatMap((r) => r.momenta), ...composed]);
  });

  it('refuses a library it does not know', () => {
    expect(() => nativeMuonStep({ library: 'mkl' as 'openblas' })).toThrow(/^nativeMuonStep: library must be 'fastest' or 'openblas'; got "mkl"$/);
  });
});

describe.runIf(status.available)('the addon export muonStep', () => {
  /** The options of one 3×2 step into `outputs` (new parameter, new momentum), with `changes` over them. */
  const options = (grad: Float32Array, outputs: StepOutputs, changes: Record<string, unknown> = {}): Record<string, unknown> => ({
    ...commonStepExportOptions(grad, outputs),
    momentumDtype: NATIVE_MOMENTUM_DTYPE_CODES.float32,
    shapes: Int32Array.of(3, 2),
    beta: 0.95,
    nesterov: true,
    ...changes,
  });
  const call = addonStepExport(status, 'muonStep');
  const grad = Float32Array.of(1, -2, 3, 0.5, -1, 2);
  /** Expects `changes` to be refused with `type` and `message`, and nothing written. */
  const expectRefused = (changes: Record<string, unknown>, type: new (...args: never[]) => Error, message: RegExp | string) =>
    expectRefusedWritingNothing(call, (outputs) => options(grad, outputs, changes), type, message);

  it('refuses arrays of the wrong length instead of reading past them', () => {
    const outputs = [new Float32Array(6), new Float32Array(6)] as const;
    expect(() => call(options(new Float32Array(5), outputs))).toThrow(/^muonStep: grads\[0\] must be a Float32Array of 6 numbers \(its variable's size\)$/);
    expect(call(options(grad, outputs))).toEqual(new Uint8Array(1));
  });

  it('takes one options object, naming the field at fault: missing, unknown or of the wrong type', () => {
    const outputs = [new Float32Array(6), new Float32Array(6)] as const;
    expect(() => call()).toThrow(/^muonStep takes one options object \{ params, grads, momenta, newParams, newMomenta, momentumDtype, shapes, .*, cautious \}$/);
    expect(() => call(options(grad, outputs), 1)).toThrow(/^muonStep takes one options object/);
    expectRefused({ beta: undefined }, TypeError, /^muonStep: options\.beta is missing \(a finite number\)$/);
    expectRefused({ learningRate: Number.NaN }, TypeError, /^muonStep: options\.learningRate must be a finite number, got NaN$/);
    expectRefused({ nesterov: 1 }, TypeError, /^muonStep: options\.nesterov must be a boolean, got 1$/);
    expectRefused({ shapes: Float64Array.of(3, 2) }, TypeError, /^muonStep: options\.shapes must be an Int32Array, got 3,2$/);
    expectRefused({ hyper: Float64Array.of(0.95) }, TypeError, /^muonStep: unknown option 'hyper' \(it takes params, grads, .*\)$/);
    expectRefused({ shapeScales: Float64Array.of(1, 1) }, RangeError, /^muonStep: shapeScales must hold one number per variable$/);
    expectRefused({ plans: Int32Array.of(2, 0) }, RangeError, /^muonStep: plans\[0, 1\] must be an algorithm \(0 plain, 1 Gram\) and 0 or 1$/);
  });

  it('reads packed bfloat16 momenta under momentumDtype bfloat16: Int32Arrays of ceil(size / 2) words, refused otherwise before writing anything', () => {
    const bfloat16 = NATIVE_MOMENTUM_DTYPE_CODES.bfloat16;
    expectRefused({ momentumDtype: 2 }, RangeError, /^muonStep: momentumDtype must be 0 \(float32\) or 1 \(bfloat16\), got 2$/);
    expectRefused({ momentumDtype: 'bfloat16' }, TypeError, /^muonStep: momentumDtype must be a number/);
    expectRefused({ momentumDtype: bfloat16 }, TypeError, /^muonStep: momenta\[0\] must be an Int32Array of 3 words \(its variable's size in bfloat16, two per word\)$/);
    expectRefused({ momentumDtype: bfloat16, momenta: [new Int32Array(3)], newMomenta: [new Int32Array(4)] }, TypeError, /^muonStep: newMomenta\[0\] must be an Int32Array of 3 words/);
    expectRefused({ momenta: [new Int32Array(6)] }, TypeError, /^muonStep: momenta\[0\] must be a Float32Array of 6 numbers/);
    // m = 1 (0x3f80 in both halves of each word), g = grad, β = 0.95: m' = 0.95 + 0.05·g, stored packed.
    const newMomenta = new Int32Array(3).fill(7);
    const flags = call(options(grad, [new Float32Array(6), new Float32Array(6)], { momentumDtype: bfloat16, momenta: [new Int32Array(3).fill(0x3f803f80)], newMomenta: [newMomenta] }));
    expect(flags).toEqual(new Uint8Array(1));
    const [b, c] = [Math.fround(0.95), Math.fround(1 - 0.95)];
    const expected = Array.from(grad, (g) => roundToBfloat16Bits(new Uint32Array(Float32Array.of(Math.fround(b + Math.fround(g * c))).buffer)[0] as number));
    expect(Array.from(newMomenta)).toEqual([0, 2, 4].map((k) => ((expected[k] as number) | ((expected[k + 1] as number) << 16)) | 0));
  });

  it.each([
    [2, RangeError, /^muonStep: normalization must be 0 \(Frobenius\) or 1 \(AOL\), got 2$/],
    ['1', TypeError, /^muonStep: normalization must be a number/],
  ] as const)('refuses normalization %j before writing anything', (normalization, type, message) => {
    expectRefused({ normalization }, type, message);
  });

  it.each([
    [3, RangeError, /^muonStep: precision must be 0 \(float32\), 1 \(bfloat16\) or 2 \(float32 through OpenBLAS\), got 3$/],
    [-1, RangeError, /^muonStep: precision must be 0 \(float32\), 1 \(bfloat16\) or 2 \(float32 through OpenBLAS\), got -1$/],
    [0.5, RangeError, /^muonStep: precision must be 0 \(float32\), 1 \(bfloat16\) or 2 \(float32 through OpenBLAS\), got 0.5$/],
    ['1', TypeError, /^muonStep: precision must be a number/],
    ...(bfloat16Missing === undefined ? [] : [[NATIVE_PRECISION_CODES.bfloat16, Error, `muonStep: bfloat16 is ${bfloat16Missing}`] as const]),
  ] as const)('refuses precision %j before writing anything', (precision, type, message) => {
    expectRefused({ precision }, type, message);
  });
});
