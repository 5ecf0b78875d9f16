import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import { useBackend } from '../testing/backends.js';
import { loadNativeAddon, nativeThreading } from './nativeAddon.js';
import { nativeOrthogonalizer } from './nativeOrthogonalizer.js';

// How the native kernel chooses its threads (issue 25): following the machine's load by default,
// exactly the count given to setThreads(n). The choice itself, against machines made busy on
// purpose, is tested without Node in native/test/engine_test.cc ("threadingCase").
const status = loadNativeAddon();

describe.runIf(status.available)('nativeThreading', () => {
  beforeAll(() => useBackend('cpu'));
  afterAll(() => {
    if (status.available) status.addon.setThreads(status.addon.info().threads, true);
  });
  const orthogonalizeOnce = (): void => {
    const g = tf.randomNormal([32, 48], 0, 1, 'float32', 3) as tf.Tensor2D;
    tf.dispose([g, ...nativeOrthogonalizer()([g], resolveNewtonSchulz())]);
  };

  it('follows the load by default: each call takes between 1 and its most threads, as the CPUs other processes leave free', () => {
    const before = nativeThreading();
    expect(before?.followsLoad).toBe(true);
    orthogonalizeOnce();
    const after = nativeThreading();
    if (after === undefined || before === undefined || after.lastCall === null) throw new Error('no threading after a call');
    expect(after.calls).toBe(before.calls + 1);
    const { threads, cpus, othersRunnable } = after.lastCall;
    expect(cpus).toBeGreaterThanOrEqual(1);
    if (othersRunnable >= 0) expect(threads).toBe(Math.min(Math.max(cpus - othersRunnable, 1), after.threads));
    else expect(threads).toBe(after.threads); // an OS without /proc: the most threads
  });

  it('runs exactly the count setThreads(n) fixes, without looking at the machine', () => {
    if (!status.available) return;
    status.addon.setThreads(3);
    orthogonalizeOnce();
    expect(nativeThreading()).toMatchObject({ threads: 3, followsLoad: false, lastCall: { threads: 3, cpus: 0, othersRunnable: -1, sideBySide: 1 } });
    expect(status.addon.info()).toMatchObject({ threads: 3, followsLoad: false });
    status.addon.setThreads(2, true);
    expect(nativeThreading()).toMatchObject({ threads: 2, followsLoad: true });
    expect(() => (status.addon.setThreads as (...args: unknown[]) => void)(2, 'yes')).toThrow(/^setThreads\(count\[, followLoad\]\)$/);
  });

  it('runs matrices of equal cost side by side, one per thread, with the bits of one thread', () => {
    if (!status.available) return;
    const gs = [5, 6, 7].map((seed) => tf.randomNormal([24, 40], 0, 1, 'float32', seed) as tf.Tensor2D);
    const orthogonalizeAll = (): Float32Array[] => {
      const outs = nativeOrthogonalizer()(gs, resolveNewtonSchulz());
      // A test on the cpu backend (beforeAll): the read compares the two thread counts' bits.
      const values = outs.map((o) => o.dataSync() as Float32Array);
      tf.dispose(outs);
      return values;
    };
    status.addon.setThreads(3);
    const sideBySide = orthogonalizeAll();
    expect(nativeThreading()?.lastCall).toMatchObject({ threads: 3, sideBySide: 3 });
    status.addon.setThreads(1);
    const oneThread = orthogonalizeAll();
    expect(nativeThreading()?.lastCall).toMatchObject({ threads: 1, sideBySide: 1 });
    sideBySide.forEach((values, i) => expect(values).toEqual(oneThread[i]));
    tf.dispose(gs);
  });
});
