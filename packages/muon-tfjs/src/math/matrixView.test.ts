import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchedMatrixShape, fromBatchedMatrices, fromMatrix, matrixShape, toBatchedMatrices, toMatrix } from './matrixView.js';
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

describe('batched matrix view (optax MuonDimensionNumbers: reduction and output axes, the rest batch)', () => {
  it('experts [E, in, out] are E matrices [in, out]; a per-tap conv kernel is its taps; a leading output axis is moved last', () => {
    expect(batchedMatrixShape([8, 64, 32], { reductionAxes: [1], outputAxes: [2] })).toEqual({ batch: 8, fanIn: 64, fanOut: 32, axesShape: [8, 64, 32], permutation: [0, 1, 2] });
    expect(batchedMatrixShape([3, 3, 16, 32], { reductionAxes: [-2], outputAxes: [-1] })).toMatchObject({ batch: 9, fanIn: 16, fanOut: 32, permutation: [0, 1, 2, 3] });
    // [out, E, in] (a PyTorch-style layout with the experts in the middle): reduction 2, output 0.
    expect(batchedMatrixShape([32, 8, 64], { reductionAxes: [2], outputAxes: [0] })).toMatchObject({ batch: 8, fanIn: 64, fanOut: 32, permutation: [1, 2, 0] });
    // Heads along the rows of a 2-D output projection [8·64, 512]: seen as [8, 64, 512].
    expect(batchedMatrixShape([512, 512], { reshape: [8, -1, 512], reductionAxes: [1], outputAxes: [2] })).toEqual({
      batch: 8,
      fanIn: 64,
      fanOut: 512,
      axesShape: [8, 64, 512],
      permutation: [0, 1, 2],
    });
    // Without batch axes it is matrixShape's flattened view.
    expect(batchedMatrixShape([3, 3, 16, 32], { reductionAxes: [0, 1, 2], outputAxes: [3] })).toMatchObject({ batch: 1, ...matrixShape([3, 3, 16, 32]) });
  });

  it('matrix b of the stack is the weight at batch index b, entry for entry, and back', () => {
    const weight = tf.randomNormal([32, 3, 5], 0, 1, 'float32', 2); // [out, E, in]
    const view = batchedMatrixShape(weight.shape, { reductionAxes: [2], outputAxes: [0] });
    const stack = toBatchedMatrices(weight, view);
    expect(stack.shape).toEqual([3, 5, 32]);
    const w = weight.arraySync() as number[][][];
    const m = stack.arraySync();
    // stack[b][i][o] = weight[o][b][i]: expert b's [in, out] matrix.
    expect(m[1]?.[4]?.[7]).toBe(w[7]?.[1]?.[4]);
    expect(Array.from(fromBatchedMatrices(stack, weight.shape, view).dataSync())).toEqual(Array.from(weight.dataSync()));
  });

  it('under a reshape, matrix h of a [heads·headDim, out] kernel is its rows h·headDim … (h+1)·headDim − 1', () => {
    const kernel = tf.randomNormal([12, 5], 0, 1, 'float32', 3);
    const view = batchedMatrixShape(kernel.shape, { reshape: [3, -1, 5], reductionAxes: [1], outputAxes: [2] });
    const stack = toBatchedMatrices(kernel, view);
    expect(stack.shape).toEqual([3, 4, 5]);
    expect(stack.arraySync()[2]).toEqual((kernel.arraySync() as number[][]).slice(8, 12));
    const back = fromBatchedMatrices(stack, kernel.shape, view);
    expect(back.shape).toEqual([12, 5]);
    expect(Array.from(back.dataSync())).toEqual(Array.from(kernel.dataSync()));
  });

  it('refuses axes out of range, repeated, or an empty side, naming the shape and the axes', () => {
    expect(() => batchedMatrixShape([8, 64, 32], { reductionAxes: [1], outputAxes: [3] })).toThrow(/shape \[8, 64, 32\] has no axis 3 \(reductionAxes \[1\], outputAxes \[3\]\)/);
    expect(() => batchedMatrixShape([8, 64, 32], { reductionAxes: [1], outputAxes: [-2] })).toThrow(/names an axis twice/);
    expect(() => batchedMatrixShape([8, 64, 32], { reductionAxes: [], outputAxes: [2] })).toThrow(/at least one reduction axis and one output axis/);
    expect(() => batchedMatrixShape([12, 5], { reshape: [5, -1, 5], reductionAxes: [1], outputAxes: [2] })).toThrow(
      /A weight of shape \[12, 5\] \(60 entries\) cannot be seen as \[5, -1, 5\]/,
    );
    expect(() => batchedMatrixShape([12, 5], { reshape: [-1, -1, 5], reductionAxes: [1], outputAxes: [2] })).toThrow(/at most one −1/);
    expect(() => fromBatchedMatrices(tf.zeros([2, 64, 32]) as tf.Tensor3D, [8, 64, 32], batchedMatrixShape([8, 64, 32], { reductionAxes: [1], outputAxes: [2] }))).toThrow(
      /\[2, 64, 32\] stack cannot be the matrices of a \[8, 64, 32\] weight \(\[8, 64, 32\] expected\)/,
    );
  });

  it('round-trips every weight under every split of its axes into batch, reduction and output (property)', () => {
    // Random rank 2–5 shapes; each axis assigned to batch, reduction or output at random, with at
    // least one of each matrix side: the stack holds every entry once, and the inverse restores it.
    const caseArb = fc
      .array(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom('batch', 'reduction', 'output')), { minLength: 2, maxLength: 5 })
      .filter((axes) => axes.some(([, role]) => role === 'reduction') && axes.some(([, role]) => role === 'output'));
    fc.assert(
      fc.property(caseArb, fc.integer({ min: 0, max: 1000 }), (axes, seed) => {
        const shape = axes.map(([size]) => size);
        const axesOf = (role: string): number[] => axes.flatMap(([, r], axis) => (r === role ? [axis] : []));
        const view = batchedMatrixShape(shape, { reductionAxes: axesOf('reduction'), outputAxes: axesOf('output') });
        const size = (list: number[]): number => list.reduce((p, axis) => p * (shape[axis] as number), 1);
        expect([view.batch, view.fanIn, view.fanOut]).toEqual([size(axesOf('batch')), size(axesOf('reduction')), size(axesOf('output'))]);
        const weight = tf.randomNormal(shape, 0, 1, 'float32', seed);
        const stack = toBatchedMatrices(weight, view);
        const back = fromBatchedMatrices(stack, shape, view);
        expect(Array.from(back.dataSync())).toEqual(Array.from(weight.dataSync()));
        tf.dispose([weight, stack, back]);
      }),
      { numRuns: 200, seed: 24 },
    );
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
