import * as tf from '@tensorflow/tfjs-core';
import { type NewtonSchulzPrecision, type NewtonSchulzSchedule, checkResolvedSchedule } from '../math/newtonSchulzSchedule.js';
import { type OrthogonalizationPlanner, orthogonalizationPlanner } from '../math/orthogonalizationPlanner.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import type { KernelCapabilities, NewtonSchulzAlgorithm } from '../math/planOrthogonalization.js';
import { kernelPlanner } from './kernelPlanner.js';
import { NATIVE_ALGORITHM_CODES, NATIVE_NORMALIZATION_CODES, NATIVE_PRECISION_CODES, type NativeAddon, loadNativeAddon } from './nativeAddon.js';
import { precisionThatRuns } from './precisionThatRuns.js';

/** Options of {@link nativeOrthogonalizer}. */
export interface NativeOrthogonalizerOptions {
  /**
   * `'auto'` (default) picks Gram or plain per shape by `planOrthogonalization` under the built
   * addon's capabilities ({@link nativeCapabilities}), and plain for convergent schedules.
   */
  readonly algorithm?: NewtonSchulzAlgorithm;
  /** Plans the matrices instead of the kernel's own planner (e.g. to give two kernels the same plans); excludes `algorithm`. */
  readonly planner?: OrthogonalizationPlanner;
  /** Which library runs the products ({@link NativeLibrary}); default `'fastest'`, the build's own. */
  readonly library?: NativeLibrary;
}

/**
 * Which library a native kernel runs its products on: `'fastest'`, the build's own (oneDNN where it
 * was built in, else OpenBLAS); `'openblas'`, float32 through OpenBLAS (ssyrk, sgemm, planned with
 * {@link OPENBLAS_CAPABILITIES}) even where the addon was built with oneDNN: the kernel of an
 * OpenBLAS-only build, for comparisons in one process (`bench:ns`, `bench:step`), where bfloat16
 * schedules run in float32, said once.
 */
export type NativeLibrary = 'fastest' | 'openblas';

/** The addon built over OpenBLAS alone computes XXᵀ and R² = RRᵀ with ssyrk: one triangle, half the flops of sgemm. */
export const OPENBLAS_CAPABILITIES: KernelCapabilities = Object.freeze({ symmetricProductsAtHalfCost: true, bfloat16Products: false, float16Products: false });

/**
 * The capabilities of the addon that loads here: XXᵀ and R² at about half a gemm's flops in both
 * builds (ssyrk over OpenBLAS alone; over oneDNN, which has no syrk, block rows of the upper
 * triangle: native/src/products.cc), and bfloat16 products where `info().bfloat16`.
 */
export function nativeCapabilities(): KernelCapabilities {
  const status = loadNativeAddon();
  if (!status.available) throw new Error(`muon-tfjs native kernel unavailable: ${status.reason}`);
  const info = status.addon.info();
  return Object.freeze({ symmetricProductsAtHalfCost: info.symmetricProductsAtHalfCost, bfloat16Products: info.bfloat16, float16Products: false });
}

/** How a native kernel (orthogonalizer, fused Muon step) runs its products on a {@link NativeLibrary}. */
export interface NativeProducts {
  /** The loaded addon whose products these are. */
  readonly addon: NativeAddon;
  /** What its planner plans under (`planOrthogonalization`; a schedule that runs bfloat16 never plans Gram). */
  readonly capabilities: KernelCapabilities;
  /**
   * The addon's `precision` argument ({@link NATIVE_PRECISION_CODES}) for a schedule asking for
   * `requested`: bfloat16 where these products can run it, else float32, said once per process
   * ({@link precisionThatRuns}; one message for every native kernel, so an optimizer whose steps
   * run fused and composed by turns says it once).
   */
  precisionCode(requested: NewtonSchulzPrecision): number;
}

/** Why the native kernel runs a float16 schedule in float32 (its half-precision products are bfloat16's). */
export const NATIVE_FLOAT16_MISSING = "the native kernel has no float16 products; its reduced precision is 'bfloat16'";

/** Throws, naming `owner`, unless `library` is a {@link NativeLibrary}. */
export function checkNativeLibrary(library: NativeLibrary, owner: string): void {
  if (library !== 'fastest' && library !== 'openblas') throw new Error(`${owner}: library must be 'fastest' or 'openblas'; got ${JSON.stringify(library)}`);
}

/**
 * The {@link NativeProducts} of `library` in the addon that loads here; `owner` names the caller
 * in the errors (library not one of {@link NativeLibrary}, addon unavailable).
 */
export function nativeProducts(library: NativeLibrary, owner: string): NativeProducts {
  checkNativeLibrary(library, owner);
  const status = loadNativeAddon();
  if (!status.available) throw new Error(`muon-tfjs native kernel unavailable: ${status.reason}`);
  const kernel = 'the native kernel';
  if (library === 'openblas') {
    return {
      addon: status.addon,
      capabilities: OPENBLAS_CAPABILITIES,
      precisionCode: (requested) => (precisionThatRuns(requested, kernel, "library 'openblas' computes in float32"), NATIVE_PRECISION_CODES.openblasFloat32),
    };
  }
  const info = status.addon.info();
  const bfloat16Missing = info.bfloat16 ? undefined : info.products.bfloat16;
  const missing = (requested: NewtonSchulzPrecision): string | undefined => (requested === 'float16' ? NATIVE_FLOAT16_MISSING : bfloat16Missing);
  return {
    addon: status.addon,
    capabilities: nativeCapabilities(),
    precisionCode: (requested) => (precisionThatRuns(requested, kernel, missing(requested)) === 'bfloat16' ? NATIVE_PRECISION_CODES.bfloat16 : NATIVE_PRECISION_CODES.float32),
  };
}

/** A schedule as the addon reads it. */
interface NativeSchedule {
  readonly coefficients: Float64Array;
  readonly restartAfter: Int32Array;
}

const flattenedSchedules = new WeakMap<NewtonSchulzSchedule, NativeSchedule>();

/** The schedule as the addon reads it, flattened once per schedule rather than per step. */
export function nativeSchedule(schedule: NewtonSchulzSchedule): NativeSchedule {
  let native = flattenedSchedules.get(schedule);
  if (native === undefined) {
    native = { coefficients: Float64Array.from(schedule.iterations.flat()), restartAfter: Int32Array.from(schedule.restartAfter) };
    flattenedSchedules.set(schedule, native);
  }
  return native;
}

/**
 * An {@link Orthogonalizer} running Newton–Schulz in native code (Node only) over oneDNN where the
 * addon was built with it, else OpenBLAS (sgemm, and ssyrk for the symmetric products XXᵀ and R² at
 * half the flops): the same map as `newtonSchulz` with the same schedule and, for rectangular
 * matrices, the Gram iteration. A schedule with `precision: 'bfloat16'` runs its products in
 * bfloat16 with float32 accumulation where `info().bfloat16` (oneDNN and AVX512-BF16 or AMX), else
 * in float32, said once ({@link precisionThatRuns}).
 *
 * The decision per matrix (algorithm, side, flops) is made here in TypeScript by the planner, once
 * per shape, and handed to the addon, which executes it and balances its threads by the flops; the
 * addon holds no cost model of its own.
 *
 * On the wasm backend it reads the inputs in place in the wasm heap and writes straight into the
 * output tensors' memory (no copy either way; the copies and wrapping took 0.74 of the 5.8 ms of
 * the benchmark transformer's orthogonalization per step); elsewhere it reads with `dataSync()` (the cpu backend's own array) and wraps the
 * results as new tensors. Throws if the addon is not built; use `fastestOrthogonalizer()` for the
 * automatic fallback.
 */
export function nativeOrthogonalizer(settings: NativeOrthogonalizerOptions = {}): Orthogonalizer {
  const products = nativeProducts(settings.library ?? 'fastest', 'nativeOrthogonalizer');
  const { addon } = products;
  const plan = kernelPlanner(settings, () => orthogonalizationPlanner(products.capabilities, settings.algorithm));
  return (matrices, schedule) => {
    checkResolvedSchedule(schedule, 'nativeOrthogonalizer');
    const native = nativeSchedule(schedule);
    const shapes = new Int32Array(2 * matrices.length);
    const plans = new Int32Array(2 * matrices.length);
    const flops = new Float64Array(matrices.length);
    matrices.forEach((g, i) => {
      if (g.rank !== 2 || g.dtype !== 'float32') {
        throw new Error(`nativeOrthogonalizer expects float32 matrices; matrices[${i}] has shape [${g.shape.join(', ')}] and dtype ${g.dtype}`);
      }
      const [rows, cols] = g.shape;
      const decision = plan(rows, cols, schedule);
      shapes[2 * i] = rows;
      shapes[2 * i + 1] = cols;
      plans[2 * i] = NATIVE_ALGORITHM_CODES[decision.algorithm];
      plans[2 * i + 1] = decision.transposed ? 1 : 0;
      flops[i] = decision.flops;
    });
    const { coefficients, restartAfter } = native;
    const precision = products.precisionCode(schedule.precision);
    const normalization = NATIVE_NORMALIZATION_CODES[schedule.normalization];
    const planned = { shapes, plans, flops, coefficients, normalizationScale: schedule.normalizationScale, eps: schedule.eps, restartAfter, precision, normalization };
    const run = (inputs: Float32Array[], outputs?: Float32Array[]): Float32Array[] => addon.orthogonalize(outputs === undefined ? { inputs, ...planned } : { inputs, outputs, ...planned });

    const heap = wasmHeap(matrices);
    if (heap !== undefined) {
      // Allocate first: an allocation may grow the wasm memory and invalidate earlier views.
      const outputs = matrices.map((g) => heap.allocate(g.shape) as tf.Tensor2D);
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
  /** The tensor's values in the heap, typed by its dtype (Float32Array, Int32Array). */
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array;
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): tf.TensorInfo;
  readonly dataIdMap: { has(dataId: object): boolean };
}

/**
 * In-place access to tensors of the wasm backend, when it is the current one and holds every
 * tensor (a tensor made on another backend and not yet moved is read with dataSync instead):
 * `view` of a float32 tensor, `words` of an int32 one (packed bfloat16); `allocate` makes a new
 * tensor there, float32 unless said.
 */
export function wasmHeap(
  tensors: readonly tf.Tensor[],
): { allocate(shape: readonly number[], dtype?: 'float32' | 'int32'): tf.Tensor; view(t: tf.Tensor): Float32Array; words(t: tf.Tensor): Int32Array } | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as Partial<WasmBackendInternals>;
  const { typedArrayFromHeap, makeOutput, dataIdMap } = backend;
  if (typedArrayFromHeap === undefined || makeOutput === undefined || dataIdMap === undefined) return undefined;
  if (!tensors.every((t) => dataIdMap.has(t.dataId))) return undefined;
  return {
    allocate: (shape, dtype = 'float32') => tf.engine().makeTensorFromTensorInfo(makeOutput.call(backend, [...shape], dtype)),
    view: (t) => heapArray(typedArrayFromHeap.call(backend, t), Float32Array, t),
    words: (t) => heapArray(typedArrayFromHeap.call(backend, t), Int32Array, t),
  };
}

/** `values` as the array type of the dtype the caller reads, or a throw naming the tensor's dtype (a caller's bug). */
function heapArray<T extends Float32Array | Int32Array>(values: Float32Array | Int32Array, type: new (...args: never[]) => T, t: tf.Tensor): T {
  if (!(values instanceof type)) throw new Error(`Internal error: a ${t.dtype} tensor read from the wasm heap as ${type.name}`);
  return values;
}
