import type { Scheduled } from '../math/schedule.js';
import { addDecayedWeights } from '../transforms/addDecayedWeights.js';
import { chain } from '../transforms/chain.js';
import type { GradientTransformation, Live } from '../transforms/gradientTransformation.js';
import { scaleByLearningRate } from '../transforms/scaleByLearningRate.js';
import { scaleBySophia } from '../transforms/scaleBySophia.js';
import { elementwiseOptimizerKind } from './optimizerKind.js';
import { checkLearningRate, checkNonNegative, checkUnitInterval, givenOptions, optionNames, rejectUnknownOptions } from './options.js';

/** Options of SophiaG; every field has a default in {@link SOPHIA_DEFAULTS}. */
export interface SophiaOptions {
  /** A number or a schedule; the step of each entry is at most lr. Default 6e-4. */
  readonly learningRate?: Scheduled;
  /** EMA rate of the momentum, in [0, 1). Default 0.965. */
  readonly beta1?: number;
  /** EMA rate of the Hessian-diagonal estimate, in [0, 1). Default 0.99. */
  readonly beta2?: number;
  /** ρ, the clipping scale of |m|/(ρ·h). Default 0.05. */
  readonly rho?: number;
  /** Decoupled weight decay, p ← p·(1 − lr·wd). Default 0.2. */
  readonly weightDecay?: number;
  /** Added to ρ·h. Default 1e-15 (the reference's). */
  readonly epsilon?: number;
}

export type ResolvedSophiaOptions = Required<Omit<SophiaOptions, 'learningRate'>> & { readonly learningRate: Scheduled };

/**
 * SophiaG's defaults: the reference's GPT-2 small (125M) recipe (`Liuhong99/Sophia`
 * `config/train_gpt2_small_sophiag.py`: lr 6e-4, ρ 0.05, wd 0.2) with the optimizer's betas
 * (0.965, 0.99) and eps 1e-15. The Hessian estimate comes every k = 10 steps
 * ({@link SOPHIA_HESSIAN_INTERVAL}).
 *
 * At the scale of this package's benchmarks (hundreds of steps, not tens of thousands) ρ = 0.05
 * clips almost every entry: h has no bias correction, so after n estimates it is (1 − β₂ⁿ) of its
 * level (10 % after 100 steps with β₂ = 0.99, k = 10), and Sophia takes sign-momentum steps. There
 * ρ ≈ 1 (or β₂ ≈ 0.9) brings the unclipped fraction (`SOPHIA_TAPS.unclippedFraction`) into the
 * 0.1–0.5 the reference README advises. Each entry moves at most lr per step, as with Lion: search
 * the learning rate over Lion's range.
 */
export const SOPHIA_DEFAULTS = {
  learningRate: 6e-4,
  beta1: 0.965,
  beta2: 0.99,
  rho: 0.05,
  weightDecay: 0.2,
  epsilon: 1e-15,
} as const satisfies ResolvedSophiaOptions;

/** Steps between two Hessian estimates in the reference recipes (`hess_interval = 10`). */
export const SOPHIA_HESSIAN_INTERVAL = 10;

/** The names of SophiaG's options: the keys of {@link SophiaOptions}, checked by the compiler. */
export const SOPHIA_OPTION_NAMES = optionNames<SophiaOptions>({ learningRate: true, beta1: true, beta2: true, rho: true, weightDecay: true, epsilon: true });

/** Fills in defaults and checks every option by name. */
export function resolveSophiaOptions(options: SophiaOptions = {}, owner = 'sophia'): ResolvedSophiaOptions {
  rejectUnknownOptions(options, SOPHIA_OPTION_NAMES, owner);
  const merged = { ...SOPHIA_DEFAULTS, ...givenOptions(options) };
  const resolved = { ...merged, learningRate: checkLearningRate(merged.learningRate, 'learningRate', owner) };
  checkUnitInterval(resolved.beta1, 'beta1', owner);
  checkUnitInterval(resolved.beta2, 'beta2', owner);
  checkNonNegative(resolved.rho, 'rho', owner);
  checkNonNegative(resolved.weightDecay, 'weightDecay', owner);
  checkNonNegative(resolved.epsilon, 'epsilon', owner);
  if (resolved.rho === 0 && resolved.epsilon === 0) {
    throw new Error(`${owner}: rho and epsilon are both 0, so |m|/(ρ·h + ε) divides by zero; give rho > 0`);
  }
  return resolved;
}

/** SophiaG: p ← p·(1 − lr·wd) − lr·clip(m/(ρ·h + ε), −1, 1), h fed every k steps by an estimator. */
export function sophiaTransformation(options: ResolvedSophiaOptions, learningRate: Live<Scheduled>): GradientTransformation {
  return chain(scaleBySophia(options), addDecayedWeights(options.weightDecay), scaleByLearningRate(learningRate));
}

/** SophiaG, defined once: as a hybrid group (`{ optimizer: 'sophia', options }`) and as `SophiaOptimizer`. */
export const SOPHIA_KIND = elementwiseOptimizerKind<SophiaOptions, ResolvedSophiaOptions>({
  name: 'sophia',
  title: 'Sophia',
  className: 'SophiaOptimizer',
  optionNames: SOPHIA_OPTION_NAMES,
  resolve: resolveSophiaOptions,
  transformation: sophiaTransformation,
});
