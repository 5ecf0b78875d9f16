import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backends.js';
import { fixNativeThreads } from '../testing/fixedNativeThreads.js';
import { maxAbsDiff } from '../diagnostics/float64Matrices.js';
import { describeOrthogonalizerContract } from '../testing/orthogonalizerContract.js';
import { describeFastestOrthogonalizer, fastestOrthogonalizer } from './fastestOrthogonalizer.js';
import { loadNativeAddon } from './nativeAddon.js';
import { nativeOrthogonalizer } from './nativeOrthogonalizer.js';
import { resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';

/**
 * The native kernel is optional: without a compiler or OpenBLAS, `npm ci` skips its build and these
 * tests are skipped (with the reason printed). CI builds it and sets MUON_TFJS_REQUIRE_NATIVE=1, so
 * there an absent addon is a failure, not a skip.
 *
 * Tolerances: as in gramNewtonSchulz.test.ts. OpenBLAS sums in fp32 (the TF.js cpu backend sums in
 * float64), so the plain iteration measures ≤ 3.2e-6 and the Gram iteration ≤ 2.2e-5 here.
 */
const status = loadNativeAddon();
// Compares native runs bit for bit on products OpenBLAS may split (48×160): one thread count for all.
fixNativeThreads();
const required = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.MUON_TFJS_REQUIRE_NATIVE === '1';

describe('native addon availability', () => {
  // Runs first in this file (its own process): no tf.setBackend and no op has run yet.
  it.runIf(status.available)('before a backend is set, says so rather than naming backend undefined', () => {
    expect(tf.getBackend()).toBeUndefined();
    expect(describeFastestOrthogonalizer()).toMatchObject({ kernel: 'native', reason: expect.stringMatching(/^no TF\.js backend set yet: the (oneDNN|OpenBLAS) addon at .*muon_native\.node runs once it is cpu, wasm, tensorflow$/) as unknown });
  });

  it(status.available ? 'is built and loads' : `is absent (${status.reason}): native tests skipped`, async () => {
    await useBackend('cpu');
    if (required) expect(status.available, status.available ? '' : status.reason).toBe(true);
    if (status.available) {
      expect(status.addon.info().blas).toMatch(/OpenBLAS/);
      expect(describeFastestOrthogonalizer().kernel).toBe('native');
    } else {
      expect(describeFastestOrthogonalizer().kernel).toBe('tfjs');
      expect(() => nativeOrthogonalizer()).toThrow(/native kernel unavailable/);
    }
  });
});

if (status.available) {
  describeOrthogonalizerContract('nativeOrthogonalizer() (auto)', () => nativeOrthogonalizer(), 1e-4);
  describeOrthogonalizerContract('nativeOrthogonalizer({algorithm: gram})', () => nativeOrthogonalizer({ algorithm: 'gram' }), 1e-4);
  describeOrthogonalizerContract('nativeOrthogonalizer({algorithm: plain})', () => nativeOrthogonalizer({ algorithm: 'plain' }), 1e-5);
  describeOrthogonalizerContract('fastestOrthogonalizer() with the addon', () => fastestOrthogonalizer(), 1e-4);
}

describe.skipIf(!status.available)('nativeOrthogonalizer algorithm choice', () => {
  it('runs the plain iteration under auto for a convergent schedule, the Gram one otherwise', async () => {
    await useBackend('cpu');
    const g = tf.randomNormal([48, 160], 0, 1, 'float32', 4) as tf.Tensor2D;
    for (const [coefficients, expected] of [
      ['polarExpress8', 'plain'],
      ['jordan', 'gram'],
    ] as const) {
      const schedule = resolveNewtonSchulz({ coefficients });
      const [auto] = nativeOrthogonalizer()([g], schedule);
      const [chosen] = nativeOrthogonalizer({ algorithm: expected })([g], schedule);
      expect(maxAbsDiff((auto as tf.Tensor2D).dataSync(), (chosen as tf.Tensor2D).dataSync()), coefficients).toBe(0);
    }
  });
});
