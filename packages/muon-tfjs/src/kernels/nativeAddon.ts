/**
 * Lazy loader of the optional native kernel (`native/`, an N-API addon over OpenBLAS and, where it
 * was found at build time, oneDNN).
 *
 * Browser-safe by construction: nothing here imports a Node module statically. In Node the addon is
 * loaded through `process.getBuiltinModule('node:module').createRequire`; anywhere else (browser,
 * workers without `process`) {@link loadNativeAddon} reports it absent and callers fall back to the
 * TF.js kernels.
 */

import type { AdamStepSettings } from '../math/adamStepKernel.js';
import type { NewtonSchulzNormalization } from '../math/coefficients.js';

/**
 * The plan of every matrix and the resolved schedule, as both exports read them: `shapes` holds
 * [rows, cols] per matrix, `plans` [algorithm ({@link NATIVE_ALGORITHM_CODES}), transposed (0 or 1)]
 * per matrix, `flops` the planned cost per matrix (the addon balances its threads by it),
 * `coefficients` (a, b, c) per iteration; `precision` ({@link NATIVE_PRECISION_CODES}) is the
 * arithmetic of the products (bfloat16 is refused unless `info().bfloat16`), `normalization`
 * ({@link NATIVE_NORMALIZATION_CODES}) the schedule's.
 */
export interface NativePlansAndSchedule {
  readonly shapes: Int32Array;
  readonly plans: Int32Array;
  readonly flops: Float64Array;
  readonly coefficients: Float64Array;
  readonly normalizationScale: number;
  readonly eps: number;
  readonly restartAfter: Int32Array;
  readonly precision: number;
  readonly normalization: number;
}

/** The options of the addon's `orthogonalize`: row-major `inputs`, and `outputs` (one array per input, same length, not overlapping the inputs) to write into, else new arrays. */
export interface NativeOrthogonalizeArguments extends NativePlansAndSchedule {
  readonly inputs: readonly Float32Array[];
  readonly outputs?: readonly Float32Array[];
}

/**
 * The options of the addon's `muonStep`: it reads `params`, `grads` and `momenta` and writes the new
 * values into `newParams` and `newMomenta` (same lengths, not overlapping the inputs),
 * orthogonalizing as `orthogonalize` does; `shapeScales` per variable and the step's
 * hyper-parameters (`weightDecay` already this step's, 0 for none). `momentumDtype`
 * ({@link NATIVE_MOMENTUM_DTYPE_CODES}) says how the momenta are stored: Float32Arrays of their
 * variable's size, or Int32Arrays of `ceil(size / 2)` words of packed bfloat16 (`packBfloat16`'s
 * layout and rounding), read and written packed.
 */
export interface NativeMuonStepArguments extends NativePlansAndSchedule {
  readonly params: readonly Float32Array[];
  readonly grads: readonly Float32Array[];
  readonly momenta: readonly Float32Array[] | readonly Int32Array[];
  readonly newParams: readonly Float32Array[];
  readonly newMomenta: readonly Float32Array[] | readonly Int32Array[];
  readonly momentumDtype: number;
  readonly shapeScales: Float64Array;
  readonly beta: number;
  readonly nesterov: boolean;
  readonly learningRate: number;
  readonly weightDecay: number;
  readonly cautious: boolean;
}

/**
 * The options of the addon's `dion2Step`: it reads `params`, `grads` and `momenta` (row-major
 * `variableShapes`, the `[fanIn, fanOut]` views) and writes the new values into `newParams` and
 * `newMomenta`; `selections` per variable, the side whose slices it selects (0 rows, 1 columns) and
 * how many (k); the plan fields describe each selected `[k, other side]` submatrix, orthogonalized
 * as `orthogonalize` does; `normsInFloat64` accumulates the slices' L1 norms as the cpu backend's
 * `tf.sum` does (else in float32, as wasm's).
 */
export interface NativeDion2StepArguments extends NativePlansAndSchedule {
  readonly params: readonly Float32Array[];
  readonly grads: readonly Float32Array[];
  readonly momenta: readonly Float32Array[];
  readonly newParams: readonly Float32Array[];
  readonly newMomenta: readonly Float32Array[];
  readonly variableShapes: Int32Array;
  readonly selections: Int32Array;
  readonly shapeScales: Float64Array;
  readonly errorFeedbackDecay: number;
  readonly normsInFloat64: boolean;
  readonly learningRate: number;
  readonly weightDecay: number;
  readonly cautious: boolean;
}

/**
 * The options of the addon's `adamStep`: it reads `params`, `grads`, `firstMoments` and
 * `secondMoments` and writes the new values into the `new…` arrays (same lengths per variable, not
 * overlapping the inputs); the step's hyper-parameters, with the bias corrections 1 − βᵗ in (0, 1]
 * and `weightDecay` already this step's (0 for none).
 */
export interface NativeAdamStepArguments extends AdamStepSettings {
  readonly params: readonly Float32Array[];
  readonly grads: readonly Float32Array[];
  readonly firstMoments: readonly Float32Array[];
  readonly secondMoments: readonly Float32Array[];
  readonly newParams: readonly Float32Array[];
  readonly newFirstMoments: readonly Float32Array[];
  readonly newSecondMoments: readonly Float32Array[];
}

/** What the compiled addon exports (native/src/bindings.cc over the engine in native/src). */
export interface NativeAddon {
  /** Orthogonalizes each row-major matrix as planned in TypeScript (`planOrthogonalization`); returns the arrays written. */
  orthogonalize(options: NativeOrthogonalizeArguments): Float32Array[];
  /**
   * A whole Muon step for every variable (native/src/fused_muon_step.cc); refused, nothing
   * written, where `orthogonalize` refuses its arguments. Returns {@link FUSED_STEP_FLAGS} per variable.
   */
  muonStep(options: NativeMuonStepArguments): Uint8Array;
  /**
   * A whole Dion2 step for every variable (native/src/fused_dion2_step.cc): the composed step's
   * float32 arithmetic, selection and orthogonalization. Refused, nothing written, where
   * `orthogonalize` refuses its plans or a selection does not fit its variable. Returns
   * {@link FUSED_STEP_FLAGS} per variable.
   */
  dion2Step(options: NativeDion2StepArguments): Uint8Array;
  /**
   * A whole AdamW step for every variable, one pass each (native/src/fused_adam_step.cc): the
   * composed step's float32 arithmetic, bit for bit. Refused, nothing written, on arguments of the
   * wrong type or length. Returns {@link ADAM_STEP_FLAGS} per variable.
   */
  adamStep(options: NativeAdamStepArguments): Uint8Array;
  /** What the addon was built with and runs on. */
  info(): NativeAddonInfo;
  /**
   * Sets the thread count of this thread's calls (OpenBLAS's and oneDNN's): exactly `count`, the
   * same bits on every run; or with `followLoad`, at most `count` and fewer while other processes
   * keep the CPUs busy. Each worker thread that loads the addon has its own setting, which starts
   * at OpenBLAS's default count (the cores), following the load.
   */
  setThreads(count: number, followLoad?: boolean): void;
  /** The thread setting of this thread's copy and how its last `orthogonalize` or `muonStep` chose its threads. */
  threading(): NativeThreading;
  /**
   * Row-major C = A·B (m×k times k×n), for throughput measurements: OpenBLAS's sgemm, or with
   * `precision` the product Newton–Schulz runs in that precision.
   */
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, precision?: number): Float32Array;
  /** The min(rows, cols) eigenvalues, descending, of the smaller Gram side of a row-major float64 matrix (dsyrk + LAPACK dsyevd). */
  gramEigenvalues(data: Float64Array, rows: number, cols: number): Float64Array;
}

/**
 * How the native kernel chooses its threads (`threading()` of the addon; native/src/engine.h): at
 * most `threads` per call; with `followsLoad`, each call's products take the CPUs that other
 * processes' runnable threads leave free (at least 1), so that a busy machine does not stall them in
 * lock step, while whole matrices still run side by side, one per thread, on all `threads`.
 */
export interface NativeThreading {
  /** The most threads of a call. */
  readonly threads: number;
  /** Whether a call takes fewer while other processes keep the CPUs busy (the default); false after `setThreads(n)`. */
  readonly followsLoad: boolean;
  /** `orthogonalize` and `muonStep` calls so far in this thread's copy. */
  readonly calls: number;
  /**
   * The last call's choice: `threads`, the team of a product that runs alone; the CPUs it could use
   * (0: it did not look); the other processes' runnable threads it saw (-1: it did not look, or
   * cannot on this OS); `sideBySide`, the threads that ran whole matrices at once, one each (up to
   * `threads` of the engine even on a busy machine, since such a thread waits for no other; 1 when
   * every matrix ran alone). Null before the first call.
   */
  readonly lastCall: { readonly threads: number; readonly cpus: number; readonly othersRunnable: number; readonly sideBySide: number } | null;
}

/** `info()` of the addon (native/src/bindings.cc, products.cc). */
export interface NativeAddonInfo {
  /** OpenBLAS's build string. */
  readonly blas: string;
  /** The most threads of a product that runs alone (OpenBLAS, and oneDNN's OpenMP team), in this thread's calls. */
  readonly threads: number;
  /** Whether this thread's calls take fewer threads while other processes keep the CPUs busy ({@link NativeThreading}). */
  readonly followsLoad: boolean;
  /** The options each export takes, `'name: type'` per field (`'outputs?: …'` when optional), and the names of the exports, compared with {@link NATIVE_INTERFACE} at load. */
  readonly interface: Readonly<Record<keyof typeof NATIVE_INTERFACE, readonly string[]>>;
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

/** How the addon's `plans` field encodes an algorithm (`Algorithm` in native/src/newton_schulz.h). */
export const NATIVE_ALGORITHM_CODES: Readonly<Record<'plain' | 'gram', number>> = Object.freeze({ plain: 0, gram: 1 });

/** The bits of `muonStep`'s and `dion2Step`'s flags per variable (`kNonFinite…` in native/src/step_passes.h). */
export const FUSED_STEP_FLAGS: Readonly<Record<'gradient' | 'momentum' | 'param', number>> = Object.freeze({ gradient: 1, momentum: 2, param: 4 });

/** The bits of `adamStep`'s flags per variable (`kAdamNonFinite…` in native/src/fused_adam_step.h). */
export const ADAM_STEP_FLAGS: Readonly<Record<'gradient' | 'firstMoment' | 'secondMoment' | 'param', number>> = Object.freeze({ gradient: 1, firstMoment: 2, secondMoment: 4, param: 8 });

/**
 * How the addon's `precision` field encodes the products' arithmetic (`muon::Precision` in
 * native/src/products.h): `openblasFloat32` is float32 through OpenBLAS (ssyrk, sgemm) even in a
 * oneDNN build, the fallback build's products, for same-process comparisons.
 */
export const NATIVE_PRECISION_CODES: Readonly<Record<'float32' | 'bfloat16' | 'openblasFloat32', number>> = Object.freeze({ float32: 0, bfloat16: 1, openblasFloat32: 2 });

/** How the addon's `momentumDtype` field encodes how `muonStep`'s momenta are stored (`MomentumDtype` in native/src/fused_muon_step.h). */
export const NATIVE_MOMENTUM_DTYPE_CODES: Readonly<Record<'float32' | 'bfloat16', number>> = Object.freeze({ float32: 0, bfloat16: 1 });

/** How the addon's `normalization` field encodes a schedule's normalization (`Normalization` in native/src/newton_schulz.h). */
export const NATIVE_NORMALIZATION_CODES: Readonly<Record<NewtonSchulzNormalization, number>> = Object.freeze({ frobenius: 0, aol: 1 });

/** The outcome of looking for the addon: the module, or why there is none. */
export type NativeAddonStatus = { readonly available: true; readonly addon: NativeAddon; readonly path: string } | { readonly available: false; readonly reason: string };

let cached: NativeAddonStatus | undefined;

/** One string per field of `T`, keyed by its name (`name?` when optional): what JavaScript passes. */
type FieldTypes<T> = { readonly [K in keyof T & string as Record<never, never> extends Pick<T, K> ? `${K}?` : K]-?: string };

/** A code field's type as the addon spells it: `'float32=0|bfloat16=1|…'`. */
const codes = (table: Readonly<Record<string, number>>): string =>
  Object.entries(table)
    .map(([name, code]) => `${name}=${code}`)
    .join('|');

const PLANS_AND_SCHEDULE_FIELDS = {
  shapes: 'Int32Array',
  plans: 'Int32Array',
  flops: 'Float64Array',
  coefficients: 'Float64Array',
  normalizationScale: 'number',
  eps: 'number',
  restartAfter: 'Int32Array',
  precision: codes(NATIVE_PRECISION_CODES),
  normalization: codes(NATIVE_NORMALIZATION_CODES),
} satisfies FieldTypes<NativePlansAndSchedule>;

/**
 * The interface this module speaks, derived from the argument types above (the compiler holds
 * these lists to their fields, and the export names to {@link NativeAddon}'s) and compared at load
 * with the addon's `info().interface`, which the addon derives from the field lists its bindings
 * read against (native/src/bindings.cc). An export or a field added, removed, renamed or retyped on
 * either side, or a code table changed, makes the other side's build report itself stale: nothing
 * is bumped by hand.
 */
export const NATIVE_INTERFACE = Object.freeze({
  exports: Object.freeze(Object.keys({ orthogonalize: true, muonStep: true, dion2Step: true, adamStep: true, info: true, setThreads: true, matmul: true, gramEigenvalues: true, threading: true } satisfies Record<keyof NativeAddon, true>)),
  orthogonalize: fieldList({ inputs: 'Float32Array[]', 'outputs?': 'Float32Array[]', ...PLANS_AND_SCHEDULE_FIELDS } satisfies FieldTypes<NativeOrthogonalizeArguments>),
  muonStep: fieldList({
    params: 'Float32Array[]',
    grads: 'Float32Array[]',
    momenta: 'Float32Array[]|Int32Array[]',
    newParams: 'Float32Array[]',
    newMomenta: 'Float32Array[]|Int32Array[]',
    momentumDtype: codes(NATIVE_MOMENTUM_DTYPE_CODES),
    ...PLANS_AND_SCHEDULE_FIELDS,
    shapeScales: 'Float64Array',
    beta: 'number',
    nesterov: 'boolean',
    learningRate: 'number',
    weightDecay: 'number',
    cautious: 'boolean',
  } satisfies FieldTypes<NativeMuonStepArguments>),
  dion2Step: fieldList({
    params: 'Float32Array[]',
    grads: 'Float32Array[]',
    momenta: 'Float32Array[]',
    newParams: 'Float32Array[]',
    newMomenta: 'Float32Array[]',
    variableShapes: 'Int32Array',
    selections: 'Int32Array',
    ...PLANS_AND_SCHEDULE_FIELDS,
    shapeScales: 'Float64Array',
    errorFeedbackDecay: 'number',
    normsInFloat64: 'boolean',
    learningRate: 'number',
    weightDecay: 'number',
    cautious: 'boolean',
  } satisfies FieldTypes<NativeDion2StepArguments>),
  adamStep: fieldList({
    params: 'Float32Array[]',
    grads: 'Float32Array[]',
    firstMoments: 'Float32Array[]',
    secondMoments: 'Float32Array[]',
    newParams: 'Float32Array[]',
    newFirstMoments: 'Float32Array[]',
    newSecondMoments: 'Float32Array[]',
    beta1: 'number',
    beta2: 'number',
    epsilon: 'number',
    correction1: 'number',
    correction2: 'number',
    learningRate: 'number',
    weightDecay: 'number',
    cautious: 'boolean',
  } satisfies FieldTypes<NativeAdamStepArguments>),
});

function fieldList(fields: Readonly<Record<string, string>>): readonly string[] {
  return Object.freeze(Object.entries(fields).map(([name, type]) => `${name}: ${type}`));
}

/** Why an addon with `info().interface` = `theirs` cannot be called by this module, or undefined when it can. */
export function interfaceMismatch(theirs: unknown): string | undefined {
  if (typeof theirs !== 'object' || theirs === null) return 'it predates the options-object interface';
  const differences = Object.entries(NATIVE_INTERFACE).flatMap(([name, ours]) => {
    const fields = (theirs as Record<string, unknown>)[name];
    const listed = Array.isArray(fields) ? fields.map(String) : [];
    const missing = ours.filter((f) => !listed.includes(f));
    const extra = listed.filter((f) => !ours.includes(f));
    if (missing.length === 0 && extra.length === 0) return [];
    return [`${name} ${[...missing.map((f) => `lacks '${f}'`), ...extra.map((f) => `has '${f}'`)].join(', ')}`];
  });
  return differences.length === 0 ? undefined : differences.join('; ');
}

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
    const mismatch = interfaceMismatch((addon.info() as Partial<NativeAddonInfo>).interface);
    if (mismatch !== undefined) {
      return { available: false, reason: `native addon at ${path} is a stale build (${mismatch}; run npm run build:native)` };
    }
    return { available: true, addon, path };
  } catch (error) {
    return { available: false, reason: `native addon at ${path} failed to load: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * How the native kernel chooses its threads in this thread (see {@link NativeThreading}), and
 * what its last call ran on: for benchmarks and logs that report which kernel ran how. Undefined
 * without the addon.
 */
export function nativeThreading(): NativeThreading | undefined {
  const status = loadNativeAddon();
  return status.available ? status.addon.threading() : undefined;
}
