import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { loadNativeAddon } from './nativeAddon.js';
import { nativeMuonStep } from './nativeMuonStep.js';

// The kernel's own contract: its flags and its refusals. Its values are compared bit for bit with
// the composed step in src/adapter/fusedMuonStep.test.ts.
const status = loadNativeAddon();
const schedule = resolveNewtonSchulz();
const settings = { beta: 0.95, nesterov: true, schedule, learningRate: 0.02, weightDecay: 0, cautious: false };

describe.runIf(status.available).each(TEST_BACKENDS)('nativeMuonStep on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('can run here, and flags a non-finite gradient and a non-finite new value per variable', () => {
    const kernel = nativeMuonStep();
    expect(kernel.unavailable()).toBeUndefined();
    const param = tf.randomNormal([6, 4], 0, 1, 'float32', 1);
    const momentum = tf.zeros([6, 4]);
    const finite = tf.randomNormal([6, 4], 0, 1, 'float32', 2);
    const nan = tf.fill([6, 4], Number.NaN);
    const [ok, badGradient] = kernel.step(
      [
        { param, grad: finite, momentum, shapeScale: 1 },
        { param, grad: nan, momentum, shapeScale: 1 },
      ],
      settings,
    );
    expect([ok?.gradientFinite, ok?.momentumFinite, ok?.paramFinite]).toEqual([true, true, true]);
    expect([badGradient?.gradientFinite, badGradient?.momentumFinite, badGradient?.paramFinite]).toEqual([false, false, false]);
    const [overflow] = kernel.step([{ param, grad: finite, momentum, shapeScale: 1 }], { ...settings, learningRate: 1e39 });
    expect([overflow?.gradientFinite, overflow?.momentumFinite, overflow?.paramFinite]).toEqual([true, true, false]);
    tf.dispose([param, momentum, finite, nan, ok?.param, ok?.momentum, badGradient?.param, badGradient?.momentum, overflow?.param, overflow?.momentum]);
  });

  it('refuses mismatched tensors, naming the variable, and leaves no tensor behind', () => {
    const kernel = nativeMuonStep();
    const param = tf.zeros([3, 2]);
    const grad = tf.zeros([2, 3]);
    const count = tf.memory().numTensors;
    expect(() => kernel.step([{ param, grad, momentum: param, shapeScale: 1 }], settings)).toThrow(/variable 0 is \[3, 2\] but its gradient is \[2, 3\]/);
    expect(tf.memory().numTensors).toBe(count);
    tf.dispose([param, grad]);
  });
});

describe.runIf(status.available)('the addon export muonStep', () => {
  it('refuses arrays of the wrong length instead of reading past them', () => {
    if (!status.available || status.addon.muonStep === undefined) throw new Error('muonStep missing');
    const a = new Float32Array(6);
    const short = new Float32Array(5);
    const call = (grad: Float32Array) =>
      status.addon.muonStep?.([a], [grad], [a], [new Float32Array(6)], [new Float32Array(6)], Int32Array.of(3, 2), Int32Array.of(0, 0), Float64Array.of(1), Float64Array.of(1), Float64Array.of(3, -3.2, 1.2), 1, 1e-7, new Int32Array(0), Float64Array.of(0.95, 1, 0.02, 0, 0));
    expect(() => call(short)).toThrow(/grads\[0\] must be a Float32Array of rows × cols = 6 numbers/);
    expect(call(new Float32Array(6))).toEqual(new Uint8Array(1));
  });
});
