import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backends.js';
import { maxAbsDiff } from '../diagnostics/float64Matrices.js';
import { gramNewtonSchulz } from './gramNewtonSchulz.js';

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
