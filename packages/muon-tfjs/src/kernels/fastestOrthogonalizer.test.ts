import { describe, expect, it } from 'vitest';
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

describeOrthogonalizerContract('fastestOrthogonalizer() (fallback)', () => fastestOrthogonalizer(), 1e-4);
