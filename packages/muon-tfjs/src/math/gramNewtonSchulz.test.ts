import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backends.js';
import { maxAbsDiff } from '../diagnostics/float64Matrices.js';
import { describeOrthogonalizerContract } from '../testing/orthogonalizerContract.js';
import { resolveCoefficients } from './coefficients.js';
import { defaultGramRestarts, gramNewtonSchulz, gramNewtonSchulzFlops, gramOrthogonalizer, plainNewtonSchulzFlops, scheduleDeviation, usesGramIteration } from './gramNewtonSchulz.js';

/**
 * Tolerances (relative Frobenius error against the float64 map U·p(S)·Vᵀ and against
 * `newtonSchulz`). The plain iteration in fp32 measures ≤ 5.4e-6 (cpu and wasm, shapes ≤ 200):
 * 1e-5 as in newtonSchulz.test.ts. The Gram iteration updates R = XXᵀ as ZRZ between restarts, so
 * round-off in R is not corrected by the iteration and reaches the output: measured ≤ 1.6e-5 here
 * (2.2e-5 in the native kernel); 1e-4 keeps a 5× margin and stays 40× below the smallest
 * approximation error of the schedules (polarExpress8 aside, ≥ 4e-3), which these tests resolve.
 */
const PLAIN_TOL = 1e-5;
const GRAM_TOL = 1e-4;

describeOrthogonalizerContract('gramOrthogonalizer() (auto: Gram for rectangular, plain for square)', () => gramOrthogonalizer(), GRAM_TOL);
describeOrthogonalizerContract('gramOrthogonalizer({algorithm: gram, batched})', () => gramOrthogonalizer({ algorithm: 'gram', batchSameShapes: true }), GRAM_TOL);
describeOrthogonalizerContract('gramOrthogonalizer({algorithm: plain, unbatched})', () => gramOrthogonalizer({ algorithm: 'plain', batchSameShapes: false }), PLAIN_TOL);

describe('Gram Newton–Schulz cost model', () => {
  it('counts the flops of both algorithms (5 steps, n = 4m, m = 1)', () => {
    // Plain: 5·(4·4 + 2) = 90. Gram with restart after 3: R and QX 4·4 = 16; iterations
    // 1: R² + ZRZ = 2 + 4, 2: R² + QZ + ZRZ = 8, 3: R² + QZ + restart (4·4) = 20, 4: R² + ZRZ = 6,
    // 5: R² + QZ = 4; total 60.
    expect(plainNewtonSchulzFlops(1, 4, 5)).toBe(90);
    expect(gramNewtonSchulzFlops(1, 4, 5, [3])).toBe(60);
    // Restarting after 2 costs the same: 16 + 6 + 4 + 16 + 6 + 8 + 4 = 60.
    expect(gramNewtonSchulzFlops(1, 4, 5, [2])).toBe(60);
    // With syrk for XXᵀ, A² and R² (the native kernel): plain 5·(4 + 1 + 8) = 65; Gram
    // 4 + 8 + (1 + 4) + (1 + 2 + 4) + (1 + 2 + 8 + 4) + (1 + 4) + (1 + 2) = 47.
    expect(plainNewtonSchulzFlops(1, 4, 5, true)).toBe(65);
    expect(gramNewtonSchulzFlops(1, 4, 5, [3], true)).toBe(47);
  });

  it('picks Gram for rectangular and plain for square matrices under auto', () => {
    const jordan = resolveCoefficients('jordan');
    expect(usesGramIteration(768, 3072, jordan, 'auto', [3])).toBe(true);
    expect(usesGramIteration(768, 2304, jordan, 'auto', [3])).toBe(true);
    expect(usesGramIteration(768, 768, jordan, 'auto', [3])).toBe(false);
    expect(usesGramIteration(768, 768, jordan, 'gram', [3])).toBe(true);
    expect(usesGramIteration(768, 3072, jordan, 'plain', [3])).toBe(false);
  });

  it('keeps convergent schedules on the plain iteration under auto, where round-off is the whole error', () => {
    // Worst cases over σ ∈ [1e-2, 1] as in shared/reference/muon-anchors.md §b.6.
    expect(scheduleDeviation(resolveCoefficients('jordan'))).toBeCloseTo(0.318, 2);
    expect(scheduleDeviation(resolveCoefficients('you6'))).toBeCloseTo(0.0044, 3);
    expect(scheduleDeviation(resolveCoefficients('polarExpress8'))).toBeLessThan(1e-12);
    expect(usesGramIteration(768, 3072, resolveCoefficients('polarExpress8'), 'auto', [3, 6])).toBe(false);
    expect(usesGramIteration(768, 3072, resolveCoefficients('polarExpress5'), 'auto', [3])).toBe(true);
  });

  it('restarts after every third iteration, never after the last', () => {
    expect(defaultGramRestarts(1)).toEqual([]);
    expect(defaultGramRestarts(3)).toEqual([]);
    expect(defaultGramRestarts(5)).toEqual([3]);
    expect(defaultGramRestarts(6)).toEqual([3]);
    expect(defaultGramRestarts(8)).toEqual([3, 6]);
  });
});

describe('gramNewtonSchulz on batches', () => {
  beforeAll(() => useBackend('cpu'));

  it('a 3-D batch equals its matrices done one by one, wide and tall', () => {
    for (const shape of [
      [3, 24, 72],
      [3, 72, 24],
    ] as const) {
      const batch = tf.randomNormal([...shape], 0, 1, 'float32', 9) as tf.Tensor3D;
      const together = gramNewtonSchulz(batch, { coefficients: 'polarExpress5', algorithm: 'gram' });
      const apart = tf.stack(tf.unstack(batch).map((m) => gramNewtonSchulz(m as tf.Tensor2D, { coefficients: 'polarExpress5', algorithm: 'gram' })));
      expect(together.shape).toEqual([...shape]);
      expect(maxAbsDiff(together.dataSync(), apart.dataSync())).toBeLessThan(1e-6);
    }
  });

  it('runs the plain iteration under auto for a convergent schedule, the Gram one otherwise', () => {
    const g = tf.randomNormal([48, 160], 0, 1, 'float32', 4) as tf.Tensor2D;
    for (const [coefficients, expected] of [
      ['polarExpress8', 'plain'],
      ['jordan', 'gram'],
    ] as const) {
      const auto = gramNewtonSchulz(g, { coefficients }).dataSync();
      expect(maxAbsDiff(auto, gramNewtonSchulz(g, { coefficients, algorithm: expected }).dataSync()), coefficients).toBe(0);
    }
  });

  it('rejects bad ranks, algorithms and restart lists with the value at fault', () => {
    expect(() => gramNewtonSchulz(tf.zeros([4]) as unknown as tf.Tensor2D)).toThrow(/got shape \[4\]/);
    expect(() => gramNewtonSchulz(tf.zeros([4, 4]) as tf.Tensor2D, { algorithm: 'fast' as 'auto' })).toThrow(/"fast"/);
    expect(() => gramNewtonSchulz(tf.zeros([4, 4]) as tf.Tensor2D, { restartAfter: [0] })).toThrow(/\[0\]/);
  });
});
