import { type CoefficientSpec, DEFAULT_COEFFICIENTS, DEFAULT_NS_STEPS, resolveCoefficients } from '../math/coefficients.js';
import { DEFAULT_NS_EPS } from '../math/newtonSchulz.js';
import { fastestOrthogonalizer } from '../kernels/fastestOrthogonalizer.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import type { Scheduled } from '../math/schedule.js';
import { LR_ADJUST_MODES, type LrAdjust } from '../math/shapeScale.js';
import { addDecayedWeights } from '../transforms/addDecayedWeights.js';
import { chain } from '../transforms/chain.js';
import type { GradientTransformation, Live } from '../transforms/gradientTransformation.js';
import { scaleByLearningRate } from '../transforms/scaleByLearningRate.js';
import { scaleByMuon } from '../transforms/scaleByMuon.js';
import { scaleByShape } from '../transforms/scaleByShape.js';
import { type OptimizerKind, matrixOptimizerKind } from './optimizerKind.js';
import { checkLearningRate, checkMomentum, checkNonNegative, rejectUnknownOptions } from './options.js';

/** Options of the Muon optimizer; every field has a default in {@link MUON_DEFAULTS}. */
export interface MuonOptions {
  /** Step size lr in p ← p·(1 − lr·wd) − lr·s·O: a number or a schedule. Default 0.02 (KellerJordan/Muon). */
  readonly learningRate?: Scheduled;
  /** β of the momentum EMA, in [0, 1): a number or a schedule ({@link momentumWarmup}). Default 0.95. */
  readonly momentum?: Scheduled;
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
  lrAdjust: 'original',
  eps: DEFAULT_NS_EPS,
} as const satisfies ResolvedMuonOptions;

const MUON_OPTION_NAMES = [...Object.keys(MUON_DEFAULTS), 'orthogonalize'];

/** Fills in defaults and checks every option, throwing with the option's name and value. */
export function resolveMuonOptions(options: MuonOptions = {}, owner = 'muon'): ResolvedMuonOptions {
  rejectUnknownOptions(options, MUON_OPTION_NAMES, owner);
  const coefficients = options.coefficients ?? MUON_DEFAULTS.coefficients;
  // Resolving the schedule validates coefficients and nsSteps together and fixes the step count.
  const nsSteps = resolveCoefficients(coefficients, options.nsSteps).iterations.length;
  const resolved: ResolvedMuonOptions = {
    learningRate: checkLearningRate(options.learningRate ?? MUON_DEFAULTS.learningRate, 'learningRate', owner),
    momentum: checkMomentum(options.momentum ?? MUON_DEFAULTS.momentum, 'momentum', owner),
    nesterov: options.nesterov ?? MUON_DEFAULTS.nesterov,
    nsSteps,
    coefficients,
    weightDecay: options.weightDecay ?? MUON_DEFAULTS.weightDecay,
    lrAdjust: options.lrAdjust ?? MUON_DEFAULTS.lrAdjust,
    eps: options.eps ?? MUON_DEFAULTS.eps,
  };
  checkNonNegative(resolved.weightDecay, 'weightDecay', owner);
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
 * decay, times −lr:  p ← p − lr·(s·O + wd·p) = p·(1 − lr·wd) − lr·s·O.
 * @param afterOrthogonalization stages applied to O before the shape scale (NorMuon's
 *   {@link scaleByNeuronRms}); none for Muon
 */
export function muonTransformation(
  options: ResolvedMuonOptions,
  learningRate: Live<number>,
  orthogonalize: Orthogonalizer = fastestOrthogonalizer(),
  ...afterOrthogonalization: readonly GradientTransformation[]
): GradientTransformation {
  return chain(
    scaleByMuon({
      momentum: options.momentum,
      nesterov: options.nesterov,
      newtonSchulz: { coefficients: options.coefficients, steps: options.nsSteps, eps: options.eps },
      orthogonalize,
    }),
    ...afterOrthogonalization,
    scaleByShape(options.lrAdjust),
    addDecayedWeights(options.weightDecay),
    scaleByLearningRate(learningRate),
  );
}

/**
 * Muon as a kind of hybrid group (`{ optimizer: 'muon', options }`). It refuses parameters of
 * rank < 2 and reports each kernel's `[fanIn, fanOut]` matrix view and shape scale.
 */
export const MUON_KIND: OptimizerKind<MuonOptions> = matrixOptimizerKind('muon', 'Muon', resolveMuonOptions, muonTransformation);
