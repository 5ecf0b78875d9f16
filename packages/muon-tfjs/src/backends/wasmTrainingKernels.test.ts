import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backends.js';
import { installWasmTrainingKernels } from './wasmTrainingKernels.js';

/** Runs f on a backend and returns plain arrays (tensors disposed). */
async function on(backend: 'cpu' | 'wasm', f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const values = out.map((t) => t.dataSync() as Float32Array);
  tf.dispose(out);
  return values;
}

const close = (a: Float32Array, b: Float32Array, tol: number): number =>
  a.reduce((worst, v, i) => Math.max(worst, Math.abs(v - (b[i] as number)) / (1 + Math.abs(b[i] as number))), 0) <= tol ? 1 : 0;

describe('installWasmTrainingKernels: the replaced wasm kernels agree with the cpu backend', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    installWasmTrainingKernels();
  });

  it('matMul with transpose flags (the fast path) and its gradients', async () => {
    const run = () => {
      const a = tf.tensor2d(Array.from({ length: 12 }, (_, i) => Math.sin(i)), [3, 4]);
      const b = tf.tensor2d(Array.from({ length: 20 }, (_, i) => Math.cos(i)), [5, 4]);
      const c = tf.tensor2d(Array.from({ length: 15 }, (_, i) => Math.sin(2 * i)), [3, 5]);
      const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, false, true))));
      return [tf.matMul(a, b, false, true), tf.matMul(c, a, true, false), tf.matMul(tf.transpose(c), c, true, true), ...g([a, b])];
    };
    const [wasm, cpu] = [await on('wasm', run), await on('cpu', run)];
    wasm.forEach((w, i) => expect(close(w, cpu[i] as Float32Array, 1e-5)).toBe(1));
  });

  it('conv2d filter and input gradients (same and valid padding)', async () => {
    const run = () => {
      const x = tf.tensor4d(Array.from({ length: 2 * 6 * 5 * 3 }, (_, i) => Math.sin(0.7 * i)), [2, 6, 5, 3]);
      const w = tf.tensor4d(Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(0.3 * i)), [3, 3, 3, 4]);
      const out: tf.Tensor[] = [];
      for (const pad of ['same', 'valid'] as const) {
        const g = tf.grads((a: tf.Tensor, k: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, k as tf.Tensor4D, 1, pad))));
        out.push(...g([x, w]));
      }
      return out;
    };
    const [wasm, cpu] = [await on('wasm', run), await on('cpu', run)];
    expect(wasm).toHaveLength(4);
    wasm.forEach((w, i) => expect(close(w, cpu[i] as Float32Array, 1e-4)).toBe(1));
  });

  it('unsortedSegmentSum (the gradient of gather): repeated ids summed, a negative id dropped', async () => {
    const run = () => {
      const x = tf.tensor3d(Array.from({ length: 6 * 2 * 2 }, (_, i) => Math.sin(i)), [6, 2, 2]);
      const ids = tf.tensor1d([2, 0, 2, -1, 4, 0], 'int32');
      return [tf.unsortedSegmentSum(x, ids, 5)];
    };
    const [wasm, cpu] = [await on('wasm', run), await on('cpu', run)];
    expect(wasm[0]).toHaveLength(5 * 4);
    expect(close(wasm[0] as Float32Array, cpu[0] as Float32Array, 1e-6)).toBe(1);
    // By hand: segment 1 and 3 receive nothing.
    expect(Array.from((wasm[0] as Float32Array).slice(4, 8))).toEqual([0, 0, 0, 0]);
  });

  it('depthwise conv2d filter and input gradients (multiplier 2, strides 1 and 2, same and valid)', async () => {
    const run = () => {
      const x = tf.tensor4d(Array.from({ length: 2 * 6 * 5 * 3 }, (_, i) => Math.sin(0.7 * i)), [2, 6, 5, 3]);
      const w = tf.tensor4d(Array.from({ length: 3 * 3 * 3 * 2 }, (_, i) => Math.cos(0.3 * i)), [3, 3, 3, 2]);
      const out: tf.Tensor[] = [];
      for (const [stride, pad] of [[1, 'same'], [2, 'same'], [2, 'valid']] as const) {
        const g = tf.grads((a: tf.Tensor, k: tf.Tensor) => tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, k as tf.Tensor4D, stride, pad))));
        out.push(...g([x, w]));
      }
      return out;
    };
    const [wasm, cpu] = [await on('wasm', run), await on('cpu', run)];
    expect(wasm).toHaveLength(6);
    wasm.forEach((w, i) => expect(close(w, cpu[i] as Float32Array, 1e-5)).toBe(1));
  });
});
