import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { NATIVE_PRECISION_CODES, type NativeAddonStatus } from '../kernels/nativeAddon.js';
import type { MuonStepResult } from '../math/muonStepKernel.js';

/** A fused step kernel (MuonStepKernel, Dion2StepKernel) as the shared checks call it. */
interface StepKernel<Variable, Settings> {
  step(variables: readonly Variable[], settings: Settings): MuonStepResult[];
}

/** The kernel's variable of these tensors, with the fields of its kind (shape scale, selection). */
export type StepVariableOf<Variable> = (tensors: { param: tf.Tensor; grad: tf.Tensor; momentum: tf.Tensor }) => Variable;

const flags = (result: MuonStepResult | undefined) => [result?.gradientFinite, result?.momentumFinite, result?.paramFinite];

/**
 * Expects the kernel to flag, per variable, a non-finite gradient (and so a non-finite momentum) and
 * a non-finite new value from finite inputs (a learning rate of 1e39), on a [6, 4] variable, with
 * every flag up for a finite step beside them. `afterBadGradient` says whether the kernel goes on
 * to compute, and flag, the new value of a variable whose gradient is not finite ('computed', as
 * Muon's does) or leaves it ('skipped', as Dion2's does: that step is refused whatever it holds).
 */
export function expectNonFiniteFlagged<Variable, Settings extends { readonly learningRate: number }>(
  kernel: StepKernel<Variable, Settings>,
  settings: Settings,
  variable: StepVariableOf<Variable>,
  afterBadGradient: 'computed' | 'skipped',
): void {
  const param = tf.randomNormal([6, 4], 0, 1, 'float32', 1);
  const momentum = tf.zeros([6, 4]);
  const finite = tf.randomNormal([6, 4], 0, 1, 'float32', 2);
  const nan = tf.fill([6, 4], Number.NaN);
  const [ok, badGradient] = kernel.step([variable({ param, grad: finite, momentum }), variable({ param, grad: nan, momentum })], settings);
  expect(flags(ok)).toEqual([true, true, true]);
  expect([badGradient?.gradientFinite, badGradient?.momentumFinite]).toEqual([false, false]);
  if (afterBadGradient === 'computed') expect(badGradient?.paramFinite).toBe(false);
  const [overflow] = kernel.step([variable({ param, grad: finite, momentum })], { ...settings, learningRate: 1e39 });
  expect(flags(overflow)).toEqual([true, true, false]);
  tf.dispose([param, momentum, finite, nan, ok?.param, ok?.momentum, badGradient?.param, badGradient?.momentum, overflow?.param, overflow?.momentum]);
}

/** Expects the kernel to refuse a [3, 2] variable's [2, 3] gradient, naming the variable, and to leave no tensor behind. */
export function expectMismatchedGradientRefused<Variable, Settings>(kernel: StepKernel<Variable, Settings>, settings: Settings, variable: StepVariableOf<Variable>): void {
  const param = tf.zeros([3, 2]);
  const transposed = tf.zeros([2, 3]);
  const count = tf.memory().numTensors;
  expect(() => kernel.step([variable({ param, grad: transposed, momentum: param })], settings)).toThrow(/variable 0 is \[3, 2\] but its gradient is \[2, 3\]/);
  expect(tf.memory().numTensors).toBe(count);
  tf.dispose([param, transposed]);
}

/** The addon's step export `name`, callable with any arguments, as JavaScript that ignores its types would call it. */
export function addonStepExport(status: NativeAddonStatus, name: 'muonStep' | 'dion2Step'): (...args: unknown[]) => Uint8Array {
  return (...args) => {
    if (!status.available) throw new Error('addon missing');
    return (status.addon[name] as (...args: unknown[]) => Uint8Array)(...args);
  };
}

/** The new parameter and new momentum a step export writes, for one 3×2 variable. */
export type StepOutputs = readonly [Float32Array, Float32Array];

/**
 * The options the step exports (muonStep, dion2Step) take alike, for one variable of 6 numbers
 * stepped from a zero parameter and momentum by `grad` into `outputs`: a plain float32 plan, the
 * quintic (3, −3.2, 1.2), a shape scale of 1, lr 0.02 and no decay.
 */
export function commonStepExportOptions(grad: Float32Array, outputs: StepOutputs): Record<string, unknown> {
  const zeros = new Float32Array(6);
  return {
    params: [zeros],
    grads: [grad],
    momenta: [zeros],
    newParams: [outputs[0]],
    newMomenta: [outputs[1]],
    plans: Int32Array.of(0, 0),
    flops: Float64Array.of(1),
    shapeScales: Float64Array.of(1),
    coefficients: Float64Array.of(3, -3.2, 1.2),
    normalizationScale: 1,
    eps: 1e-7,
    restartAfter: new Int32Array(0),
    precision: NATIVE_PRECISION_CODES.float32,
    normalization: 0,
    learningRate: 0.02,
    weightDecay: 0,
    cautious: false,
  };
}

/**
 * Expects the step export `call` to refuse the options `options(outputs)` with `type` and `message`,
 * before writing anything into `outputs`.
 */
export function expectRefusedWritingNothing(
  call: (options: Record<string, unknown>) => Uint8Array,
  options: (outputs: StepOutputs) => Record<string, unknown>,
  type: new (...args: never[]) => Error,
  message: RegExp | string,
): void {
  const outputs = [new Float32Array(6).fill(7), new Float32Array(6).fill(7)] as const;
  expect(() => call(options(outputs))).toThrow(type);
  expect(() => call(options(outputs))).toThrow(message);
  for (const o of outputs) expect(Array.from(o)).toEqual(Array<number>(6).fill(7));
}
