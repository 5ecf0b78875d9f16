import type { Orthogonalizer } from '../math/orthogonalizer.js';
import type { GradientTransformation, Live } from '../transforms/gradientTransformation.js';
import { scaleByNeuronRms } from '../transforms/scaleByNeuronRms.js';
import type { Scheduled } from '../math/schedule.js';
import {
  MUON_COMPOSITION_OPTION_SET,
  MUON_DEFAULTS,
  MUON_MOVED_OPTIONS,
  type MuonCompositionOptions,
  type ResolvedMuonOptions,
  muonConfig,
  muonOptionsFromConfig,
  muonTransformationIn,
  resolveMuonOptions,
  withMuonDerived,
} from './muon.js';
import { type IsConvKernel, NO_CONV_KERNELS } from './matrixViews.js';
import { type ExecutionOptions, type MatrixTransformationContext, matrixOptimizerKind, resolveExecution } from './optimizerKind.js';
import { checkPositive, checkUnitInterval, optionNames, rejectUnknownOptions } from './options.js';

/**
 * Options of NorMuon: Muon's composition, plus the per-neuron second moment's. Of Muon's execution
 * settings only `orthogonalize`: NorMuon has no fused step, and a setting that could change
 * nothing is refused rather than ignored.
 */
export type NorMuonOptions = MuonCompositionOptions & {
  /** EMA rate of the per-neuron second moment, in [0, 1). Default 0.95 (the reference's). */
  readonly beta2?: number;
  /** Added to √v in the per-neuron denominator, > 0 (not Muon's `eps`, which guards Newton–Schulz). Default 1e-10. */
  readonly epsilon?: number;
  readonly execution?: Pick<ExecutionOptions, 'orthogonalize'>;
};

/** NorMuon's options with every default filled in. */
export type ResolvedNorMuonOptions = ResolvedMuonOptions & { readonly beta2: number; readonly epsilon: number };

/**
 * NorMuon's defaults: the reference code's (`zichongli5/NorMuon`: lr 0.02, momentum 0.95, β₂ 0.95,
 * wd 0, eps 1e-10), Muon's for the rest.
 */
export const NORMUON_DEFAULTS = {
  ...MUON_DEFAULTS,
  beta2: 0.95,
  epsilon: 1e-10,
} as const satisfies Omit<ResolvedNorMuonOptions, 'schedule' | 'newtonSchulzAt' | 'execution' | 'maxLearningRate'>;

/** The names of NorMuon's options: the keys of {@link NorMuonOptions}, checked by the compiler. */
export const NORMUON_OPTION_NAMES = optionNames<NorMuonOptions>({ ...MUON_COMPOSITION_OPTION_SET, beta2: true, epsilon: true, execution: true });

const { fused: _fused, ...NORMUON_MOVED_OPTIONS } = MUON_MOVED_OPTIONS;

/** Fills in defaults and checks every option, throwing with the option's name and value. */
export function resolveNorMuonOptions(options: NorMuonOptions = {}, owner = 'normuon'): ResolvedNorMuonOptions {
  rejectUnknownOptions(options, NORMUON_OPTION_NAMES, owner, NORMUON_MOVED_OPTIONS);
  resolveExecution(options.execution, ['orthogonalize'], owner);
  const { beta2 = NORMUON_DEFAULTS.beta2, epsilon = NORMUON_DEFAULTS.epsilon, ...muonOptions } = options;
  checkUnitInterval(beta2, 'beta2', owner);
  // epsilon > 0: with epsilon = 0 a zero update normalized per neuron is 0/0.
  checkPositive(epsilon, 'epsilon', owner);
  const muon = resolveMuonOptions(muonOptions, owner);
  // Muon's derived properties stay non-enumerable (see ResolvedMuonOptions).
  return withMuonDerived({ ...muon, beta2, epsilon }, muon);
}

/**
 * NorMuon (Li et al., arXiv 2510.05491): Muon whose orthogonalized update is normalized per output
 * neuron by a second moment ({@link scaleByNeuronRms}), then shape-scaled, decayed and stepped as
 * Muon: p ← p·(1 − lr·wd) − lr·s·Ô.
 */
export function normuonTransformation(
  options: ResolvedNorMuonOptions,
  learningRate: Live<Scheduled>,
  orthogonalize: Orthogonalizer,
  isConvKernel: IsConvKernel = NO_CONV_KERNELS,
): GradientTransformation {
  return normuonTransformationIn(options, learningRate, { orthogonalize, isConvKernel });
}

/** {@link normuonTransformation} in its kind's context (the bfloat16 codecs of the adapter's services among it). */
function normuonTransformationIn(options: ResolvedNorMuonOptions, learningRate: Live<Scheduled>, context: MatrixTransformationContext): GradientTransformation {
  return muonTransformationIn(options, learningRate, context, [scaleByNeuronRms({ beta2: options.beta2, epsilon: options.epsilon })]);
}

/** NorMuon, defined once: as a hybrid group (`{ optimizer: 'normuon', options }`) and as `NorMuonOptimizer`. */
export const NORMUON_KIND = matrixOptimizerKind<NorMuonOptions, ResolvedNorMuonOptions>({
  name: 'normuon',
  title: 'NorMuon',
  className: 'NorMuonOptimizer',
  optionNames: NORMUON_OPTION_NAMES,
  resolve: resolveNorMuonOptions,
  config: (options) => ({ ...muonConfig(options), beta2: options.beta2, epsilon: options.epsilon }),
  optionsFromConfig: muonOptionsFromConfig,
  transformation: normuonTransformationIn,
});
