/**
 * Lazy loader of the optional native kernel (`native/`, an N-API addon over OpenBLAS and, where it
 * was found at build time, oneDNN).
 *
 * Browser-safe by construction: nothing here imports a Node module statically. In Node the addon is
 * loaded through `process.getBuiltinModule('node:module').createRequire`; anywhere else (browser,
 * workers without `process`) {@link loadNativeAddon} reports it absent and callers fall back to the
 * TF.js kernels.
 */

import type { NewtonSchulzNormalization } from '../math/coefficients.js';

/** What the compiled addon exports (see native/src/muon_native.cc). */
export interface NativeAddon {
  /**
   * Orthogonalizes each row-major matrix as planned in TypeScript (`planOrthogonalization`):
   * `shapes` holds [rows, cols] per input, `coefficients` (a, b, c) per iteration, `plans`
   * [algorithm ({@link NATIVE_ALGORITHM_CODES}), transposed (0 or 1)] per input and `flops` the
   * planned cost per input (the addon balances its threads by it). Writes into `outputs` (one
   * array per input, same length, not overlapping the inputs) when given, else into new arrays;
   * returns the arrays written. `precision` ({@link NATIVE_PRECISION_CODES}, default float32) is
   * the arithmetic of the products; bfloat16 throws unless `info().bfloat16`. `normalization`
   * ({@link NATIVE_NORMALIZATION_CODES}, default Frobenius) is the schedule's.
   */
  orthogonalize(
    inputs: readonly Float32Array[],
    shapes: Int32Array,
    coefficients: Float64Array,
    normalizationScale: number,
    eps: number,
    restartAfter: Int32Array,
    plans: Int32Array,
    flops: Float64Array,
    outputs?: readonly Float32Array[],
    precision?: number,
    normalization?: number,
  ): Float32Array[];
  /**
   * A whole Muon step for every variable (native/src/fused_muon_step.cc): reads `params`, `grads`,
   * `momenta`, writes the new values into `newParams` and `newMomenta` (same lengths, not
   * overlapping the inputs), orthogonalizing as `orthogonalize` does with the same `shapes`,
   * `plans`, `flops`, schedule (`normalization` included) and `precision` (default float32; refused, nothing written, as
   * `orthogonalize` refuses it). `hyper` is [β, nesterov (0/1), lr, wd of this step, cautious
   * (0/1)]. Returns {@link FUSED_STEP_FLAGS} per variable. Absent in builds older than the export.
   */
  muonStep?(
    params: readonly Float32Array[],
    grads: readonly Float32Array[],
    momenta: readonly Float32Array[],
    newParams: readonly Float32Array[],
    newMomenta: readonly Float32Array[],
    shapes: Int32Array,
    plans: Int32Array,
    flops: Float64Array,
    shapeScales: Float64Array,
    coefficients: Float64Array,
    normalizationScale: number,
    eps: number,
    restartAfter: Int32Array,
    hyper: Float64Array,
    precision?: number,
    normalization?: number,
  ): Uint8Array;
  /** What the addon was built with and runs on. */
  info(): NativeAddonInfo;
  /**
   * Sets the thread count of this thread's calls (OpenBLAS's and oneDNN's): each worker thread that
   * loads the addon has its own, which starts at OpenBLAS's default (the cores).
   */
  setThreads(count: number): void;
  /**
   * Row-major C = A·B (m×k times k×n), for throughput measurements: OpenBLAS's sgemm, or with
   * `precision` the product Newton–Schulz runs in that precision.
   */
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, precision?: number): Float32Array;
  /** The min(rows, cols) eigenvalues, descending, of the smaller Gram side of a row-major float64 matrix (dsyrk + LAPACK dsyevd). */
  gramEigenvalues(data: Float64Array, rows: number, cols: number): Float64Array;
}

/** `info()` of the addon (native/src/muon_native.cc, products.cc). */
export interface NativeAddonInfo {
  /** OpenBLAS's build string. */
  readonly blas: string;
  /** Threads of a product that runs alone (OpenBLAS, and oneDNN's OpenMP team), in this thread's calls. */
  readonly threads: number;
  /** The addon's interface version. */
  readonly version: number;
  /** oneDNN's version and effective ISA, e.g. `'oneDNN 2.6.3 (avx512_core_bf16)'`; null when built without it. */
  readonly onednn: string | null;
  /** Which library computes which product, per precision (or why bfloat16 cannot run). */
  readonly products: { readonly float32: string; readonly bfloat16: string };
  /** Whether bfloat16 products can run: oneDNN built in and an ISA with bfloat16 dot products. */
  readonly bfloat16: boolean;
  /** XXᵀ and R² are computed as one triangle (ssyrk, or oneDNN block rows) at about half a gemm's flops, for the planner. */
  readonly symmetricProductsAtHalfCost: boolean;
  /** The CPU's bfloat16 features (cpuid), whatever the libraries use. */
  readonly cpu: { readonly avx512Bf16: boolean; readonly amxBf16: boolean };
}

/** How the addon's `plans` argument encodes an algorithm (`Algorithm` in native/src/muon_native.cc). */
export const NATIVE_ALGORITHM_CODES: Readonly<Record<'plain' | 'gram', number>> = Object.freeze({ plain: 0, gram: 1 });

/** The bits of `muonStep`'s flags per variable (`kNonFinite…` in native/src/fused_muon_step.cc). */
export const FUSED_STEP_FLAGS: Readonly<Record<'gradient' | 'momentum' | 'param', number>> = Object.freeze({ gradient: 1, momentum: 2, param: 4 });

/**
 * How the addon's `precision` argument encodes the products' arithmetic (`muon::Precision` in
 * native/src/products.h): `openblasFloat32` is float32 through OpenBLAS (ssyrk, sgemm) even in a
 * oneDNN build, the fallback build's products, for same-process comparisons.
 */
export const NATIVE_PRECISION_CODES: Readonly<Record<'float32' | 'bfloat16' | 'openblasFloat32', number>> = Object.freeze({ float32: 0, bfloat16: 1, openblasFloat32: 2 });

/** How the addon's `normalization` argument encodes a schedule's normalization (`Normalization` in native/src/orthogonalize_engine.h). */
export const NATIVE_NORMALIZATION_CODES: Readonly<Record<NewtonSchulzNormalization, number>> = Object.freeze({ frobenius: 0, aol: 1 });

/** The outcome of looking for the addon: the module, or why there is none. */
export type NativeAddonStatus = { readonly available: true; readonly addon: NativeAddon; readonly path: string } | { readonly available: false; readonly reason: string };

let cached: NativeAddonStatus | undefined;

/** The interface version this module speaks (`info().version` of native/src/muon_native.cc). */
const NATIVE_ADDON_VERSION = 6;

/**
 * Where node-gyp puts the addon, relative to this module. Held in a variable on purpose: bundlers
 * (webpack, Vite) treat `new URL('<literal>', import.meta.url)` as an asset to bundle, and a browser
 * build must neither need nor ship the addon.
 */
const ADDON_RELATIVE_PATH: string = ['..', '..', 'native', 'build', 'Release', 'muon_native.node'].join('/');

interface NodeProcessLike {
  readonly env: Record<string, string | undefined>;
  getBuiltinModule?(id: string): unknown;
}

/**
 * Finds and loads the native addon once per process. Looks at `MUON_TFJS_NATIVE_PATH`, else
 * `native/build/Release/muon_native.node` relative to this module (the same two levels up from
 * `src/kernels/` and from `dist/kernels/`). `MUON_TFJS_DISABLE_NATIVE=1` forces the fallback.
 */
export function loadNativeAddon(): NativeAddonStatus {
  cached ??= locate();
  return cached;
}

function locate(): NativeAddonStatus {
  const proc = (globalThis as { process?: NodeProcessLike }).process;
  if (proc?.getBuiltinModule === undefined) {
    return { available: false, reason: 'not running in Node ≥ 20.16 (no process.getBuiltinModule)' };
  }
  if (proc.env.MUON_TFJS_DISABLE_NATIVE === '1') {
    return { available: false, reason: 'disabled by MUON_TFJS_DISABLE_NATIVE=1' };
  }
  const moduleApi = proc.getBuiltinModule('node:module') as { createRequire(from: string | URL): (id: string) => unknown };
  const fsApi = proc.getBuiltinModule('node:fs') as { existsSync(path: string | URL): boolean };
  const urlApi = proc.getBuiltinModule('node:url') as { fileURLToPath(url: URL): string };
  const override = proc.env.MUON_TFJS_NATIVE_PATH;
  const path = override !== undefined && override !== '' ? override : urlApi.fileURLToPath(new URL(ADDON_RELATIVE_PATH, import.meta.url));
  if (!fsApi.existsSync(path)) {
    return { available: false, reason: `native addon not built (${path} is missing; run npm run build:native)` };
  }
  try {
    const addon = moduleApi.createRequire(import.meta.url)(path) as NativeAddon;
    const version = addon.info().version as number | undefined;
    if (version !== NATIVE_ADDON_VERSION) {
      return { available: false, reason: `native addon at ${path} is a stale build (interface ${String(version)}, expected ${NATIVE_ADDON_VERSION}; run npm run build:native)` };
    }
    return { available: true, addon, path };
  } catch (error) {
    return { available: false, reason: `native addon at ${path} failed to load: ${error instanceof Error ? error.message : String(error)}` };
  }
}
