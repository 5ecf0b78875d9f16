import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { fromMatrix, matrixShape, toMatrix } from './matrixView.js';
import { shapeScale } from './shapeScale.js';

describe('matrix view of TF.js kernels', () => {
  it('Dense [in, out] is itself; Conv2D [kh, kw, in, out] is [kh·kw·in, out]', () => {
    expect(matrixShape([784, 128])).toEqual({ fanIn: 784, fanOut: 128 });
    expect(matrixShape([3, 3, 16, 32])).toEqual({ fanIn: 144, fanOut: 32 });
    expect(matrixShape([5, 8, 4])).toEqual({ fanIn: 40, fanOut: 4 });
  });

  it('round-trips a conv kernel exactly, entry for entry', () => {
    const kernel = tf.randomNormal([3, 3, 4, 8], 0, 1, 'float32', 1);
    const matrix = toMatrix(kernel);
    expect(matrix.shape).toEqual([36, 8]);
    // Row r = ((i·kw + j)·in + c) holds kernel[i, j, c, :]: the leading axes flattened row-major.
    expect(matrix.arraySync()[((1 * 3 + 2) * 4 + 3)]).toEqual((kernel.arraySync() as number[][][][])[1]?.[2]?.[3]);
    const back = fromMatrix(matrix, kernel.shape);
    expect(back.shape).toEqual([3, 3, 4, 8]);
    expect(Array.from(back.dataSync())).toEqual(Array.from(kernel.dataSync()));
  });

  it('rejects rank < 2 and mismatched shapes with the shapes in the message', () => {
    expect(() => matrixShape([10])).toThrow(/\[10\] has rank 1/);
    expect(() => fromMatrix(tf.zeros([4, 4]) as tf.Tensor2D, [2, 2, 2, 4])).toThrow(/\[4, 4\] matrix cannot be the view of a \[2, 2, 2, 4\] kernel/);
  });
});

describe('shape scale', () => {
  it('computes each mode from the flattened matrix, worked by hand', () => {
    const conv = matrixShape([3, 3, 64, 128]); // fanIn 576, fanOut 128
    expect(shapeScale(conv, 'original')).toBe(1); // √max(1, 128/576)
    expect(shapeScale(matrixShape([128, 512]), 'original')).toBe(2); // √(512/128)
    expect(shapeScale(conv, 'matchAdamW')).toBeCloseTo(0.2 * 24, 12); // 0.2·√576
    expect(shapeScale(conv, 'spectral')).toBeCloseTo(Math.sqrt(128 / 576), 12); // no max(1, ·)
    expect(shapeScale(conv, 'none')).toBe(1);
    expect(() => shapeScale(conv, 'rms' as 'none')).toThrow(/Unknown lrAdjust 'rms'/);
  });
});
