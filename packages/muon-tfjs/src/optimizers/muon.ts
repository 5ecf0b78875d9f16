import type * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_SCHEDULE_TARGET } from '../math/chooseSchedule.js';
import { MAX_LAYER_AWARE_STEPS } from '../math/layerAwareSchedule.js';
import { type CoefficientSpec, DEFAULT_COEFFICIENTS, DEFAULT_NS_STEPS } from '../math/coefficients.js';
import { DEFAULT_NS_EPS, type NewtonSchulzPrecision, type NewtonSchulzSchedule, resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { HOST_BFLOAT16_CODECS } from '../math/bfloat16Storage.js';
import { CONV_ORTHOGONALIZATIONS, type ConvOrthogonalization } from '../math/convTaps.js';
import { type PiecewiseSchedule, type Scheduled, checkScheduled, maxValue, scheduleValue } from '../math/schedule.js';
import { LR_ADJUST_MODES, type LrAdjust } from '../math/shapeScale.js';
import { chain } from '../transforms/chain.js';
import type { GradientTransformation, Live, StepContext } from '../transforms/gradientTransformation.js';
import { scaleByLearningRate } from '../transforms/scaleByLearningRate.js';
import { MUON_BFLOAT16_MOMENTUM_SLOT, MUON_MOMENTUM_SLOT, scaleByMuon } from '../transforms/scaleByMuon.js';
import { storeInBfloat16 } from '../transforms/storeInBfloat16.js';
import { scaleByShape } from '../transforms/scaleByShape.js';
import { splitColumns } from '../transforms/splitColumns.js';
import { splitMatrices } from '../transforms/splitMatrices.js';
import { type BlockColumnsRule, blockColumnsOf, checkBlockColumns } from './blockColumns.js';
import { fusedMuonStep } from './fusedMuon.js';
import { type IsConvKernel, type MatrixViewRule, NO_CONV_KERNELS, checkMatrixViews, matrixViewOf } from './matrixViews.js';
import { type ExecutionOptions, type MatrixTransformationContext, matrixOptimizerKind, resolveExecution, withKernel } from './optimizerKind.js';
import { type OptionNameSet, checkLearningRate, checkMomentum, checkPositive, givenOptions, optionNames, rejectUnknownOptions } from './options.js';
import { WEIGHT_DECAY_OPTION_SET, type WeightDecayOptions, resolveWeightDecayOptions, weightDecayTransformation } from './weightDecay.js';

/**
 * Muon's hyper-parameters that hold however Newton–Schulz runs; every field has a default in
 * {@link MUON_DEFAULTS}.
 */
export interface MuonHyperParameters extends WeightDecayOptions {
  /** Step size lr in p ← p·(1 − lr·wd) − lr·s·O: a number or a schedule. Default 0.02 (KellerJordan/Muon). */
  readonly learningRate?: Scheduled;
  /** β of the momentum EMA, in [0, 1): a number or a schedule ({@link momentumWarmup}). Default 0.95. */
  readonly momentum?: Scheduled;
  /** Orthogonalize the Nesterov look-ahead (1−β)g + βm rather than m. Default true. */
  readonly nesterov?: boolean;
  /** Decoupled weight decay wd (applied as p·(1 − lr·wd), with the unscaled lr). Default 0. */
  readonly weightDecay?: number;
  /** Shape scale s of the update; see {@link LrAdjust}. Default `'original'`: √max(1, fanOut/fanIn). */
  readonly lrAdjust?: LrAdjust;
  /** eps of the Frobenius normalization before Newton–Schulz, > 0. Default 1e-7. */
  readonly eps?: number;
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
   * How the momentum is stored between steps ({@link MomentumDtype}): `'bfloat16'` keeps it rounded
   * to bfloat16 (to nearest even), packed two values per int32 in the slot
   * `momentumBfloat16`, half the bytes of the float32 slot `momentum` (optax's `mu_dtype`); each
   * step computes in float32 and rounds what it stores. Saved in the config: it is the state's
   * format. Runs on cpu and wasm (composed and fused); refused on webgl and webgpu at the first step.
   * Default `'float32'`.
   */
  readonly momentumDtype?: MomentumDtype;
}

/** The storage formats of Muon's momentum (`momentumDtype`). */
export const MOMENTUM_DTYPES = ['float32', 'bfloat16'] as const;

/** How Muon's momentum is stored: float32, or bfloat16 packed two per int32. */
export type MomentumDtype = (typeof MOMENTUM_DTYPES)[number];

/** Newton–Schulz with one schedule for every matrix: the default. */
export interface FixedNewtonSchulzOptions {
  /**
   * Newton–Schulz iterations. Default 5 for a single triple, the schedule's length for a list. Or a
   * count that changes over training, as a piecewise schedule read at the step's index like the
   * learning rate (`piecewise({ boundaries: [500], values: [3, 5] })`: 3 for the first 500 steps,
   * then 5); each count must suit `coefficients` as a fixed one does.
   */
  readonly nsSteps?: number | PiecewiseSchedule;
  /** Coefficient schedule: a preset name, an (a, b, c) triple, or one triple per step. Default `'jordan'`. */
  readonly coefficients?: CoefficientSpec;
  /**
   * The arithmetic of the Newton–Schulz products ({@link NewtonSchulzPrecision}): `'bfloat16'`
   * rounds each product's operands to bfloat16 and accumulates in float32, as GPU Muon does; the
   * momentum, the normalization and the update stay float32. It runs in the native kernel built
   * with oneDNN on a CPU with AVX512-BF16 or AMX; `'float16'` rounds them to IEEE binary16 instead,
   * in the WebGPU kernel (webgpu backend). Elsewhere float32 runs, said once on the console.
   * Default `'float32'` (README, "Precision": bfloat16 measured against float32 training).
   */
  readonly precision?: NewtonSchulzPrecision;
}

/**
 * Layer-aware Newton–Schulz: each matrix gets the cheapest schedule whose composed polynomial lifts
 * its measured σ quantile (`quantile` of its Newton–Schulz input, Frobenius-normalized) into
 * [0.68, 1.32] (`chooseSchedule`; the quantile snapped down to a quarter-decade grid,
 * `layerAwareSchedule`), re-measured every `every` steps. The chooser picks the coefficients, and
 * its schedules are float32: `coefficients` and any other `precision` do not combine with it. On
 * cpu and wasm a measurement reads its input at once and the step runs the schedule it calls for.
 * On webgl and webgpu nothing is read synchronously: the input is read with `data()`, and the new
 * schedule takes effect at the matrix's first step after the values arrive (usually the next);
 * until a matrix's first measurement arrives (or a restored lower bound has been read) it runs the
 * longest schedule allowed, `maxSteps`'s.
 */
export interface LayerAwareNewtonSchulzOptions {
  /** `'auto'`: layer-aware with every default ({@link NS_AUTO_DEFAULTS}); or its settings. */
  readonly nsSteps: 'auto' | LayerAwareSteps;
  readonly coefficients?: never;
  readonly precision?: 'float32';
}

/** The settings of layer-aware Newton–Schulz (`nsSteps: { kind: 'auto', ... }`); defaults {@link NS_AUTO_DEFAULTS}. */
export interface LayerAwareSteps {
  readonly kind: 'auto';
  /** Steps between re-measurements of each matrix's quantile (also measured at steps 1, 2, 4, … before the first multiple). Default 100. */
  readonly every?: number;
  /** The quantile to lift, of `SpectrumQuantiles`. Default `'q90'` ({@link DEFAULT_SCHEDULE_TARGET}). */
  readonly quantile?: NsAutoQuantile;
  /**
   * The most iterations any matrix runs, 2–8; a layer whose quantile would need more gets the best
   * schedule of this length (`lowerBoundFloor`). Default 5: never more Newton–Schulz work than the
   * fixed default, while lifting [5.6e-4, 1] instead of jordan's [1e-2, 1].
   */
  readonly maxSteps?: number;
}

/** Layer-aware settings with every default filled in: the resolved `nsSteps` under `'auto'`. */
export type ResolvedLayerAwareSteps = Required<LayerAwareSteps>;

/** How Newton–Schulz runs: one schedule for all matrices, or one per matrix (layer-aware). */
export type NewtonSchulzChoice = FixedNewtonSchulzOptions | LayerAwareNewtonSchulzOptions;

/** What Muon computes: its hyper-parameters and how Newton–Schulz runs (NorMuon extends exactly these). */
export type MuonCompositionOptions = MuonHyperParameters & NewtonSchulzChoice;

/**
 * Options of the Muon optimizer: what it computes, and how its step executes (`execution`:
 * the orthogonalization kernel, the fused step; never saved).
 */
export type MuonOptions = MuonCompositionOptions & { readonly execution?: ExecutionOptions };

/** The quantiles `nsSteps.quantile` may name, as `spectrumOf` reports them (q90: 90% of the directions have σ ≥ it). */
export type NsAutoQuantile = 'q10' | 'q25' | 'q50' | 'q75' | 'q90';

const NS_AUTO_PERCENTS: Readonly<Record<NsAutoQuantile, number>> = { q10: 10, q25: 25, q50: 50, q75: 75, q90: 90 };

/** The defaults of layer-aware Newton–Schulz ({@link LayerAwareSteps}). */
export const NS_AUTO_DEFAULTS = { kind: 'auto', every: 100, quantile: DEFAULT_SCHEDULE_TARGET.quantile, maxSteps: DEFAULT_NS_STEPS } as const satisfies ResolvedLayerAwareSteps;

/** Resolved `nsSteps`: a count, a count over training, or layer-aware settings. */
export type ResolvedNsSteps = number | PiecewiseSchedule | ResolvedLayerAwareSteps;

/** Whether resolved `nsSteps` are layer-aware. */
export function isLayerAware(nsSteps: ResolvedNsSteps): nsSteps is ResolvedLayerAwareSteps {
  return typeof nsSteps === 'object' && nsSteps.kind === 'auto';
}

/** Muon's serializable options with every default filled in. */
type MuonSettings = Required<MuonHyperParameters> & {
  readonly nsSteps: ResolvedNsSteps;
  /** Under layer-aware `nsSteps`, the default (unused: the chooser picks per layer). */
  readonly coefficients: CoefficientSpec;
  readonly precision: NewtonSchulzPrecision;
};

/**
 * Muon's options with every default filled in, the Newton–Schulz schedule resolved from them once,
 * at construction, and the execution settings as given.
 */
export type ResolvedMuonOptions = MuonSettings & {
  /**
   * The frozen schedule every step hands to the kernel, derived from `coefficients`, `nsSteps`,
   * `eps` and `precision` (under layer-aware `nsSteps`, that of `coefficients` at its default
   * steps, of which only eps is used: each matrix runs its own `layerAwareSchedule`). Not
   * enumerable, as `execution`: a config spread from these options (`getConfig` of Muon or of a
   * hybrid group) or their JSON holds the user's settings only, and `fromConfig` resolves it again.
   */
  readonly schedule: NewtonSchulzSchedule;
  /**
   * The schedule of a step: {@link schedule} unless `nsSteps` is a schedule over training, then the
   * one of its count at the step's index (each resolved once, at construction). Not enumerable.
   */
  readonly newtonSchulzAt: (context: Pick<StepContext, 'step'>) => NewtonSchulzSchedule;
  readonly execution: ExecutionOptions;
};

/** What resolution derives from Muon's settings (not enumerable, never saved). */
export type MuonDerived = Pick<ResolvedMuonOptions, 'schedule' | 'newtonSchulzAt' | 'execution'>;

/** `settings` frozen with Muon's derived properties, not enumerable (NorMuon's resolver too). */
export function withMuonDerived<Settings extends object>(settings: Settings, derived: MuonDerived): Settings & MuonDerived {
  const hidden = (value: unknown): PropertyDescriptor => ({ value, enumerable: false });
  return Object.freeze(
    Object.defineProperties(settings, { schedule: hidden(derived.schedule), newtonSchulzAt: hidden(derived.newtonSchulzAt), execution: hidden(derived.execution) }) as Settings & MuonDerived,
  );
}

/** Muon's defaults, as in KellerJordan/Muon and torch.optim.Muon (with weight decay 0, as KJ). */
export const MUON_DEFAULTS = {
  learningRate: 0.02,
  momentum: 0.95,
  nesterov: true,
  nsSteps: DEFAULT_NS_STEPS,
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
  momentumDtype: 'float32',
} as const satisfies Omit<MuonSettings, 'maxLearningRate'>;

/**
 * The names of what Muon computes: NorMuon, which extends the composition, takes these too, with
 * its own execution settings.
 */
export const MUON_COMPOSITION_OPTION_SET = {
  learningRate: true,
  momentum: true,
  nesterov: true,
  nsSteps: true,
  coefficients: true,
  ...WEIGHT_DECAY_OPTION_SET,
  lrAdjust: true,
  eps: true,
  precision: true,
  blockColumns: true,
  convOrthogonalization: true,
  matrixViews: true,
  momentumDtype: true,
} as const satisfies OptionNameSet<MuonCompositionOptions>;

/** The names of Muon's options: the keys of {@link MuonOptions}, checked by the compiler. */
export const MUON_OPTION_NAMES = optionNames<MuonOptions>({ ...MUON_COMPOSITION_OPTION_SET, execution: true });

/** Options of an earlier form, refused with where they went (their saved form still loads: {@link muonOptionsFromConfig}). */
export const MUON_MOVED_OPTIONS: Readonly<Record<string, string>> = Object.freeze({
  nsAutoEvery: "nsSteps: { kind: 'auto', every }",
  nsAutoQuantile: "nsSteps: { kind: 'auto', quantile }",
  nsAutoMaxSteps: "nsSteps: { kind: 'auto', maxSteps }",
  orthogonalize: 'execution: { orthogonalize }',
  fused: 'execution: { fused }',
});

const LAYER_AWARE_KEYS: readonly (keyof LayerAwareSteps)[] = ['kind', 'every', 'quantile', 'maxSteps'];

/**
 * Checks `nsSteps` as a JavaScript caller may give it: a count, a piecewise schedule of counts,
 * `'auto'`, or layer-aware settings (undefined: the default count).
 */
function resolveNsSteps(nsSteps: unknown, owner: string): ResolvedNsSteps | undefined {
  if (nsSteps === undefined || typeof nsSteps === 'number') return nsSteps;
  if (nsSteps === 'auto') return NS_AUTO_DEFAULTS;
  const kind = nsSteps !== null && typeof nsSteps === 'object' ? (nsSteps as { kind?: unknown }).kind : undefined;
  if (kind === 'piecewise') return checkScheduled(nsSteps, 'nsSteps', owner, (x) => Number.isInteger(x) && x >= 1, 'an integer ≥ 1') as PiecewiseSchedule;
  if (kind !== 'auto') {
    throw new Error(`${owner}: nsSteps must be a positive integer, a piecewise schedule, 'auto' or { kind: 'auto', every?, quantile?, maxSteps? }, got ${JSON.stringify(nsSteps)}`);
  }
  for (const key of Object.keys(nsSteps as LayerAwareSteps)) {
    if (!(LAYER_AWARE_KEYS as readonly string[]).includes(key)) throw new Error(`${owner}: unknown nsSteps setting '${key}'; layer-aware nsSteps take ${LAYER_AWARE_KEYS.join(', ')}`);
  }
  const { every, quantile, maxSteps } = { ...NS_AUTO_DEFAULTS, ...givenOptions(nsSteps as LayerAwareSteps) };
  if (!Number.isInteger(every) || every < 1) {
    throw new Error(`${owner}: nsSteps.every must be an integer ≥ 1 (steps between re-measurements), got ${String(every)}`);
  }
  if (!Object.hasOwn(NS_AUTO_PERCENTS, quantile)) {
    throw new Error(`${owner}: nsSteps.quantile must be one of ${Object.keys(NS_AUTO_PERCENTS).join(', ')}, got ${JSON.stringify(quantile)}`);
  }
  if (!Number.isInteger(maxSteps) || maxSteps < 2 || maxSteps > MAX_LAYER_AWARE_STEPS) {
    throw new Error(`${owner}: nsSteps.maxSteps must be an integer in [2, ${MAX_LAYER_AWARE_STEPS}], got ${String(maxSteps)}`);
  }
  return Object.freeze({ kind: 'auto', every, quantile, maxSteps });
}

/**
 * Fills in defaults and checks every option, throwing with the option's name and value: the one
 * run-time check of what the types say (for JavaScript callers and saved configs).
 */
export function resolveMuonOptions(options: MuonOptions = {}, owner = 'muon'): ResolvedMuonOptions {
  rejectUnknownOptions(options, MUON_OPTION_NAMES, owner, MUON_MOVED_OPTIONS);
  const execution = resolveExecution(options.execution, ['orthogonalize', 'fused'], owner);
  const coefficients = options.coefficients ?? MUON_DEFAULTS.coefficients;
  const eps = options.eps ?? MUON_DEFAULTS.eps;
  // eps > 0: with eps = 0 a zero gradient is normalized as 0/0 and writes NaN.
  checkPositive(eps, 'eps', owner);
  const nsSteps = resolveNsSteps(options.nsSteps, owner);
  const layerAware = nsSteps !== undefined && isLayerAware(nsSteps);
  // A saved config of an earlier version holds the default coefficients and float32 beside 'auto': accepted.
  if (layerAware && options.coefficients !== undefined && options.coefficients !== DEFAULT_COEFFICIENTS) {
    throw new Error(`${owner}: layer-aware nsSteps choose the coefficients per layer; leave coefficients out (got ${JSON.stringify(options.coefficients)})`);
  }
  // The one resolution of the schedule: it validates coefficients and nsSteps together, fixes the
  // step count, and is what every step runs (scaleByMuon hands it to the kernel unchanged).
  const precision = options.precision ?? MUON_DEFAULTS.precision;
  if (layerAware && precision !== 'float32') {
    // The per-layer schedules are float32 (layerAwareSchedule); bfloat16 or float16 would need them re-derived.
    throw new Error(`${owner}: layer-aware nsSteps run float32 schedules; leave precision out or 'float32' with them (got ${JSON.stringify(precision)})`);
  }
  const scheduled = typeof nsSteps === 'object' && nsSteps.kind === 'piecewise' ? nsSteps : undefined;
  // One schedule per count a step may run, resolved (and checked against the coefficients) now.
  const counts: (number | undefined)[] = scheduled !== undefined ? [...new Set(scheduled.values)] : [nsSteps === undefined || layerAware ? undefined : (nsSteps as number)];
  const schedules = new Map(counts.map((steps) => [steps, resolveNewtonSchulz({ coefficients, eps, precision, ...(steps === undefined ? {} : { steps }) })]));
  const schedule = schedules.get(scheduled === undefined ? counts[0] : scheduleValue(scheduled, 0)) as NewtonSchulzSchedule;
  const newtonSchulzAt = scheduled === undefined ? () => schedule : (context: Pick<StepContext, 'step'>) => schedules.get(scheduleValue(scheduled, context.step - 1)) as NewtonSchulzSchedule;
  const learningRate = checkLearningRate(options.learningRate ?? MUON_DEFAULTS.learningRate, 'learningRate', owner);
  const settings: MuonSettings = {
    learningRate,
    momentum: checkMomentum(options.momentum ?? MUON_DEFAULTS.momentum, 'momentum', owner),
    nesterov: options.nesterov ?? MUON_DEFAULTS.nesterov,
    nsSteps: layerAware || scheduled !== undefined ? (nsSteps as ResolvedNsSteps) : schedule.steps,
    coefficients,
    ...resolveWeightDecayOptions(options, MUON_DEFAULTS.weightDecay, maxValue(learningRate), owner),
    lrAdjust: options.lrAdjust ?? MUON_DEFAULTS.lrAdjust,
    eps,
    precision,
    blockColumns: options.blockColumns ?? MUON_DEFAULTS.blockColumns,
    convOrthogonalization: options.convOrthogonalization ?? MUON_DEFAULTS.convOrthogonalization,
    matrixViews: options.matrixViews ?? MUON_DEFAULTS.matrixViews,
    // A config saved before this option existed has none: its state is float32.
    momentumDtype: options.momentumDtype ?? MUON_DEFAULTS.momentumDtype,
  };
  checkBlockColumns(settings.blockColumns, owner);
  checkMatrixViews(settings.matrixViews, owner);
  if (!MOMENTUM_DTYPES.includes(settings.momentumDtype)) {
    throw new Error(`${owner}: unknown momentumDtype ${JSON.stringify(settings.momentumDtype)}; expected one of ${MOMENTUM_DTYPES.join(', ')}`);
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
  return withMuonDerived(settings, { schedule, newtonSchulzAt, execution });
}

/**
 * The saved form of resolved options, for `getConfig`, typed as a config: the settings without the
 * derived schedule and the execution settings (`fromConfig` resolves it again from them); under
 * layer-aware `nsSteps`, without the coefficients and precision it does not combine with.
 */
export function muonConfig(options: ResolvedMuonOptions): tf.serialization.ConfigDict {
  const { coefficients, precision, schedule: _schedule, newtonSchulzAt: _newtonSchulzAt, execution: _execution, ...settings } = options;
  return {
    ...settings,
    ...(!isLayerAware(options.nsSteps) && { coefficients: coefficients as tf.serialization.ConfigDictValue, precision }),
    nsSteps: settings.nsSteps as tf.serialization.ConfigDictValue,
    momentum: settings.momentum as tf.serialization.ConfigDictValue,
    learningRate: settings.learningRate as tf.serialization.ConfigDictValue,
    blockColumns: settings.blockColumns as unknown as tf.serialization.ConfigDictValue,
    matrixViews: settings.matrixViews as unknown as tf.serialization.ConfigDictValue,
  };
}

/**
 * The options a saved Muon config stands for, of this form or of the flat form before
 * `nsSteps` carried its layer-aware settings (up to d04c0cf: `nsSteps: 'auto'` beside
 * `nsAutoEvery`, `nsAutoQuantile`, `nsAutoMaxSteps`, which every config saved, meaningful or not).
 */
export function muonOptionsFromConfig<Options extends MuonCompositionOptions>(config: tf.serialization.ConfigDict): Options {
  const { nsAutoEvery, nsAutoQuantile, nsAutoMaxSteps, ...options } = config;
  if (options['nsSteps'] !== 'auto') return options as unknown as Options;
  const steps = { kind: 'auto', ...(nsAutoEvery !== undefined && { every: nsAutoEvery }), ...(nsAutoQuantile !== undefined && { quantile: nsAutoQuantile }), ...(nsAutoMaxSteps !== undefined && { maxSteps: nsAutoMaxSteps }) };
  return { ...options, nsSteps: steps } as unknown as Options;
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
  learningRate: Live<Scheduled>,
  orthogonalize: Orthogonalizer,
  isConvKernel: IsConvKernel = NO_CONV_KERNELS,
  ...afterOrthogonalization: readonly GradientTransformation[]
): GradientTransformation {
  return muonTransformationIn(options, learningRate, { orthogonalize, isConvKernel }, afterOrthogonalization);
}

/**
 * {@link muonTransformation} in a kind's context, the bfloat16 codecs among it (under `momentumDtype:
 * 'bfloat16'`; WGSL on webgpu, from the adapter's services): what Muon's and NorMuon's kinds build.
 */
export function muonTransformationIn(
  options: ResolvedMuonOptions,
  learningRate: Live<Scheduled>,
  context: MatrixTransformationContext,
  afterOrthogonalization: readonly GradientTransformation[] = [],
): GradientTransformation {
  const { orthogonalize, isConvKernel, bfloat16Codecs = HOST_BFLOAT16_CODECS } = context;
  const perMatrix = chain(
    scaleByMuon({
      momentum: options.momentum,
      nesterov: options.nesterov,
      newtonSchulz: options.newtonSchulzAt,
      orthogonalize,
      ...(isLayerAware(options.nsSteps) && { layerAware: { every: options.nsSteps.every, percent: NS_AUTO_PERCENTS[options.nsSteps.quantile], maxSteps: options.nsSteps.maxSteps } }),
    }),
    ...afterOrthogonalization,
    scaleByShape(options.lrAdjust),
  );
  // Column blocks inside each matrix of the view: a conv kernel's tap [in, out] or an expert's
  // [in, out] splits into [in, width] blocks (blockColumnsOf matches the variable's name in the
  // matrix's `name#i`).
  const blocked = options.blockColumns.length === 0 ? perMatrix : splitColumns(blockColumnsOf(options.blockColumns, 'muon'), perMatrix);
  const composed = chain(
    splitMatrices(matrixViewOf(options.matrixViews, options.convOrthogonalization, isConvKernel, 'muon'), blocked),
    weightDecayTransformation(options, learningRate),
    scaleByLearningRate(learningRate),
  );
  // Outside every split: the stored slot is packed whole, and each split sees the float32 momentum
  // in the parameter's shape, as without the option.
  return options.momentumDtype === 'bfloat16' ? storeInBfloat16(MUON_MOMENTUM_SLOT, MUON_BFLOAT16_MOMENTUM_SLOT, composed, "muon: momentumDtype 'bfloat16'", bfloat16Codecs) : composed;
}

/**
 * Muon, defined once: as a hybrid group (`{ optimizer: 'muon', options }`) and as `MuonOptimizer`.
 * It refuses parameters of rank < 2, reports each kernel's `[fanIn, fanOut]` matrix view and shape
 * scale, and has a fused step ({@link fusedMuonStep}).
 */
export const MUON_KIND = matrixOptimizerKind<MuonOptions, ResolvedMuonOptions>({
  name: 'muon',
  title: 'Muon',
  className: 'MuonOptimizer',
  optionNames: MUON_OPTION_NAMES,
  resolve: resolveMuonOptions,
  config: muonConfig,
  optionsFromConfig: muonOptionsFromConfig,
  transformation: (options, learningRate, context) => muonTransformationIn(options, learningRate, context),
  fuse: (options, learningRate, services) => withKernel(services.muonStepKernel, (kernel) => fusedMuonStep(options, learningRate, kernel)),
});
