import { type CoefficientPreset, type CoefficientSchedule, resolveCoefficients } from './coefficients.js';
import { composedRange } from './composedRange.js';
import { polarExpressSchedule } from './polarExpressSchedule.js';

/** A Newton–Schulz schedule the chooser may pick, with its cost in iterations. */
export interface ScheduleCandidate {
  /** e.g. `jordan×4`, `polarExpress5`, `polarExpress(ℓ=0.0123)×4`. */
  readonly name: string;
  /** Iterations; every candidate's iteration costs the same matrix products, so this is the cost. */
  readonly steps: number;
  readonly schedule: CoefficientSchedule;
}

/** The chooser's answer: a candidate and what it makes of [σ_q, 1]. */
export interface ScheduleChoice extends ScheduleCandidate {
  /** min and max of the composed polynomial over σ ∈ [σ_q, 1] (`composedRange`). */
  readonly min: number;
  readonly max: number;
  /** false when no candidate met the target: the choice is then the one reaching highest. */
  readonly meetsTarget: boolean;
}

/** Options of {@link chooseSchedule}. */
export interface ChooseScheduleOptions {
  /** The layer's normalized σ quantile (e.g. `spectrumOf(m).quantiles.q90`), in (0, 1]. */
  readonly sigma: number;
  /** Every σ in [sigma, 1] must be lifted to at least this (default 0.68, see DEFAULT_SCHEDULE_TARGET). */
  readonly threshold?: number;
  /** …and kept at most this (default 1.32). */
  readonly upperBound?: number;
  /** Default: {@link scheduleCandidates}(sigma). */
  readonly candidates?: readonly ScheduleCandidate[];
}

/**
 * The default target of the schedule chooser.
 *
 * - `quantile: 'q90'`: orthogonalize the top 90% of directions. The public reproduction of
 *   "Spectral Scaling Laws of Muon" (arXiv 2606.04058; `shared/reference/phase2-notes.md` §A)
 *   found that orthogonalizing only the top 90% of singular directions matches full Muon, the top
 *   50% loses a little and the top 25% trains 10–20% worse: q90 is the deepest quantile the
 *   evidence says matters, and no deeper one is needed.
 * - `threshold: 0.68`, `upperBound: 1.32`: "orthogonalized" means mapped into [0.68, 1.32], the
 *   band Keller Jordan's default (jordan × 5, maps its working range [1e-2, 1] into
 *   [0.682, 1.134], worst error 0.318, muon-anchors §b.6) keeps, i.e. what full Muon does to the
 *   directions it orthogonalizes; the band is symmetric about 1 because Polar Express schedules
 *   spread their error symmetrically.
 */
export const DEFAULT_SCHEDULE_TARGET = { quantile: 'q90', threshold: 0.68, upperBound: 1.32 } as const;

const PRESET_CANDIDATES: readonly CoefficientPreset[] = ['cesista5', 'polarExpress5', 'you6', 'polarExpress8'];
const JORDAN_STEPS = [3, 4, 5, 6];
const POLAR_EXPRESS_STEPS = [2, 3, 4, 5, 6, 7, 8];

/**
 * The candidates for a layer whose chosen quantile is `sigma`: the presets at their own step
 * counts (cesista5, polarExpress5, you6, polarExpress8), `jordan` at 3–6 steps, and Polar Express
 * schedules generated for ℓ = sigma at 2–8 steps. The generated ones put the safety factor into
 * the design (`safetyMode: 'during'`), which measured a lower worst error than applying it
 * afterwards at every (ℓ, steps) tried (`polarExpressSchedule.test.ts`).
 *
 * @example
 * ```ts
 * // Restrict the chooser to Keller Jordan's quintic and the generated schedules:
 * const candidates = scheduleCandidates(0.01).filter((c) => !COEFFICIENT_PRESETS.includes(c.name as CoefficientPreset));
 * chooseSchedule({ sigma: 0.01, candidates });
 * ```
 */
export function scheduleCandidates(sigma: number): ScheduleCandidate[] {
  checkSigma(sigma, 'scheduleCandidates');
  const presets = PRESET_CANDIDATES.map((name) => {
    const schedule = resolveCoefficients(name);
    return { name, steps: schedule.iterations.length, schedule };
  });
  const jordan = JORDAN_STEPS.map((steps) => ({ name: `jordan×${steps}`, steps, schedule: resolveCoefficients('jordan', steps) }));
  const generated = POLAR_EXPRESS_STEPS.map((steps) => ({
    name: `polarExpress(ℓ=${sigma.toPrecision(3)})×${steps}`,
    steps,
    schedule: polarExpressSchedule({ lowerBound: sigma, steps, safetyMode: 'during' }),
  }));
  return [...presets, ...jordan, ...generated];
}

/**
 * Layer-aware Newton–Schulz: the cheapest schedule whose composed polynomial maps every
 * normalized singular value in [sigma, 1] into [threshold, upperBound].
 *
 * Each Newton–Schulz iteration applies its quintic to every singular value of the
 * Frobenius-normalized input, so a schedule's effect on a layer is the composed scalar polynomial
 * on the layer's spectrum; with sigma = the layer's q90 (`spectrumOf`), meeting the target means
 * the top 90% of its directions come out orthogonalized (see {@link DEFAULT_SCHEDULE_TARGET}).
 * Candidates are ranked by steps (every iteration costs the same); among the cheapest that meet
 * the target, the one with the smallest max|p − 1| on [sigma, 1] wins. When none meets it, the
 * answer is the candidate whose minimum over [sigma, 1] is highest, with `meetsTarget: false`.
 *
 * @example
 * ```ts
 * import { spectrumOf } from 'muon-tfjs/diagnostics';
 * import { chooseSchedule, foldNormalization, newtonSchulz } from 'muon-tfjs';
 * const choice = chooseSchedule({ sigma: spectrumOf(momentum).quantiles.q90 });
 * console.log(choice.name, choice.steps); // σ_q = 0.0037: 'polarExpress(ℓ=0.00366)×4' 4
 * const o = newtonSchulz(momentum, { coefficients: foldNormalization(choice.schedule) });
 * ```
 */
export function chooseSchedule(options: ChooseScheduleOptions): ScheduleChoice {
  const { sigma, threshold = DEFAULT_SCHEDULE_TARGET.threshold, upperBound = DEFAULT_SCHEDULE_TARGET.upperBound } = options;
  checkSigma(sigma, 'chooseSchedule');
  if (!(threshold > 0 && threshold < upperBound && Number.isFinite(upperBound))) {
    throw new Error(`chooseSchedule: need 0 < threshold < upperBound < ∞, got threshold = ${threshold}, upperBound = ${upperBound}`);
  }
  const candidates = options.candidates ?? scheduleCandidates(sigma);
  if (candidates.length === 0) {
    throw new Error('chooseSchedule: options.candidates is empty');
  }
  // Cheapest first: a step count's candidates are evaluated only if every cheaper one failed, so a
  // layer that 2 steps suffice for costs 2-step evaluations only.
  const evaluated: ScheduleChoice[] = [];
  const error = (c: ScheduleChoice): number => Math.max(1 - c.min, c.max - 1);
  for (const steps of [...new Set(candidates.map((c) => c.steps))].sort((a, b) => a - b)) {
    const group = candidates
      .filter((c) => c.steps === steps)
      .map((candidate): ScheduleChoice => {
        const { min, max } = composedRange(candidate.schedule, sigma);
        return { ...candidate, min, max, meetsTarget: min >= threshold && max <= upperBound };
      });
    const passing = group.filter((c) => c.meetsTarget);
    if (passing.length > 0) return passing.reduce((best, c) => (error(c) < error(best) ? c : best));
    evaluated.push(...group);
  }
  return evaluated.reduce((best, c) => (c.min > best.min || (c.min === best.min && c.steps < best.steps) ? c : best));
}

function checkSigma(sigma: number, caller: string): void {
  if (!(sigma > 0 && sigma <= 1)) {
    throw new Error(
      `${caller}: sigma (a normalized singular value quantile) must be in (0, 1], got ${sigma}; ` +
        'a zero quantile means a rank-deficient matrix whose bottom directions no schedule can lift: choose a higher quantile',
    );
  }
}
