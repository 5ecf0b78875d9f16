import { type CoefficientSchedule, type CoefficientSpec, type NewtonSchulzNormalization, type Quintic, composedPolynomial, resolveCoefficients } from './coefficients.js';

/** Default `eps` of the Frobenius normalization (KellerJordan/Muon, torch.optim.Muon). */
export const DEFAULT_NS_EPS = 1e-7;

/**
 * The arithmetic of the Newton–Schulz products. `'bfloat16'`: each product rounds its two operands
 * to bfloat16 (8-bit significand, unit roundoff 2⁻⁸, round to nearest even) and accumulates in
 * float32, as Muon runs on GPUs; the input, its float64-summed normalization, the iterates between
 * products and the output stay float32. `'float16'`: the same with IEEE binary16 operands (11-bit
 * significand, unit roundoff 2⁻¹¹, range ±65504), the WebGPU kernel's half precision. Kernels that
 * cannot run the one asked (the TF.js ones; the native one for float16, and for bfloat16 without
 * oneDNN or on a CPU without AVX512-BF16/AMX; the WebGPU one for bfloat16) run float32 and say so
 * once (see `precisionThatRuns`).
 */
export type NewtonSchulzPrecision = 'float32' | 'bfloat16' | 'float16';

/** The precisions in {@link NewtonSchulzPrecision}, for validation and listings. */
export const NEWTON_SCHULZ_PRECISIONS: readonly NewtonSchulzPrecision[] = Object.freeze(['float32', 'bfloat16', 'float16']);

/** How a caller describes a Newton–Schulz run; {@link resolveNewtonSchulz} turns it into a schedule. */
export interface NewtonSchulzOptions {
  /** Preset name, one (a, b, c) triple, or one triple per iteration. Default `'jordan'`. */
  readonly coefficients?: CoefficientSpec;
  /** Number of iterations. Default: 5 for a single triple, the schedule's length for a list. */
  readonly steps?: number;
  /**
   * Added to the (scaled) Frobenius norm before dividing, so a zero input maps to zero; under the
   * `'aol'` normalization (preset `turboMuon`), the floor of each row's √(Σ_j |(XXᵀ)_ij|).
   */
  readonly eps?: number;
  /**
   * 1-based iterations after which the Gram iteration restarts from X (X ← QX, R ← XXᵀ, Q ← I).
   * Default {@link defaultGramRestarts}: after every third iteration. The plain iteration ignores it.
   */
  readonly restartAfter?: readonly number[];
  /** The arithmetic of the products. Default `'float32'`. */
  readonly precision?: NewtonSchulzPrecision;
}

declare const resolved: unique symbol;

/**
 * Everything a Newton–Schulz kernel needs to run, resolved, validated and frozen once (by
 * {@link resolveNewtonSchulz}, e.g. when an optimizer is constructed). Kernels take it as it is:
 * they neither re-resolve nor re-validate it per step. The brand makes TypeScript refuse a
 * hand-written object where a resolved schedule is expected.
 */
export interface NewtonSchulzSchedule extends CoefficientSchedule {
  /** One (a, b, c) triple per iteration, in order. */
  readonly iterations: readonly Quintic[];
  /** With `'frobenius'` normalization the input is divided by `normalizationScale·‖X‖_F + eps`. */
  readonly normalizationScale: number;
  /** How the input is normalized before the first iteration (set by the coefficients: `'aol'` for `turboMuon`). */
  readonly normalization: NewtonSchulzNormalization;
  /** Number of iterations (`iterations.length`). */
  readonly steps: number;
  /** Added to the scaled Frobenius norm (`'aol'`: the floor of the row scales' denominators); finite and ≥ 0. */
  readonly eps: number;
  /** 1-based iterations after which the Gram iteration restarts from X, ascending, each < `steps`. */
  readonly restartAfter: readonly number[];
  /** The arithmetic the products are asked to run in. */
  readonly precision: NewtonSchulzPrecision;
  /** The schedule's own worst-case error {@link scheduleDeviation}, computed once. */
  readonly deviation: number;
  readonly [resolved]: true;
}

/**
 * The default restart points of the Gram iteration: after iterations 3, 6, 9, … (never after the
 * last), so no run of Gram-form iterations is longer than three.
 *
 * Why: between restarts R is updated as ZRZ instead of being recomputed from X, so round-off in R
 * is no longer corrected by the iteration itself, and the final QX inherits it. Dao-AILab's
 * gram-newton-schulz (fp16) restarts after iteration 2. In fp32 we measured, for the 5-step presets
 * on 64×64 and 256×1024 matrices (relative Frobenius error against the float64 map U·p(S)·Vᵀ, native
 * kernel; the plain iteration's is 1–4e-6): restart after 2 → up to 1.2e-4, after 3 → up to
 * 1.6e-5, at the same flop count (both are 47m³ with syrk for n = 4m, against 65m³ plain).
 * Without any restart (22% fewer flops on wasm for 768×3072) the error on ill-conditioned inputs
 * (condition number 1e3 or 1e6, low rank; 128×512, addon) is 6.5e-5 to 5e-2 across the presets,
 * 4.5–320× the plain iteration's; with restarts after 3 it stays within 2× of it
 * (`npm run bench:gram-restarts`). The orthogonalizer contract test pins this on 64×256.
 */
export function defaultGramRestarts(steps: number): number[] {
  const restarts: number[] = [];
  for (let t = 3; t < steps; t += 3) restarts.push(t);
  return restarts;
}

/**
 * The schedule's own worst-case error: max |p(σ) − 1| of its composed polynomial over normalized
 * singular values σ ∈ [1e-2, 1] (what the presets are designed for), on a 1000-point log grid, in
 * float64. 0.318 for `jordan`, 0.032 for `cesista5`, 0.0044 for `you6`, 0.14 for `polarExpress5`,
 * below 1e-13 for the convergent `polarExpress8`, 0.059 for `turboMuon` (whose σ is of the
 * AOL-rescaled input: the figure says nothing of the distance between its target polar(diag(s)·X)
 * and polar(X)).
 */
export function scheduleDeviation(schedule: CoefficientSchedule): number {
  let worst = 0;
  for (let i = 0; i < 1000; i++) {
    const sigma = 10 ** (-2 + (2 * i) / 999);
    worst = Math.max(worst, Math.abs(composedPolynomial(schedule, sigma) - 1));
  }
  return worst;
}

/**
 * Resolves and validates Newton–Schulz options into the frozen {@link NewtonSchulzSchedule} that
 * every kernel runs. This is the one place where the coefficients, the step count, eps, the Gram
 * restart points and the precision are checked; the error names the option at fault.
 *
 * @example
 * const schedule = resolveNewtonSchulz({ coefficients: 'polarExpress5' }); // once
 * const outputs = gramOrthogonalizer()(matrices, schedule);               // every step
 */
export function resolveNewtonSchulz(options: NewtonSchulzOptions = {}): NewtonSchulzSchedule {
  const coefficients = resolveCoefficients(options.coefficients, options.steps);
  const eps = options.eps ?? DEFAULT_NS_EPS;
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) {
    throw new Error(`eps must be a finite number ≥ 0; got ${String(eps)}`);
  }
  const steps = coefficients.iterations.length;
  const restartAfter = options.restartAfter ?? defaultGramRestarts(steps);
  if (!Array.isArray(restartAfter) || !restartAfter.every((t) => Number.isInteger(t) && t >= 1)) {
    throw new Error(`restartAfter must list iteration numbers ≥ 1; got ${JSON.stringify(restartAfter)}`);
  }
  // A restart after the last iteration (or a repeated one) changes nothing: keep the distinct,
  // effective points in order, so kernels can walk them without searching.
  const restarts = [...new Set(restartAfter)].filter((t) => t < steps).sort((a, b) => a - b);
  const precision = options.precision ?? 'float32';
  if (!NEWTON_SCHULZ_PRECISIONS.includes(precision)) {
    const names = NEWTON_SCHULZ_PRECISIONS.map((p) => `'${p}'`);
    throw new Error(`precision must be ${names.slice(0, -1).join(', ')} or ${names.at(-1) ?? ''}; got ${JSON.stringify(precision)}`);
  }
  const iterations = Object.freeze(coefficients.iterations.map((triple) => Object.freeze([...triple]) as unknown as Quintic));
  const schedule = { iterations, normalizationScale: coefficients.normalizationScale, normalization: coefficients.normalization, steps, eps, restartAfter: Object.freeze(restarts) };
  const resolvedSchedule = Object.freeze({ ...schedule, precision, deviation: scheduleDeviation(schedule) }) as NewtonSchulzSchedule;
  RESOLVED_SCHEDULES.add(resolvedSchedule);
  return resolvedSchedule;
}

/** The schedules {@link resolveNewtonSchulz} made: the run-time side of the type's brand. */
const RESOLVED_SCHEDULES = new WeakSet<object>();

/**
 * Throws unless `schedule` was made by {@link resolveNewtonSchulz}, saying what to pass: a kernel
 * runs its schedule unchecked, so a plain options object (or a copy with other values) would fail
 * deep inside the iteration, in TF.js's words.
 */
export function checkResolvedSchedule(schedule: NewtonSchulzSchedule, caller: string): void {
  if (RESOLVED_SCHEDULES.has(schedule)) return;
  const got = schedule !== null && typeof schedule === 'object' ? `an object with keys ${Object.keys(schedule).join(', ') || '(none)'}` : String(schedule);
  throw new Error(`${caller}: the schedule must be made by resolveNewtonSchulz(options) (once, then passed to every call); got ${got}`);
}
