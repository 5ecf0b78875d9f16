import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backends.js';
import { OPTIMIZER_TEST_BACKENDS, reportWebGpuSkipped } from '../testing/webgpuBackend.js';
import { nonFiniteKeys, nonFiniteKeysAsync } from './finiteness.js';

/** Values a float32 tensor can hold, weighted toward the cases a sum could get wrong. */
const entry = fc.oneof(
  { weight: 6, arbitrary: fc.float({ noNaN: true, noDefaultInfinity: true, min: -10, max: 10 }) },
  { weight: 2, arbitrary: fc.constantFrom(3e38, -3e38, 3.4028234663852886e38, 1e-45) }, // finite, but their sums overflow
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY) },
);
/** Up to 6 tensors of up to 300 entries (past SIMD widths and loop tails), some empty. */
const tensorSet = fc.array(fc.array(entry, { minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 6 });

reportWebGpuSkipped(it);

describe.each(OPTIMIZER_TEST_BACKENDS)('nonFiniteKeys, on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('names exactly the tensors holding NaN or ±Inf, whatever their sums do', async () => {
    await fc.assert(
      fc.asyncProperty(tensorSet, async (arrays) => {
        const tensors = new Map(arrays.map((values, i) => [`t${i}`, tf.tensor1d(values, 'float32')]));
        // The reference: float32 storage of each value (3.4028234663852886e38 stays finite), then Number.isFinite.
        const expected = arrays.flatMap((values, i) => (Array.from(Float32Array.from(values)).every(Number.isFinite) ? [] : [`t${i}`]));
        try {
          if (backend !== 'webgpu') expect(nonFiniteKeys(tensors)).toEqual(expected);
          expect(await nonFiniteKeysAsync(tensors)).toEqual(expected);
        } finally {
          tf.dispose([...tensors.values()]);
        }
      }),
      { seed: 21, numRuns: backend === 'webgpu' ? 15 : 150 },
    );
  });

  it('reads two sums past float32 as finite, and ignores int32 and empty tensors', async () => {
    const tensors = { huge: tf.tensor1d([3e38, 3e38, -1e38]), count: tf.scalar(7, 'int32'), empty: tf.zeros([0, 4]), nan: tf.tensor2d([[1, Number.NaN]]) };
    if (backend !== 'webgpu') expect(nonFiniteKeys(tensors)).toEqual(['nan']);
    expect(await nonFiniteKeysAsync(tensors)).toEqual(['nan']);
    tf.dispose(Object.values(tensors));
  });
});
