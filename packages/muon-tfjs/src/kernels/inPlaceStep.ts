import * as tf from '@tensorflow/tfjs-core';
import { loadNativeAddon } from './nativeAddon.js';
import { wasmHeap } from './nativeOrthogonalizer.js';

/** The backends whose tensors the addon reads in place: the wasm heap, or the cpu backend's own arrays. */
const IN_PLACE_BACKENDS = new Set(['cpu', 'wasm']);

/** Why a fused step of the addon cannot run now (no addon, another backend), or undefined when it can. */
export function inPlaceStepUnavailable(): string | undefined {
  const status = loadNativeAddon();
  if (!status.available) return status.reason;
  const backend = tf.getBackend() as string | undefined;
  if (backend === undefined || !IN_PLACE_BACKENDS.has(backend)) return `backend '${String(backend)}' is not one whose tensors the addon reads in place (${[...IN_PLACE_BACKENDS].join(', ')})`;
  return undefined;
}

/**
 * Runs a native step that reads `inputs` and writes one float32 output per entry of `outputShapes`,
 * without copying: on the wasm backend the inputs are read in place in the wasm heap and the
 * outputs written into tensors allocated there; on the cpu backend `dataSync()` is the backend's
 * own array (no copy) and the new arrays are wrapped as tensors. `run` receives the reader and the
 * output arrays and returns the step's flags. On a throw the outputs are disposed.
 */
export function runInPlace<Flags>(
  inputs: readonly tf.Tensor[],
  outputShapes: readonly (readonly number[])[],
  run: (read: (t: tf.Tensor) => Float32Array, outputs: Float32Array[]) => Flags,
): { outputs: tf.Tensor[]; flags: Flags } {
  const heap = wasmHeap(inputs);
  if (heap !== undefined) {
    // Allocate first: an allocation may grow the wasm memory and invalidate earlier views.
    const outputs = outputShapes.map((shape) => heap.allocate(shape));
    try {
      return { outputs, flags: run(heap.view, outputs.map(heap.view)) };
    } catch (error) {
      tf.dispose(outputs);
      throw error;
    }
  }
  const arrays = outputShapes.map((shape) => new Float32Array(tf.util.sizeFromShape([...shape])));
  const flags = run((t) => t.dataSync<'float32'>(), arrays);
  return { outputs: arrays.map((values, i) => tf.tensor(values, [...(outputShapes[i] as readonly number[])], 'float32')), flags };
}
