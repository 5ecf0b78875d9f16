import type * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_SCHEDULE_TARGET } from '../math/chooseSchedule.js';
import { MAX_LAYER_AWARE_STEPS } from '../math/layerAwareSchedule.js';
import { type CoefficientSpec, DEFAULT_COEFFICIENTS, DEFAULT_NS_STEPS } from '../math/coefficients.js';
import { DEFAULT_NS_EPS, type NewtonSchulzPrecision, type NewtonSchulzSchedule, resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { CONV_ORTHOGONALIZATIONS, type ConvOrthogonalization } from '../math/convTaps.js';
import { type Scheduled, maxValue } from '../math/schedule.js';
import { LR_ADJUST_MODES, type LrAdjust } from '../math/shapeScale.js';
import { chain } from '../transforms/chain.js';
import type { GradientTransformation, Live } from '../transforms/gradientTransformation.js';
import { scaleByLearningRate } from '../transforms/scaleByLearningRate.js';
import { scaleByMuon } from '../transforms/scaleByMuon.js';
import { scaleByShape } from '../transforms/scaleByShape.js';
import { splitColumns } from '../transforms/splitColumns.js';
import { splitMatrices } from '../transforms/splitMatrices.js';
import { type BlockColumnsRule, blockColumnsOf, checkBlockColumns } from './blockColumns.js';
import { fusedMuonStep } from './fusedMuon.js';
import { type IsConvKernel, type MatrixViewRule, NO_CONV_KERNELS, checkMatrixViews, matrixViewOf } from './matrixViews.js';
import { type OptimizerKind, matrixOptimizerKind } from './optimizerKind.js';
import { type OptionNameSet, checkLearningRate, checkMomentum, checkPositive, optionNames, rejectUnknownOptions } from './options.js';
import { WEIGHT_DECAY_OPTION_SET, type WeightDecayOptions, resolveWeightDecayOptions, weightDecayTransformation } from './weightDecay.js';

/** Options of the Muon optimizer; every field has a default in {@link MUON_DEFAULTS}. */
export interface MuonOptions extends WeightDecayOptions {
  /** Step size lr in p ← p·(1 − lr·wd) − lr·s·O: a number or a schedule. Default 0.02 (KellerJordan/Muon). */
  readonly learningRate?: Scheduled;
  /** β of the momentum EMA, in [0, 1): a number or a schedule ({@link momentumWarmup}). Default 0.95. */
  readonly momentum?: Scheduled;
  /** Orthogonalize the Nesterov look-ahead (1−β)g + βm rather than m. Default true. */
  readonly nesterov?: boolean;
  /**
   * Newton–Schulz iterations. Default 5 for a single triple, the schedule's length for a list.
   * `'auto'`: layer-aware Newton–Schulz. Each matrix gets the cheapest schedule whose composed
   * polynomial lifts its measured σ quantile (`nsAutoQuantile` of its Newton–Schulz input,
   * Frobenius-normalized) into [0.68, 1.32] (`chooseSchedule`; the quantile snapped down to a
   * quarter-decade grid, `layerAwareSchedule`), re-measured every `nsAutoEvery` steps; then
   * `coefficients` must be left at its default (the chooser picks them). On cpu and wasm a
   * measurement reads its input at once and the step runs the schedule it calls for. On webgl and
   * webgpu nothing is read synchronously: the input is read with `data()`, and the new schedule
   * takes effect at the matrix's first step after the values arrive (usually the next); until a
   * matrix's first measurement arrives (or a restored lower bound has been read) it runs the
   * longest schedule allowed, `nsAutoMaxSteps`'s.
   */
  readonly nsSteps?: number | 'auto';
  /**
   * Under `nsSteps: 'auto'`: steps between re-measurements of each matrix's quantile (also measured
   * at steps 1, 2, 4, … before the first multiple). Default 100.
   */
  readonly nsAutoEvery?: number;
  /** Under `nsSteps: 'auto'`: the quantile to lift, of `SpectrumQuantiles`. Default `'q90'` ({@link DEFAULT_SCHEDULE_TARGET}). */
  readonly nsAutoQuantile?: NsAutoQuantile;
  /**
   * Under `nsSteps: 'auto'`: the most iterations any matrix runs, 2–8; a layer whose quantile would
   * need more gets the best schedule of this length (`lowerBoundFloor`). Default 5: never more
   * Newton–Schulz work than the fixed default, while lifting [5.6e-4, 1] instead of jordan's [1e-2, 1].
   */
  readonly nsAutoMaxSteps?: number;
  /** Coefficient schedule: a preset name, an (a, b, c) triple, or one triple per step. Default `'jordan'`. */
  readonly coefficients?: CoefficientSpec;
  /** Decoupled weight decay wd (applied as p·(1 − lr·wd), with the unscaled lr). Default 0. */
  readonly weightDecay?: number;
  /** Shape scale s of the update; see {@link LrAdjust}. Default `'original'`: √max(1, fanOut/fanIn). */
  readonly lrAdjust?: LrAdjust;
  /** eps of the Frobenius normalization before Newton–Schulz, > 0. Default 1e-7. */
  readonly eps?: number;
  /**
   * The arithmetic of the Newton–Schulz products ({@link NewtonSchulzPrecision}): `'bfloat16'`
   * rounds each product's operands to bfloat16 and accumulates in float32, as GPU Muon does; the
   * momentum, the normalization and the update stay float32. It runs in the native kernel built
   * with oneDNN on a CPU with AVX512-BF16 or AMX; `'float16'` rounds them to IEEE binary16 instead,
   * in the WebGPU kernel (webgpu backend). Elsewhere float32 runs, said once on the console.
   * Default `'float32'` (README, "Precision": bfloat16 measured against float32 training).
   */
  readonly precision?: NewtonSchulzPrecision;
  /**
   * Per-block orthogonalization: variables matching a rule are split into column blocks, each
   * orthogonalized with its own shape scale (Q, K, V of a fused kernel; attention heads; LSTM/GRU
   * gates). See {@link BlockColumnsRule}. Default `[]`: every matrix whole.
   */
  readonly blockColumns?: readonly BlockColumnsRule[];
  /**
   * How a conv kernel `[...spatial, in, out]` is orthogonalized: `'flatten'`, the `[kh·kw·in, out]`
   * matrix (KellerJordan/Muon, the CIFAR-10 speedrun), or `'perTap'`, each tap's `[in, out]`
   * matrix with its own shape scale and the update divided by √taps (timm's `conv_mode="batched"`).
   * See {@link ConvOrthogonalization}. Matrices are unaffected. Default `'flatten'`.
   */
  readonly convOrthogonalization?: ConvOrthogonalization;
  /**
   * How weights of rank ≥ 3 other than convolution kernels split into matrices: variables matching
   * a rule are orthogonalized per matrix along their batch axes, each with its own shape scale
   * (experts `[E, in, out]`, per-head projections `[heads, headDim, dModel]`), as optax's
   * `MuonDimensionNumbers`. See {@link MatrixViewRule}. Without a rule, only a convolution kernel
   * (known by its layer class, in a hybrid built from a model) is flattened; any other rank ≥ 3
   * weight is refused with the rule to write. Default `[]`.
   */
  readonly matrixViews?: readonly MatrixViewRule[];
  /**
   * The orthogonalization kernel (not serialized). Default, supplied by the adapter classes
   * (`MuonOptimizer`, `MuonWithAdamWOptimizer`): `fastestOrthogonalizer()`, the native OpenBLAS
   * kernel in Node when built, else Gram/plain Newton–Schulz in TF.js.
   */
  readonly orthogonalize?: Orthogonalizer;
  /**
   * Run the whole step fused in the native kernel when it can (not serialized): in Node with the
   * addon built, on the cpu and wasm backends, with the default `orthogonalize`, no `blockColumns`,
   * and no Muon tap heard at that step; the composed step runs otherwise. Both compute the same
   * values (the fused step is the composition's arithmetic in one pass). Default true.
   */
  readonly fused?: boolean;
}

/** The quantiles `nsAutoQuantile` may name, as `spectrumOf` reports them (q90: 90% of the directions have σ ≥ it). */
export type NsAutoQuantile = 'q10' | 'q25' | 'q50' | 'q75' | 'q90';

const NS_AUTO_PERCENTS: Readonly<Record<NsAutoQuantile, number>> = { q10: 10, q25: 25, q50: 50, q75: 75, q90: 90 };

/** Muon's serializable options with every default filled in (the `orthogonalize` kernel and `fused` aside). */
type MuonSettings = Required<Omit<MuonOptions, 'orthogonalize' | 'fused'>>;

/**
 * Muon's options with every default filled in (the `orthogonalize` kernel aside), and the
 * Newton–Schulz schedule resolved from them once, at construction.
 */
export type ResolvedMuonOptions = MuonSettings & {
  /**
   * The frozen schedule every step hands to the kernel, derived from `coefficients`, `nsSteps`,
   * `eps` and `precision` (under `nsSteps: 'auto'`, that of `coefficients` at its default steps, of
   * which only eps is used: each matrix runs its own `layerAwareSchedule`). Not enumerable: a config spread from these options (`getConfig` of Muon or of a hybrid
   * group) or their JSON holds the user's settings only, and `fromConfig` resolves it again.
   */
  readonly schedule: NewtonSchulzSchedule;
};

/** Muon's defaults, as in KellerJordan/Muon and torch.optim.Muon (with weight decay 0, as KJ). */
export const MUON_DEFAULTS = {
  learningRate: 0.02,
  momentum: 0.95,
  nesterov: true,
  nsSteps: DEFAULT_NS_STEPS,
  nsAutoEvery: 100,
  nsAutoQuantile: DEFAULT_SCHEDULE_TARGET.quantile,
  nsAutoMaxSteps: DEFAULT_NS_STEPS,
  coefficients: DEFAULT_COEFFICIENTS,
  weightDecay: 0,
  correctedWeightDecay: false,
  cautiousWeightDecay: false,
  lrAdjust: 'original',
  eps: DEFAULT_NS_EPS,
  precision: 'float32',
  blockColumns: [],
  convOrthogonalization: 'flatten',
  matrixViews: [],
} as const satisfies Omit<MuonSettings, 'maxLearningRate'>;

/**
 * Muon's options but `fused`, which chooses how the composition executes: NorMuon, which extends
 * the composition and has no fused step, takes exactly these.
 */
export const MUON_COMPOSITION_OPTION_SET = {
  learningRate: true,
  momentum: true,
  nesterov: true,
  nsSteps: true,
  nsAutoEvery: true,
  nsAutoQuantile: true,
  nsAutoMaxSteps: true,
  coefficients: true,
  ...WEIGHT_DECAY_OPTION_SET,
  lrAdjust: true,
  eps: true,
  precision: true,
  blockColumns: true,
  convOrthogonalization: true,
  matrixViews: true,
  orthogonalize: true,
} as const satisfies OptionNameSet<Omit<MuonOptions, 'fused'>>;

/** The names of Muon's options: the keys of {@link MuonOptions}, checked by the compiler. */
export const MUON_OPTION_NAMES = optionNames<MuonOptions>({ ...MUON_COMPOSITION_OPTION_SET, fused: true });

/** Fills in defaults and checks every option, throwing with the option's name and value. */
export function resolveMuonOptions(options: MuonOptions = {}, owner = 'muon'): ResolvedMuonOptions {
  rejectUnknownOptions(options, MUON_OPTION_NAMES, owner);
  const coefficients = options.coefficients ?? MUON_DEFAULTS.coefficients;
  const eps = options.eps ?? MUON_DEFAULTS.eps;
  // eps > 0: with eps = 0 a zero gradient is normalized as 0/0 and writes NaN.
  checkPositive(eps, 'eps', owner);
  const auto = options.nsSteps === 'auto';
  if (auto && options.coefficients !== undefined && options.coefficients !== DEFAULT_COEFFICIENTS) {
    throw new Error(`${owner}: nsSteps 'auto' chooses the coefficients per layer; leave coefficients out (got ${JSON.stringify(options.coefficients)})`);
  }
  if (typeof options.nsSteps === 'string' && !auto) {
    throw new Error(`${owner}: nsSteps must be a positive integer or 'auto', got ${JSON.stringify(options.nsSteps)}`);
  }
  const nsAutoEvery = options.nsAutoEvery ?? MUON_DEFAULTS.nsAutoEvery;
  if (!Number.isInteger(nsAutoEvery) || nsAutoEvery < 1) {
    throw new Error(`${owner}: nsAutoEvery must be an integer ≥ 1 (steps between re-measurements), got ${String(nsAutoEvery)}`);
  }
  const nsAutoQuantile = options.nsAutoQuantile ?? MUON_DEFAULTS.nsAutoQuantile;
  if (!Object.hasOwn(NS_AUTO_PERCENTS, nsAutoQuantile)) {
    throw new Error(`${owner}: nsAutoQuantile must be one of ${Object.keys(NS_AUTO_PERCENTS).join(', ')}, got ${JSON.stringify(nsAutoQuantile)}`);
  }
  const nsAutoMaxSteps = options.nsAutoMaxSteps ?? MUON_DEFAULTS.nsAutoMaxSteps;
  if (!Number.isInteger(nsAutoMaxSteps) || nsAutoMaxSteps < 2 || nsAutoMaxSteps > MAX_LAYER_AWARE_STEPS) {
    throw new Error(`${owner}: nsAutoMaxSteps must be an integer in [2, ${MAX_LAYER_AWARE_STEPS}], got ${String(nsAutoMaxSteps)}`);
  }
  // The one resolution of the schedule: it validates coefficients and nsSteps together, fixes the
  // step count, and is what every step runs (scaleByMuon hands it to the kernel unchanged).
  const precision = options.precision ?? MUON_DEFAULTS.precision;
  if (auto && precision !== 'float32') {
    // The per-layer schedules are float32 (layerAwareSchedule); bfloat16 or float16 would need them re-derived.
    throw new Error(`${owner}: nsSteps 'auto' runs float32 schedules; leave precision out or 'float32' with it (got ${JSON.stringify(precision)})`);
  }
  const schedule = resolveNewtonSchulz({ coefficients, eps, precision, ...(options.nsSteps === undefined || auto ? {} : { steps: options.nsSteps }) });
  const learningRate = checkLearningRate(options.learningRate ?? MUON_DEFAULTS.learningRate, 'learningRate', owner);
  const settings: MuonSettings = {
    learningRate,
    momentum: checkMomentum(options.momentum ?? MUON_DEFAULTS.momentum, 'momentum', owner),
    nesterov: options.nesterov ?? MUON_DEFAULTS.nesterov,
    nsSteps: auto ? 'auto' : schedule.steps,
    nsAutoEvery,
    nsAutoQuantile,
    nsAutoMaxSteps,
    coefficients,
    ...resolveWeightDecayOptions(options, MUON_DEFAULTS.weightDecay, maxValue(learningRate), owner),
    lrAdjust: options.lrAdjust ?? MUON_DEFAULTS.lrAdjust,
    eps,
    precision,
    blockColumns: options.blockColumns ?? MUON_DEFAULTS.blockColumns,
    convOrthogonalization: options.convOrthogonalization ?? MUON_DEFAULTS.convOrthogonalization,
    matrixViews: options.matrixViews ?? MUON_DEFAULTS.matrixViews,
  };
  checkBlockColumns(settings.blockColumns, owner);
  checkMatrixViews(settings.matrixViews, owner);
  if (options.orthogonalize !== undefined && typeof options.orthogonalize !== 'function') {
    throw new Error(`${owner}: orthogonalize must be a function (matrices, schedule) => matrices, got ${typeof options.orthogonalize}`);
  }
  if (options.fused !== undefined && typeof options.fused !== 'boolean') {
    throw new Error(`${owner}: fused must be a boolean, got ${String(options.fused)}`);
  }
  if (typeof settings.nesterov !== 'boolean') {
    throw new Error(`${owner}: nesterov must be a boolean, got ${String(settings.nesterov)}`);
  }
  if (!CONV_ORTHOGONALIZATIONS.includes(settings.convOrthogonalization)) {
    throw new Error(`${owner}: unknown convOrthogonalization '${String(settings.convOrthogonalization)}'; expected one of ${CONV_ORTHOGONALIZATIONS.join(', ')}`);
  }
  if (!LR_ADJUST_MODES.includes(settings.lrAdjust)) {
    throw new Error(`${owner}: unknown lrAdjust '${String(settings.lrAdjust)}'; expected one of ${LR_ADJUST_MODES.join(', ')}`);
  }
  return Object.freeze(Object.defineProperty(settings, 'schedule', { value: schedule, enumerable: false }) as ResolvedMuonOptions);
}

/**
 * The serializable part of resolved options, for `getConfig`, typed as a config: the settings
 * without the derived schedule (`fromConfig` resolves it again from them).
 */
export function muonConfig(options: ResolvedMuonOptions): tf.serialization.ConfigDict {
  const { schedule, ...settings } = options;
  return {
    ...settings,
    coefficients: settings.coefficients as tf.serialization.ConfigDictValue,
    momentum: settings.momentum as tf.serialization.ConfigDictValue,
    learningRate: settings.learningRate as tf.serialization.ConfigDictValue,
    blockColumns: settings.blockColumns as unknown as tf.serialization.ConfigDictValue,
    matrixViews: settings.matrixViews as unknown as tf.serialization.ConfigDictValue,
  };
}

/**
 * Muon as a composition: orthogonalized momentum, scaled by the matrix shape, plus decoupled weight
 * decay, times −lr:  p ← p − lr·(s·O + wd·p) = p·(1 − lr·wd) − lr·s·O (corrected and cautious
 * decay as in {@link WeightDecayOptions}; the cautious mask compares p with s·O).
 * Each variable is orthogonalized as the matrices of its view (`matrixViewOf`: a rule of
 * `matrixViews`, a convolution kernel as `convOrthogonalization` says, a matrix as itself), and
 * column blocks (`blockColumns`) are cut from each of those matrices.
 * @param isConvKernel which variables are convolution kernels by their layer class: none without a model
 * @param afterOrthogonalization stages applied to O before the shape scale (NorMuon's
 *   {@link scaleByNeuronRms}); none for Muon
 */
export function muonTransformation(
  options: ResolvedMuonOptions,
  learningRate: Live<number>,
  orthogonalize: Orthogonalizer,
  isConvKernel: IsConvKernel = NO_CONV_KERNELS,
  ...afterOrthogonalization: readonly GradientTransformation[]
): GradientTransformation {
  const perMatrix = chain(
    scaleByMuon({
      momentum: options.momentum,
      nesterov: options.nesterov,
      newtonSchulz: options.schedule,
      orthogonalize,
      ...(options.nsSteps === 'auto' && { layerAware: { every: options.nsAutoEvery, percent: NS_AUTO_PERCENTS[options.nsAutoQuantile], maxSteps: options.nsAutoMaxSteps } }),
    }),
    ...afterOrthogonalization,
    scaleByShape(options.lrAdjust),
  );
  // Column blocks inside each matrix of the view: a conv kernel's tap [in, out] or an expert's
  // [in, out] splits into [in, width] blocks (blockColumnsOf matches the variable's name in the
  // matrix's `name#i`).
  const blocked = options.blockColumns.length === 0 ? perMatrix : splitColumns(blockColumnsOf(options.blockColumns, 'muon'), perMatrix);
  return chain(
    splitMatrices(matrixViewOf(options.matrixViews, options.convOrthogonalization, isConvKernel, 'muon'), blocked),
    weightDecayTransformation(options, learningRate),
    scaleByLearningRate(learningRate),
  );
}

/**
 * Muon as a kind of hybrid group (`{ optimizer: 'muon', options }`). It refuses parameters of
 * rank < 2, reports each kernel's `[fanIn, fanOut]` matrix view and shape scale, and has a fused
 * step ({@link fusedMuonStep}).
 */
export const MUON_KIND: OptimizerKind<MuonOptions> = matrixOptimizerKind('muon', 'Muon', resolveMuonOptions, muonTransformation, fusedMuonStep);
