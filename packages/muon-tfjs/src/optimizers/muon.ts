import { type CoefficientSpec, DEFAULT_COEFFICIENTS, DEFAULT_NS_STEPS, resolveCoefficients } from '../math/coefficients.js';
import { DEFAULT_NS_EPS } from '../math/newtonSchulz.js';
import { fastestOrthogonalizer } from '../kernels/fastestOrthogonalizer.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { matrixShape } from '../math/matrixView.js';
import { LR_ADJUST_MODES, type LrAdjust, shapeScale } from '../math/shapeScale.js';
import { chain } from '../transforms/chain.js';
import type { GradientTransformation, Live } from '../transforms/gradientTransformation.js';
import { scaleByLearningRate } from '../transforms/scaleByLearningRate.js';
import { scaleByMuon } from '../transforms/scaleByMuon.js';
import { scaleByShape } from '../transforms/scaleByShape.js';
import { splitColumns } from '../transforms/splitColumns.js';
import { type BlockColumnsRule, blockColumnsOf, checkBlockColumns } from './blockColumns.js';
import type { OptimizerKind } from './optimizerKind.js';
import { checkNonNegative, checkPositive, checkUnitInterval, rejectUnknownOptions } from './options.js';
import { WEIGHT_DECAY_OPTION_NAMES, type WeightDecayOptions, resolveWeightDecayOptions, weightDecayTransformation } from './weightDecay.js';

/** Options of the Muon optimizer; every field has a default in {@link MUON_DEFAULTS}. */
export interface MuonOptions extends WeightDecayOptions {
  /** Step size lr in p ← p·(1 − lr·wd) − lr·s·O. Default 0.02 (KellerJordan/Muon). */
  readonly learningRate?: number;
  /** β of the momentum EMA, in [0, 1). Default 0.95. */
  readonly momentum?: number;
  /** Orthogonalize the Nesterov look-ahead (1−β)g + βm rather than m. Default true. */
  readonly nesterov?: boolean;
  /** Newton–Schulz iterations. Default 5 for a single triple, the schedule's length for a list. */
  readonly nsSteps?: number;
  /** Coefficient schedule: a preset name, an (a, b, c) triple, or one triple per step. Default `'jordan'`. */
  readonly coefficients?: CoefficientSpec;
  /** Decoupled weight decay wd (applied as p·(1 − lr·wd), with the unscaled lr). Default 0. */
  readonly weightDecay?: number;
  /** Shape scale s of the update; see {@link LrAdjust}. Default `'original'`: √max(1, fanOut/fanIn). */
  readonly lrAdjust?: LrAdjust;
  /** eps of the Frobenius normalization before Newton–Schulz. Default 1e-7. */
  readonly eps?: number;
  /**
   * Per-block orthogonalization: variables matching a rule are split into column blocks, each
   * orthogonalized with its own shape scale (Q, K, V of a fused kernel; attention heads; LSTM/GRU
   * gates). See {@link BlockColumnsRule}. Default `[]`: every matrix whole.
   */
  readonly blockColumns?: readonly BlockColumnsRule[];
  /**
   * The orthogonalization kernel (not serialized). Default {@link fastestOrthogonalizer}: the
   * native OpenBLAS kernel in Node when built, else Gram/plain Newton–Schulz in TF.js.
   */
  readonly orthogonalize?: Orthogonalizer;
}

/** Muon's options with every default filled in (the `orthogonalize` kernel aside). */
export type ResolvedMuonOptions = Required<Omit<MuonOptions, 'orthogonalize' | 'nsSteps'>> & { readonly nsSteps: number };

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
  blockColumns: [],
} as const satisfies Omit<ResolvedMuonOptions, 'maxLearningRate'>;

const MUON_OPTION_NAMES = [...new Set([...Object.keys(MUON_DEFAULTS), ...WEIGHT_DECAY_OPTION_NAMES, 'orthogonalize'])];

/** Fills in defaults and checks every option, throwing with the option's name and value. */
export function resolveMuonOptions(options: MuonOptions = {}, owner = 'muon'): ResolvedMuonOptions {
  rejectUnknownOptions(options, MUON_OPTION_NAMES, owner);
  const coefficients = options.coefficients ?? MUON_DEFAULTS.coefficients;
  // Resolving the schedule validates coefficients and nsSteps together and fixes the step count.
  const nsSteps = resolveCoefficients(coefficients, options.nsSteps).iterations.length;
  const learningRate = options.learningRate ?? MUON_DEFAULTS.learningRate;
  checkPositive(learningRate, 'learningRate', owner);
  const resolved: ResolvedMuonOptions = {
    learningRate,
    momentum: options.momentum ?? MUON_DEFAULTS.momentum,
    nesterov: options.nesterov ?? MUON_DEFAULTS.nesterov,
    nsSteps,
    coefficients,
    ...resolveWeightDecayOptions(options, MUON_DEFAULTS.weightDecay, learningRate, owner),
    lrAdjust: options.lrAdjust ?? MUON_DEFAULTS.lrAdjust,
    eps: options.eps ?? MUON_DEFAULTS.eps,
    blockColumns: options.blockColumns ?? MUON_DEFAULTS.blockColumns,
  };
  checkBlockColumns(resolved.blockColumns, owner);
  checkUnitInterval(resolved.momentum, 'momentum', owner);
  checkNonNegative(resolved.eps, 'eps', owner);
  if (typeof resolved.nesterov !== 'boolean') {
    throw new Error(`${owner}: nesterov must be a boolean, got ${String(resolved.nesterov)}`);
  }
  if (!LR_ADJUST_MODES.includes(resolved.lrAdjust)) {
    throw new Error(`${owner}: unknown lrAdjust '${String(resolved.lrAdjust)}'; expected one of ${LR_ADJUST_MODES.join(', ')}`);
  }
  return resolved;
}

/**
 * Muon as a composition: orthogonalized momentum, scaled by the matrix shape, plus decoupled weight
 * decay, times −lr:  p ← p − lr·(s·O + wd·p) = p·(1 − lr·wd) − lr·s·O (corrected and cautious
 * decay as in {@link WeightDecayOptions}; the cautious mask compares p with s·O).
 */
export function muonTransformation(
  options: ResolvedMuonOptions,
  learningRate: Live<number>,
  orthogonalize: Orthogonalizer = fastestOrthogonalizer(),
): GradientTransformation {
  const orthogonalized = chain(
    scaleByMuon({
      momentum: options.momentum,
      nesterov: options.nesterov,
      newtonSchulz: { coefficients: options.coefficients, steps: options.nsSteps, eps: options.eps },
      orthogonalize,
    }),
    scaleByShape(options.lrAdjust),
  );
  return chain(
    options.blockColumns.length === 0 ? orthogonalized : splitColumns(blockColumnsOf(options.blockColumns, 'muon'), orthogonalized),
    weightDecayTransformation(options, learningRate),
    scaleByLearningRate(learningRate),
  );
}

/**
 * Muon as a kind of hybrid group (`{ optimizer: 'muon', options }`). It refuses parameters of
 * rank < 2 and reports each kernel's `[fanIn, fanOut]` matrix view and shape scale.
 */
export const MUON_KIND: OptimizerKind<MuonOptions> = {
  name: 'muon',
  title: 'Muon',
  create(options, owner, services) {
    const resolved = resolveMuonOptions(options, owner);
    const orthogonalize = options?.orthogonalize;
    return {
      kind: 'muon',
      title: 'Muon',
      options: resolved,
      refuse: (shape) =>
        shape.length < 2 ? 'Muon needs rank ≥ 2: it orthogonalizes matrices (biases, norm gains and other vectors belong to AdamW)' : undefined,
      describe(shape) {
        const m = matrixShape(shape);
        return { scale: shapeScale(m, resolved.lrAdjust), matrix: [m.fanIn, m.fanOut] };
      },
      transformation: (learningRate) => muonTransformation(resolved, learningRate, orthogonalize ?? services.defaultOrthogonalizer()),
    };
  },
};
