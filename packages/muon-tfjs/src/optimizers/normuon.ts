import type { Orthogonalizer } from '../math/orthogonalizer.js';
import type { GradientTransformation, Live } from '../transforms/gradientTransformation.js';
import { scaleByNeuronRms } from '../transforms/scaleByNeuronRms.js';
import { MUON_COMPOSITION_OPTION_SET, MUON_DEFAULTS, type MuonOptions, type ResolvedMuonOptions, muonTransformation, resolveMuonOptions } from './muon.js';
import { type IsConvKernel, NO_CONV_KERNELS } from './matrixViews.js';
import { type OptimizerKind, matrixOptimizerKind } from './optimizerKind.js';
import { checkPositive, checkUnitInterval, optionNames, rejectUnknownOptions } from './options.js';

/**
 * Options of NorMuon: Muon's, plus the per-neuron second moment's. Not Muon's `fused`: NorMuon has
 * no fused step, and an option that could change nothing is refused rather than ignored.
 */
export interface NorMuonOptions extends Omit<MuonOptions, 'fused'> {
  /** EMA rate of the per-neuron second moment, in [0, 1). Default 0.95 (the reference's). */
  readonly beta2?: number;
  /** Added to √v in the per-neuron denominator, > 0 (not Muon's `eps`, which guards Newton–Schulz). Default 1e-10. */
  readonly epsilon?: number;
}

/** NorMuon's options with every default filled in (the `orthogonalize` kernel aside). */
export type ResolvedNorMuonOptions = ResolvedMuonOptions & { readonly beta2: number; readonly epsilon: number };

/**
 * NorMuon's defaults: the reference code's (`zichongli5/NorMuon`: lr 0.02, momentum 0.95, β₂ 0.95,
 * wd 0, eps 1e-10), Muon's for the rest.
 */
export const NORMUON_DEFAULTS = {
  ...MUON_DEFAULTS,
  beta2: 0.95,
  epsilon: 1e-10,
} as const satisfies Omit<ResolvedNorMuonOptions, 'schedule' | 'maxLearningRate'>;

/** The names of NorMuon's options: the keys of {@link NorMuonOptions}, checked by the compiler. */
export const NORMUON_OPTION_NAMES = optionNames<NorMuonOptions>({ ...MUON_COMPOSITION_OPTION_SET, beta2: true, epsilon: true });

/** Fills in defaults and checks every option, throwing with the option's name and value. */
export function resolveNorMuonOptions(options: NorMuonOptions = {}, owner = 'normuon'): ResolvedNorMuonOptions {
  rejectUnknownOptions(options, NORMUON_OPTION_NAMES, owner);
  const { beta2 = NORMUON_DEFAULTS.beta2, epsilon = NORMUON_DEFAULTS.epsilon, ...muonOptions } = options;
  checkUnitInterval(beta2, 'beta2', owner);
  // epsilon > 0: with epsilon = 0 a zero update normalized per neuron is 0/0.
  checkPositive(epsilon, 'epsilon', owner);
  const muon = resolveMuonOptions(muonOptions, owner);
  // Muon's resolved schedule stays a non-enumerable property (see ResolvedMuonOptions).
  return Object.freeze(Object.defineProperty({ ...muon, beta2, epsilon }, 'schedule', { value: muon.schedule, enumerable: false }) as ResolvedNorMuonOptions);
}

/**
 * NorMuon (Li et al., arXiv 2510.05491): Muon whose orthogonalized update is normalized per output
 * neuron by a second moment ({@link scaleByNeuronRms}), then shape-scaled, decayed and stepped as
 * Muon: p ← p·(1 − lr·wd) − lr·s·Ô.
 */
export function normuonTransformation(
  options: ResolvedNorMuonOptions,
  learningRate: Live<number>,
  orthogonalize: Orthogonalizer,
  isConvKernel: IsConvKernel = NO_CONV_KERNELS,
): GradientTransformation {
  return muonTransformation(options, learningRate, orthogonalize, isConvKernel, scaleByNeuronRms({ beta2: options.beta2, epsilon: options.epsilon }));
}

/** NorMuon as a kind of hybrid group (`{ optimizer: 'normuon', options }`); it takes what Muon takes. */
export const NORMUON_KIND: OptimizerKind<NorMuonOptions> = matrixOptimizerKind('normuon', 'NorMuon', resolveNorMuonOptions, normuonTransformation);
