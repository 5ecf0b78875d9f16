import { type CoefficientSpec, DEFAULT_NS_STEPS } from '../math/coefficients.js';
import { CONV_ORTHOGONALIZATIONS, type ConvOrthogonalization } from '../math/convTaps.js';
import { type NewtonSchulzPrecision, type NewtonSchulzSchedule, resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { type Scheduled, maxValue } from '../math/schedule.js';
import { LR_ADJUST_MODES, type LrAdjust } from '../math/shapeScale.js';
import { chain } from '../transforms/chain.js';
import type { GradientTransformation, Live } from '../transforms/gradientTransformation.js';
import { scaleByDion2 } from '../transforms/scaleByDion2.js';
import { scaleByLearningRate } from '../transforms/scaleByLearningRate.js';
import { scaleByShape } from '../transforms/scaleByShape.js';
import { splitMatrices } from '../transforms/splitMatrices.js';
import { type IsConvKernel, type MatrixViewRule, NO_CONV_KERNELS, checkMatrixViews, matrixViewOf } from './matrixViews.js';
import { MUON_MOVED_OPTIONS } from './muon.js';
import { fusedDion2Step } from './fusedDion2.js';
import { type ExecutionOptions, matrixOptimizerKind, resolveExecution, withKernel } from './optimizerKind.js';
import { checkLearningRate, checkPositive, checkUnitInterval, optionNames, rejectUnknownOptions } from './options.js';
import { WEIGHT_DECAY_OPTION_SET, type WeightDecayOptions, resolveWeightDecayOptions, weightDecayTransformation } from './weightDecay.js';

/** Options of Dion2; every field has a default in {@link DION2_DEFAULTS}. */
export interface Dion2Options extends WeightDecayOptions {
  /** Step size lr in p ← p·(1 − lr·wd) − lr·s·O: a number or a schedule. Default 0.01 (dion2.py). */
  readonly learningRate?: Scheduled;
  /** α in (0, 1]: the fraction of the shorter side's slices orthogonalized per step; 1 is Muon without Nesterov. Default 0.25. */
  readonly fraction?: number;
  /** μ in [0, 1): what the selected slices of the momentum are multiplied by after each step (dion2.py `ef_decay`). Default 0.95. */
  readonly errorFeedbackDecay?: number;
  /** Newton–Schulz coefficients, as Muon's. Default `'polarExpress5'` (dion's `use_polar_express=True`). */
  readonly coefficients?: CoefficientSpec;
  /** Newton–Schulz iterations. Default 5. */
  readonly nsSteps?: number;
  /** eps of the Frobenius normalization before Newton–Schulz, > 0. Default 1e-8 (dion2.py `epsilon`). */
  readonly eps?: number;
  /** The arithmetic of the Newton–Schulz products, as Muon's `precision`. Default `'float32'`. */
  readonly precision?: NewtonSchulzPrecision;
  /** Shape scale s of the update, as Muon's. Default `'spectral'`: √(fanOut/fanIn) (dion2.py `adjust_lr="spectral_norm"`). */
  readonly lrAdjust?: LrAdjust;
  /** How a conv kernel is seen as matrices, as Muon's (dion2.py takes 2-D weights only). Default `'flatten'`. */
  readonly convOrthogonalization?: ConvOrthogonalization;
  /**
   * How weights of rank ≥ 3 other than convolution kernels split into matrices, as Muon's: each
   * matrix of a rule's batch (an expert, a head) selects and orthogonalizes its own slices. Default `[]`.
   */
  readonly matrixViews?: readonly MatrixViewRule[];
  /**
   * How the step executes, never saved, as Muon's: `orthogonalize`, the kernel that orthogonalizes
   * the selected submatrices (default, supplied by the adapter: `fastestOrthogonalizer()`), and
   * `fused` (default true): run the whole step in one call of the native addon where it can (Node
   * with the addon built, cpu or wasm backend, the default `orthogonalize`, no `matrixViews` axes
   * rule, `convOrthogonalization: 'flatten'`), the same values as the composed step
   * (`fusedDion2Step.test.ts`).
   */
  readonly execution?: ExecutionOptions;
}

/** Dion2's serializable options with every default filled in. */
type Dion2Settings = Required<Omit<Dion2Options, 'execution'>>;

/**
 * Dion2's options with every default filled in, its schedule resolved once, at construction, and
 * the execution settings as given. Both derived properties are not enumerable: the saved config
 * (the kind's default, a spread of these options) holds the user's settings only, and `fromConfig`
 * resolves the schedule again.
 */
export type ResolvedDion2Options = Dion2Settings & {
  /** The frozen Newton–Schulz schedule every step hands to the kernel. */
  readonly schedule: NewtonSchulzSchedule;
  readonly execution: ExecutionOptions;
};

/**
 * Dion2's defaults, those of microsoft/dion `dion/dion2.py`'s `Dion2.__init__` (lr 0.01,
 * fraction 0.25, ef_decay 0.95, weight_decay 0.01, epsilon 1e-8, adjust_lr "spectral_norm",
 * use_polar_express True). Two differ from dion by necessity: dion runs Polar Express in bfloat16,
 * here the products are float32 unless `precision` says otherwise; and the repository's own
 * 160M config (`configs/dion2_160m.yaml`) trains at lr 0.02, fraction 0.5, which the class
 * defaults do not follow.
 */
export const DION2_DEFAULTS = {
  learningRate: 0.01,
  fraction: 0.25,
  errorFeedbackDecay: 0.95,
  coefficients: 'polarExpress5',
  nsSteps: DEFAULT_NS_STEPS,
  eps: 1e-8,
  precision: 'float32',
  weightDecay: 0.01,
  correctedWeightDecay: false,
  cautiousWeightDecay: false,
  lrAdjust: 'spectral',
  convOrthogonalization: 'flatten',
  matrixViews: [],
} as const satisfies Omit<Dion2Settings, 'maxLearningRate'>;

/** The names of Dion2's options: the keys of {@link Dion2Options}, checked by the compiler. */
export const DION2_OPTION_NAMES = optionNames<Dion2Options>({
  learningRate: true,
  fraction: true,
  errorFeedbackDecay: true,
  coefficients: true,
  nsSteps: true,
  eps: true,
  precision: true,
  ...WEIGHT_DECAY_OPTION_SET,
  lrAdjust: true,
  convOrthogonalization: true,
  matrixViews: true,
  execution: true,
});

/** `orthogonalize` is an execution setting, as Muon's and NorMuon's: refused flat, naming the form to write. */
const DION2_MOVED_OPTIONS = Object.freeze({ orthogonalize: MUON_MOVED_OPTIONS['orthogonalize'] as string });

/** Fills in defaults and checks every option, throwing with the option's name and value. */
export function resolveDion2Options(options: Dion2Options = {}, owner = 'dion2'): ResolvedDion2Options {
  rejectUnknownOptions(options, DION2_OPTION_NAMES, owner, DION2_MOVED_OPTIONS);
  const execution = resolveExecution(options.execution, ['orthogonalize', 'fused'], owner);
  const fraction = options.fraction ?? DION2_DEFAULTS.fraction;
  // α = 0 would orthogonalize nothing and only ever accumulate: a silent zero update (dion2.py refuses it too).
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction <= 1)) {
    throw new Error(`${owner}: fraction must be in (0, 1] (the share of slices orthogonalized per step), got ${String(fraction)}`);
  }
  const errorFeedbackDecay = options.errorFeedbackDecay ?? DION2_DEFAULTS.errorFeedbackDecay;
  // μ = 1 would never decay a selected slice: the momentum would grow without bound.
  checkUnitInterval(errorFeedbackDecay, 'errorFeedbackDecay', owner);
  const eps = options.eps ?? DION2_DEFAULTS.eps;
  checkPositive(eps, 'eps', owner);
  const coefficients = options.coefficients ?? DION2_DEFAULTS.coefficients;
  const precision = options.precision ?? DION2_DEFAULTS.precision;
  if (typeof options.nsSteps === 'string') {
    throw new Error(`${owner}: nsSteps must be a positive integer, got ${JSON.stringify(options.nsSteps)} (layer-aware 'auto' is Muon's)`);
  }
  const schedule = resolveNewtonSchulz({ coefficients, eps, precision, ...(options.nsSteps !== undefined && { steps: options.nsSteps }) });
  const learningRate = checkLearningRate(options.learningRate ?? DION2_DEFAULTS.learningRate, 'learningRate', owner);
  const lrAdjust = options.lrAdjust ?? DION2_DEFAULTS.lrAdjust;
  if (!LR_ADJUST_MODES.includes(lrAdjust)) {
    throw new Error(`${owner}: unknown lrAdjust '${String(lrAdjust)}'; expected one of ${LR_ADJUST_MODES.join(', ')}`);
  }
  const convOrthogonalization = options.convOrthogonalization ?? DION2_DEFAULTS.convOrthogonalization;
  if (!CONV_ORTHOGONALIZATIONS.includes(convOrthogonalization)) {
    throw new Error(`${owner}: unknown convOrthogonalization '${String(convOrthogonalization)}'; expected one of ${CONV_ORTHOGONALIZATIONS.join(', ')}`);
  }
  const settings: Dion2Settings = {
    learningRate,
    fraction,
    errorFeedbackDecay,
    coefficients,
    nsSteps: schedule.steps,
    eps,
    precision,
    ...resolveWeightDecayOptions(options, DION2_DEFAULTS.weightDecay, maxValue(learningRate), owner),
    lrAdjust,
    convOrthogonalization,
    matrixViews: options.matrixViews ?? DION2_DEFAULTS.matrixViews,
  };
  checkMatrixViews(settings.matrixViews, owner);
  const hidden = (value: unknown): PropertyDescriptor => ({ value, enumerable: false });
  return Object.freeze(Object.defineProperties(settings, { schedule: hidden(schedule), execution: hidden(execution) }) as ResolvedDion2Options);
}

/**
 * Dion2 as a composition: the selected slices' orthogonalized momentum ({@link scaleByDion2}),
 * scaled by the matrix shape, plus decoupled weight decay on the whole weight, times −lr:
 * p ← p·(1 − lr·wd) − lr·s·O, with O zero off the selected slices (dion2.py
 * `dion2_post_orthogonalize`: `X *= 1 − lr·wd` on all of X, then `X[S] −= adjusted_lr·O`).
 */
export function dion2Transformation(
  options: ResolvedDion2Options,
  learningRate: Live<Scheduled>,
  orthogonalize: Orthogonalizer,
  isConvKernel: IsConvKernel = NO_CONV_KERNELS,
): GradientTransformation {
  const perMatrix = chain(
    scaleByDion2({ fraction: options.fraction, errorFeedbackDecay: options.errorFeedbackDecay, newtonSchulz: options.schedule, orthogonalize }),
    scaleByShape(options.lrAdjust),
  );
  return chain(
    splitMatrices(matrixViewOf(options.matrixViews, options.convOrthogonalization, isConvKernel, 'dion2'), perMatrix),
    weightDecayTransformation(options, learningRate),
    scaleByLearningRate(learningRate),
  );
}

/**
 * Dion2, defined once: as a hybrid group (`{ optimizer: 'dion2', options }`) and as
 * `Dion2Optimizer`. Matrices and conv kernels, with a fused step (`fusedDion2Step`); its saved
 * config is its settings as resolved (the kind's default: the schedule and `execution` are not
 * enumerable).
 */
export const DION2_KIND = matrixOptimizerKind<Dion2Options, ResolvedDion2Options>({
  name: 'dion2',
  title: 'Dion2',
  className: 'Dion2Optimizer',
  optionNames: DION2_OPTION_NAMES,
  resolve: resolveDion2Options,
  transformation: (options, learningRate, { orthogonalize, isConvKernel }) => dion2Transformation(options, learningRate, orthogonalize, isConvKernel),
  fuse: (options, learningRate, services) => withKernel(services.dion2StepKernel, (kernel) => fusedDion2Step(options, learningRate, kernel)),
});
