import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { checkTfjsPrecision } from '../math/newtonSchulz.js';
import { resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import { useBackend } from '../testing/backends.js';
import { describeOrthogonalizerContract } from '../testing/orthogonalizerContract.js';
import { describeFastestOrthogonalizer, fastestOrthogonalizer } from './fastestOrthogonalizer.js';

// This file runs in its own process (vitest forks per file): it hides the addon, as in a browser or
// a checkout without a compiler, and checks that the fallback runs and meets the same contract.
(globalThis as { process: { env: Record<string, string | undefined> } }).process.env.MUON_TFJS_DISABLE_NATIVE = '1';

describe('fastestOrthogonalizer without the native addon', () => {
  it('falls back to the TF.js kernel and says why, in float32 whatever precision is asked', () => {
    const fallback = { kernel: 'tfjs', reason: 'disabled by MUON_TFJS_DISABLE_NATIVE=1', engine: 'TF.js', precision: 'float32', bfloat16Missing: 'TF.js kernels compute in float32' };
    expect(describeFastestOrthogonalizer()).toEqual(fallback);
    expect(describeFastestOrthogonalizer('bfloat16')).toEqual(fallback);
  });
});

describe('a bfloat16 schedule where only TF.js runs', () => {
  it('runs in float32, the same numbers as the float32 schedule, and says so once', async () => {
    await useBackend('cpu');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const orthogonalize = fastestOrthogonalizer();
    const g = tf.randomNormal([24, 40], 0, 1, 'float32', 3) as tf.Tensor2D;
    const [float32] = orthogonalize([g], resolveNewtonSchulz());
    const bfloat16 = resolveNewtonSchulz({ precision: 'bfloat16' });
    const [first] = orthogonalize([g], bfloat16);
    const [second] = orthogonalize([g], bfloat16);
    expect(Array.from((first as tf.Tensor2D).dataSync())).toEqual(Array.from((float32 as tf.Tensor2D).dataSync()));
    expect(Array.from((second as tf.Tensor2D).dataSync())).toEqual(Array.from((float32 as tf.Tensor2D).dataSync()));
    // (tfjs-core's own "running in Node" notice may be among the warnings too.)
    const ours = warn.mock.calls.filter(([message]) => String(message).startsWith('muon-tfjs:'));
    expect(ours).toEqual([["muon-tfjs: precision 'bfloat16' was requested; the TF.js kernel runs Newton–Schulz in float32 (TF.js kernels compute in float32)"]]);
    warn.mockRestore();
    tf.dispose([g, float32 as tf.Tensor2D, first as tf.Tensor2D, second as tf.Tensor2D]);
  });

  it('the TF.js convenience functions refuse it instead, naming the way to get it', () => {
    expect(() => checkTfjsPrecision(resolveNewtonSchulz({ precision: 'bfloat16' }), 'newtonSchulz')).toThrow(/newtonSchulz computes in float32 through TF.js; precision 'bfloat16' runs in the native kernel/);
  });
});

describeOrthogonalizerContract('fastestOrthogonalizer() (fallback)', () => fastestOrthogonalizer(), 1e-4);
