import * as tf from '@tensorflow/tfjs-core';

/** Backends whose tensors live in CPU memory: a synchronous read there costs a copy, not a stall. */
export const CPU_RESIDENT_BACKENDS: ReadonlySet<string> = new Set(['cpu', 'wasm', 'tensorflow']);

/**
 * Whether a synchronous read (`dataSync`, `arraySync`) on the current backend would stall it:
 * on webgl it drains the GL queue, on webgpu it needs a canvas and fails in Node ("OffscreenCanvas
 * is not defined"). Code on the step path reads asynchronously there (see {@link readOnHost}).
 */
export function syncReadsStall(backend: string = tf.getBackend()): boolean {
  return !CPU_RESIDENT_BACKENDS.has(backend);
}

/**
 * Hands `tensor`'s values to `use` and disposes `tensor` (the caller gives it up): at once on a
 * CPU-resident backend, where the read is free and results stay deterministic, and once the
 * device has computed it elsewhere, through an asynchronous `data()` that never stalls the queue.
 * Returns the promise of that hand-over (settled at once on CPU backends); an error thrown by
 * `use` rejects it.
 */
export function readOnHost<R>(tensor: tf.Tensor, use: (values: tf.TypedArray) => R): Promise<R> {
  // Kept: a caller inside a tf.tidy (tfjs-layers' fit runs each optimizer step in one) would
  // otherwise see the tensor disposed when that tidy ends, before an asynchronous read arrives.
  tf.keep(tensor);
  if (!syncReadsStall()) {
    try {
      return Promise.resolve(use(tensor.dataSync() as tf.TypedArray));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    } finally {
      tensor.dispose();
    }
  }
  return tensor.data().then(
    (values) => {
      tensor.dispose();
      return use(values as tf.TypedArray);
    },
    (error: unknown) => {
      tensor.dispose();
      throw error;
    },
  );
}
