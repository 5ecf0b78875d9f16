import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backends.js';
import { OPTIMIZER_TEST_BACKENDS, reportWebGpuSkipped } from '../testing/webgpuBackend.js';
import { allFinite, MAX_SCREEN_COLUMNS, nonFiniteKeys, nonFiniteKeysAsync, screenColumns, WHOLE_READ_LIMIT } from './finiteness.js';

/** Values a float32 tensor can hold, weighted toward the cases a sum could get wrong. */
const entry = fc.oneof(
  { weight: 6, arbitrary: fc.float({ noNaN: true, noDefaultInfinity: true, min: -10, max: 10 }) },
  { weight: 2, arbitrary: fc.constantFrom(3e38, -3e38, 3.4028234663852886e38, 1e-45) }, // finite, but their sums overflow
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY) },
);
/** Up to 6 tensors of up to 300 entries (past SIMD widths and loop tails), some empty. */
const tensorSet = fc.array(fc.array(entry, { minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 6 });

/** The values the screen could get wrong: non-finite ones, the largest finite ones, the smallest. */
const special = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3e38, -3e38, 3.4028234663852886e38, 1e-45, -1e-45, 1e-40, 1.1754942e-38);
/**
 * Sizes on both sides of the whole-read limit, and past it with few columns: 8209 is prime (1
 * column), 8193 = 3 · 2731 (3 columns), 8248 = 8 · 1031 (8 columns: 1031 is past the column cap).
 */
const screenedSize = fc.oneof(
  fc.constantFrom(WHOLE_READ_LIMIT - 1, WHOLE_READ_LIMIT, WHOLE_READ_LIMIT + 1, 8193, 8209, 8248, MAX_SCREEN_COLUMNS * 9, MAX_SCREEN_COLUMNS * 9 + 4),
  fc.integer({ min: WHOLE_READ_LIMIT + 1, max: 4 * WHOLE_READ_LIMIT }),
);
/**
 * One large tensor: a size, a background (small values, or ±3e38 whose column sums overflow) and
 * a few special values at chosen places, the last element among them.
 */
const largeTensor = fc.record({
  size: screenedSize,
  background: fc.constantFrom('small', 'huge', 'huge positive'),
  specials: fc.array(fc.record({ at: fc.oneof(fc.constant('last' as const), fc.nat()), value: special }), { maxLength: 4 }),
});
type LargeTensor = typeof largeTensor extends fc.Arbitrary<infer T> ? T : never;

/** The float32 values of a {@link LargeTensor}, as the tensor will store them. */
function largeValues({ size, background, specials }: LargeTensor): Float32Array {
  const values = Float32Array.from({ length: size }, (_, i) => (background === 'small' ? ((i % 13) - 6) / 4 : background === 'huge' ? (i % 2 === 0 ? 3e38 : -3e38) : 3e38));
  for (const { at, value } of specials) values[at === 'last' ? size - 1 : at % size] = value;
  return values;
}

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

  it('names exactly the large tensors holding NaN or ±Inf, on both sides of the whole-read limit, with no tensor left behind', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(largeTensor, { minLength: 1, maxLength: 4 }), async (specs) => {
        const arrays = specs.map(largeValues);
        const tensors = new Map(arrays.map((values, i) => [`t${i}`, tf.tensor1d(values, 'float32')]));
        const expected = arrays.flatMap((values, i) => (values.every(Number.isFinite) ? [] : [`t${i}`]));
        const before = tf.memory().numTensors;
        try {
          if (backend !== 'webgpu') expect(nonFiniteKeys(tensors)).toEqual(expected);
          expect(await nonFiniteKeysAsync(tensors)).toEqual(expected);
          expect(tf.memory().numTensors).toBe(before);
        } finally {
          tf.dispose([...tensors.values()]);
        }
      }),
      { seed: 25, numRuns: backend === 'webgpu' ? 10 : 60 },
    );
  });

  it('refuses Inf and -Inf in one column, and NaN alone in the last element, of a screened matrix', async () => {
    const [rows, columns] = [64, 256]; // 16384 values: past the whole-read limit, screened by 256 columns
    const withValues = (placed: [number, number][]): tf.Tensor => {
      const values = new Float32Array(rows * columns).fill(0.5);
      for (const [at, value] of placed) values[at] = value;
      return tf.tensor2d(values, [rows, columns]);
    };
    const tensors = {
      cancelling: withValues([[3, Number.POSITIVE_INFINITY], [3 + columns, Number.NEGATIVE_INFINITY]]), // Inf + -Inf = NaN in column 3
      lastNaN: withValues([[rows * columns - 1, Number.NaN]]),
      overflowing: withValues([[5, 3e38], [5 + columns, 3e38]]), // a column mean of +Inf from finite values
      finite: withValues([[7, 3.4028234663852886e38], [8, 1e-45]]),
    };
    if (backend !== 'webgpu') expect(nonFiniteKeys(tensors)).toEqual(['cancelling', 'lastNaN']);
    expect(await nonFiniteKeysAsync(tensors)).toEqual(['cancelling', 'lastNaN']);
    tf.dispose(Object.values(tensors));
  });

  it('reads two sums past float32 as finite, and ignores int32 and empty tensors', async () => {
    const tensors = { huge: tf.tensor1d([3e38, 3e38, -1e38]), count: tf.scalar(7, 'int32'), empty: tf.zeros([0, 4]), nan: tf.tensor2d([[1, Number.NaN]]) };
    if (backend !== 'webgpu') expect(nonFiniteKeys(tensors)).toEqual(['nan']);
    expect(await nonFiniteKeysAsync(tensors)).toEqual(['nan']);
    tf.dispose(Object.values(tensors));
  });
});

describe('allFinite', () => {
  it('says whether every value is finite, for any length (the unrolled loop and its tail)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.float(), special), { maxLength: 13 }), (values) => {
        expect(allFinite(Float32Array.from(values))).toBe(Float32Array.from(values).every(Number.isFinite));
        expect(allFinite(values)).toBe(values.every(Number.isFinite));
      }),
      { seed: 25, numRuns: 500 },
    );
  });
});

describe('screenColumns', () => {
  it('divides the size into at most MAX_SCREEN_COLUMNS columns', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1 << 24 }), (size) => {
        const columns = screenColumns(size);
        expect(size % columns).toBe(0);
        expect(columns).toBeLessThanOrEqual(MAX_SCREEN_COLUMNS);
      }),
      { seed: 25, numRuns: 1000 },
    );
  });

  it('takes the largest such divisor', () => {
    expect([784 * 512, 512 * 512, 8193, 8209, 8248, 3 * 1031 * 1033, 600].map(screenColumns)).toEqual([1024, 1024, 3, 1, 8, 3, 600]);
  });
});
