import type * as tf from '@tensorflow/tfjs-core';

/**
 * The part of tfjs-backend-wasm 4.22's `BackendWasm` that a kernel written in JavaScript needs:
 * tensors live in the wasm heap, and these give a typed-array view of one (no copy) and allocate
 * an output there (as the backend's own JavaScript kernels, e.g. `Range`, do).
 */
export interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(tensor: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** The float32 view of `tensor` in the wasm heap; `what` names it in the error for another dtype. */
export function float32View(backend: WasmHeapBackend, tensor: tf.TensorInfo, what: string): Float32Array {
  const view = backend.typedArrayFromHeap(tensor);
  if (!(view instanceof Float32Array)) throw new Error(`${what} must be float32 on the wasm backend, got ${tensor.dtype}`);
  return view;
}
