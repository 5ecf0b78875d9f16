import * as tf from '@tensorflow/tfjs-core';
import { float32View, type WasmHeapBackend } from './wasmHeap.js';

/**
 * Registers `UnsortedSegmentSum` for the wasm backend, which tfjs 4.22 lacks: it is the gradient
 * of `gather` (tfjs-core's GatherV2 gradient), so without it an `Embedding` layer cannot train on
 * wasm. out[s, …] = Σ_{n : ids[n] = s} x[n, …] (TensorFlow's definition; ids outside
 * [0, numSegments) contribute nothing), with `x` of shape [...ids.shape, ...inner]. A single pass
 * over `x` in JavaScript, summing in float64: the op moves each element once, so it is memory-bound
 * and a wasm kernel would not be faster by much. Idempotent; does nothing without the wasm backend.
 */
export function installWasmSegmentSum(): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm') !== undefined || tf.getKernelsForBackend('wasm').length === 0) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const wasm = backend as unknown as WasmHeapBackend;
      const x = inputs['x'] as tf.TensorInfo;
      const segmentIds = inputs['segmentIds'] as tf.TensorInfo;
      const numSegments = attrs?.['numSegments'] as number;
      const values = float32View(wasm, x, 'UnsortedSegmentSum: x');
      const ids = wasm.typedArrayFromHeap(segmentIds);
      const inner = ids.length === 0 ? 0 : values.length / ids.length;
      const sums = new Float64Array(numSegments * inner);
      for (let n = 0; n < ids.length; n++) {
        const s = ids[n] as number;
        if (s < 0 || s >= numSegments) continue;
        for (let k = 0, from = n * inner, to = s * inner; k < inner; k++) sums[to + k] = (sums[to + k] as number) + (values[from + k] as number);
      }
      const out = wasm.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
      float32View(wasm, out, 'UnsortedSegmentSum: output').set(sums);
      return out;
    },
  });
}
