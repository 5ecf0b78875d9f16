import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { maxAbsDiff } from '../diagnostics/float64Matrices.js';
import { loadNativeAddon } from './nativeAddon.js';
import { nativeOrthogonalizer } from './nativeOrthogonalizer.js';
import { resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import { fixNativeThreads } from '../testing/fixedNativeThreads.js';
import { enableWasmThreadsInBrowser, enableWasmThreadsInNode } from './wasmThreads.js';

// Runs in its own process (vitest forks per file): the wasm backend is initialized here, threaded.
// The native kernel runs twice on 64×160 and is compared bit for bit: one thread count for both.
fixNativeThreads();
describe('enableWasmThreadsInNode', () => {
  it('starts the threaded wasm backend with two XNNPACK threads and computes what the cpu backend does', async () => {
    await expect(enableWasmThreadsInNode({ threads: 2 })).resolves.toBe(2);
    expect(tf.getBackend()).toBe('wasm');
    const a = tf.randomNormal([192, 256], 0, 1, 'float32', 1) as tf.Tensor2D;
    const b = tf.randomNormal([256, 160], 0, 1, 'float32', 2) as tf.Tensor2D;
    const threaded = tf.matMul(a, b).dataSync().slice();
    const [av, bv] = [a.dataSync().slice(), b.dataSync().slice()];
    await tf.setBackend('cpu');
    const reference = tf.matMul(tf.tensor2d(av, [192, 256]), tf.tensor2d(bv, [256, 160])).dataSync();
    // Inner dimension 256 of unit normals: sums of order 16, fp32 round-off well under 1e-3.
    expect(maxAbsDiff(threaded, reference)).toBeLessThan(1e-3);
  });

  it.skipIf(!loadNativeAddon().available)('lets the native kernel read and write tensors in the threaded (shared) wasm heap', async () => {
    await tf.setBackend('wasm'); // started threaded by the first test
    const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8;
    expect(heap.buffer).toBeInstanceOf(SharedArrayBuffer);
    const inputs = [tf.randomNormal([64, 160], 0, 1, 'float32', 3), tf.randomNormal([96, 32], 0, 1, 'float32', 4)] as tf.Tensor2D[];
    const values = inputs.map((g) => ({ data: g.dataSync().slice(), shape: g.shape }));
    const inPlace = nativeOrthogonalizer()(inputs, resolveNewtonSchulz()).map((o) => o.dataSync().slice());
    await tf.setBackend('cpu');
    const copied = nativeOrthogonalizer()(values.map(({ data, shape }) => tf.tensor2d(data, shape)), resolveNewtonSchulz());
    // The same numbers through the same native code: identical bits, whichever memory they sit in.
    copied.forEach((o, i) => expect(maxAbsDiff(o.dataSync(), inPlace[i] as Float32Array)).toBe(0));
    await tf.setBackend('wasm');
  });

  it('refuses a bad thread count or a second initialization, naming the value', async () => {
    await expect(enableWasmThreadsInNode({ threads: 0 })).rejects.toThrow(/got 0/);
    await expect(enableWasmThreadsInNode({ threads: 2 })).rejects.toThrow(/already initialized/);
  });
});

// The success path needs a browser: `npm run bench:browser` runs it in Chromium (2 threads obtained
// on a 2-core machine, against 1 with setThreadsCount(2)). Here: the refusals, which change nothing.
describe('enableWasmThreadsInBrowser', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('refuses to run outside a browser', async () => {
    vi.stubGlobal('navigator', undefined);
    await expect(enableWasmThreadsInBrowser()).rejects.toThrow(/needs a browser.*enableWasmThreadsInNode/);
  });

  it('refuses a page that is not cross-origin isolated, naming the headers, and leaves navigator as it was', async () => {
    const navigator = { hardwareConcurrency: 2 };
    vi.stubGlobal('navigator', navigator);
    vi.stubGlobal('crossOriginIsolated', false);
    const backend = tf.getBackend();
    await expect(enableWasmThreadsInBrowser({ threads: 2 })).rejects.toThrow(/Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
    expect(navigator.hardwareConcurrency).toBe(2);
    expect(Object.getOwnPropertyDescriptor(navigator, 'hardwareConcurrency')?.value).toBe(2);
    expect(tf.getBackend()).toBe(backend);
  });

  it('refuses a bad thread count, naming the value', async () => {
    vi.stubGlobal('navigator', { hardwareConcurrency: 2 });
    vi.stubGlobal('crossOriginIsolated', true);
    await expect(enableWasmThreadsInBrowser({ threads: 9 })).rejects.toThrow(/\[1, 8\].*got 9/);
  });
});
