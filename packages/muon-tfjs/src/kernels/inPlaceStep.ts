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
 * The int32 side of {@link runInPlace}: the words of packed bfloat16 tensors (a packed momentum
 * slot), read in place as the float32 inputs are, and the new word arrays written.
 */
export interface InPlaceWords {
  read(t: tf.Tensor): Int32Array;
  readonly outputs: Int32Array[];
}

/**
 * Runs a native step that reads `inputs` and writes one float32 output per entry of `outputShapes`
 * and one 1-D int32 output per entry of `wordOutputSizes` (returned after the float32 ones),
 * without copying: on the wasm backend the inputs are read in place in the wasm heap and the
 * outputs written into tensors allocated there; on the cpu backend `dataSync()` is the backend's
 * own array (no copy) and the new arrays are wrapped as tensors. `run` receives the reader and the
 * output arrays (float32, then the int32 ones with their reader) and returns the step's flags. On a
 * throw the outputs are disposed.
 */
export function runInPlace<Flags>(
  inputs: readonly tf.Tensor[],
  outputShapes: readonly (readonly number[])[],
  run: (read: (t: tf.Tensor) => Float32Array, outputs: Float32Array[], words: InPlaceWords) => Flags,
  wordOutputSizes: readonly number[] = [],
): { outputs: tf.Tensor[]; flags: Flags } {
  const heap = wasmHeap(inputs);
  if (heap !== undefined) {
    // Allocate first: an allocation may grow the wasm memory and invalidate earlier views.
    const outputs = outputShapes.map((shape) => heap.allocate(shape));
    const wordOutputs = wordOutputSizes.map((size) => heap.allocate([size], 'int32'));
    try {
      const words = { read: heap.words, outputs: wordOutputs.map(heap.words) };
      return { outputs: [...outputs, ...wordOutputs], flags: run(heap.view, outputs.map(heap.view), words) };
    } catch (error) {
      tf.dispose([...outputs, ...wordOutputs]);
      throw error;
    }
  }
  // Not wasm, so cpu: inPlaceStepUnavailable refuses every other backend before a step, so these
  // synchronous reads never reach webgl or webgpu; on cpu they hand over the backend's own arrays.
  const arrays = outputShapes.map((shape) => new Float32Array(tf.util.sizeFromShape([...shape])));
  const wordArrays = wordOutputSizes.map((size) => new Int32Array(size));
  const flags = run((t) => t.dataSync<'float32'>(), arrays, { read: (t) => t.dataSync<'int32'>(), outputs: wordArrays });
  return {
    outputs: [...arrays.map((values, i) => tf.tensor(values, [...(outputShapes[i] as readonly number[])], 'float32')), ...wordArrays.map((words) => tf.tensor1d(words, 'int32'))],
    flags,
  };
}
