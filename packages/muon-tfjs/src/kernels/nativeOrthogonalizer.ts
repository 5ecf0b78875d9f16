import * as tf from '@tensorflow/tfjs-core';
import { resolveCoefficients } from '../math/coefficients.js';
import { GRAM_MIN_SCHEDULE_DEVIATION, defaultGramRestarts, type NewtonSchulzAlgorithm, scheduleDeviation } from '../math/gramNewtonSchulz.js';
import { DEFAULT_NS_EPS } from '../math/newtonSchulz.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { loadNativeAddon } from './nativeAddon.js';

/** Options of {@link nativeOrthogonalizer}. */
export interface NativeOrthogonalizerOptions {
  /**
   * `'auto'` (default) picks Gram or plain per shape by flop count (syrk counted at half a gemm),
   * and plain for convergent schedules (see `usesGramIteration`).
   */
  readonly algorithm?: NewtonSchulzAlgorithm;
  /** 1-based iterations after which the Gram iteration restarts from X. Default: `defaultGramRestarts`. */
  readonly restartAfter?: readonly number[];
}

const MODES: Record<NewtonSchulzAlgorithm, number> = { auto: 0, plain: 1, gram: 2 };

/**
 * An {@link Orthogonalizer} running Newton–Schulz in native code over OpenBLAS (Node only): the
 * same map as `newtonSchulz` with the same options, computed with sgemm and ssyrk (the symmetric
 * products XXᵀ and R² at half the flops) and, for rectangular matrices, the Gram iteration.
 *
 * On the wasm backend it reads the inputs in place in the wasm heap and writes straight into the
 * output tensors' memory (no copy either way; the copies and wrapping took 0.74 of the 5.8 ms of
 * the benchmark transformer's orthogonalization per step); elsewhere it reads with `dataSync()` (the cpu backend's own array) and wraps the
 * results as new tensors. Throws if the addon is not built; use `fastestOrthogonalizer()` for the
 * automatic fallback.
 */
export function nativeOrthogonalizer(settings: NativeOrthogonalizerOptions = {}): Orthogonalizer {
  const status = loadNativeAddon();
  if (!status.available) throw new Error(`muon-tfjs native kernel unavailable: ${status.reason}`);
  const { addon } = status;
  const mode = MODES[settings.algorithm ?? 'auto'];
  if (mode === undefined) throw new Error(`algorithm must be 'auto', 'plain' or 'gram'; got ${JSON.stringify(settings.algorithm)}`);
  const fixedRestarts = settings.restartAfter;
  if (fixedRestarts !== undefined && !fixedRestarts.every((t) => Number.isInteger(t) && t >= 1)) {
    throw new Error(`restartAfter must list iteration numbers ≥ 1; got ${JSON.stringify(fixedRestarts)}`);
  }
  return (matrices, options) => {
    const schedule = resolveCoefficients(options.coefficients, options.steps);
    const eps = options.eps ?? DEFAULT_NS_EPS;
    if (!(eps >= 0) || !Number.isFinite(eps)) throw new Error(`eps must be a finite number ≥ 0; got ${eps}`);
    const shapes = new Int32Array(2 * matrices.length);
    matrices.forEach((g, i) => {
      if (g.rank !== 2 || g.dtype !== 'float32') {
        throw new Error(`nativeOrthogonalizer expects float32 matrices; matrices[${i}] has shape [${g.shape.join(', ')}] and dtype ${g.dtype}`);
      }
      shapes[2 * i] = g.shape[0];
      shapes[2 * i + 1] = g.shape[1];
    });
    const coefficients = Float64Array.from(schedule.iterations.flat());
    const restarts = Int32Array.from(fixedRestarts ?? defaultGramRestarts(schedule.iterations.length));
    // 'auto' in the addon weighs flops only; convergent schedules stay plain (see usesGramIteration).
    const callMode = mode === MODES.auto && scheduleDeviation(schedule) < GRAM_MIN_SCHEDULE_DEVIATION ? MODES.plain : mode;
    const run = (inputs: Float32Array[], outputs?: Float32Array[]): Float32Array[] =>
      addon.orthogonalize(inputs, shapes, coefficients, schedule.normalizationScale, eps, restarts, callMode, outputs);

    const heap = wasmHeap(matrices);
    if (heap !== undefined) {
      // Allocate first: an allocation may grow the wasm memory and invalidate earlier views.
      const outputs = matrices.map((g) => heap.allocate(g.shape));
      try {
        run(matrices.map((g) => heap.view(g)), outputs.map((o) => heap.view(o)));
      } catch (error) {
        tf.dispose(outputs);
        throw error;
      }
      return outputs;
    }
    return run(matrices.map((g) => g.dataSync<'float32'>())).map((values, i) => tf.tensor2d(values, (matrices[i] as tf.Tensor2D).shape, 'float32'));
  };
}

/** The parts of tfjs-backend-wasm 4.22's backend class used to read and write tensors in place. */
interface WasmBackendInternals {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  readonly dataIdMap: { has(dataId: object): boolean };
}

/**
 * In-place access to tensors of the wasm backend, when it is the current one and holds every
 * matrix (a tensor made on another backend and not yet moved is read with dataSync instead).
 */
function wasmHeap(matrices: readonly tf.Tensor2D[]): { allocate(shape: readonly number[]): tf.Tensor2D; view(t: tf.Tensor2D): Float32Array } | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as Partial<WasmBackendInternals>;
  const { typedArrayFromHeap, makeOutput, dataIdMap } = backend;
  if (typedArrayFromHeap === undefined || makeOutput === undefined || dataIdMap === undefined) return undefined;
  if (!matrices.every((g) => dataIdMap.has(g.dataId))) return undefined;
  return {
    allocate: (shape) => tf.engine().makeTensorFromTensorInfo(makeOutput.call(backend, [...shape], 'float32')) as tf.Tensor2D,
    view: (t) => typedArrayFromHeap.call(backend, t),
  };
}
