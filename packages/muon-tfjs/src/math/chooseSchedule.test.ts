import { describe, expect, it } from 'vitest';
import { type CoefficientSchedule, composedPolynomial, resolveCoefficients } from './coefficients.js';
import { chooseSchedule, DEFAULT_SCHEDULE_TARGET, type ScheduleCandidate, scheduleCandidates } from './chooseSchedule.js';

const { threshold, upperBound } = DEFAULT_SCHEDULE_TARGET;

/**
 * min and max of the composed polynomial on [σ, 1] over a dense grid (10⁵ geometric + 10⁵ linear
 * points, 25 times denser than the chooser's), evaluated directly in float64: independent of
 * `composedRange`'s refinement.
 */
function denseRange(schedule: CoefficientSchedule, sigma: number): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  const points = 100_000;
  for (let i = 0; i < points; i++) {
    for (const x of [sigma * (1 / sigma) ** (i / (points - 1)), sigma + ((1 - sigma) * i) / (points - 1)]) {
      const y = composedPolynomial(schedule, x);
      min = Math.min(min, y);
      max = Math.max(max, y);
    }
  }
  return { min, max };
}

const meets = ({ min, max }: { min: number; max: number }): boolean => min >= threshold && max <= upperBound;

describe('chooseSchedule', () => {
  it('picks a schedule that meets the target on a dense grid of [σ_q, 1], and no cheaper candidate does', () => {
    const chosenSteps: number[] = [];
    for (const sigma of [0.3, 0.05, 1e-2, 3e-3, 1e-3, 1e-4]) {
      const choice = chooseSchedule({ sigma });
      expect(choice.meetsTarget).toBe(true);
      expect(meets(denseRange(choice.schedule, sigma))).toBe(true);
      for (const candidate of scheduleCandidates(sigma).filter((c) => c.steps < choice.steps)) {
        expect(meets(denseRange(candidate.schedule, sigma)), `${candidate.name} at σ = ${sigma}`).toBe(false);
      }
      chosenSteps.push(choice.steps);
    }
    // Smaller σ_q needs more steps, never fewer.
    chosenSteps.slice(1).forEach((steps, i) => expect(steps).toBeGreaterThanOrEqual(chosenSteps[i] as number));
  });

  it('the default band is the one jordan ×5 keeps on its working range, so it qualifies at σ_q = 1e-2', () => {
    expect(meets(denseRange(resolveCoefficients('jordan', 5), 1e-2))).toBe(true);
    expect(chooseSchedule({ sigma: 1e-2 }).steps).toBeLessThanOrEqual(5);
  });

  it('breaks ties at equal steps by the smaller worst error, and honours custom candidates and bands', () => {
    // At σ ∈ [0.3, 1], jordan ×3 lands in [0.682, 1.134] (error 0.318) while three steps of the
    // convergent (2, −1.5, 0.5) land in [1.000, 1.002] (dense grid): both meet a [0.5, 1.5] band in
    // 3 steps, and the convergent one wins on its smaller error.
    const candidates: ScheduleCandidate[] = [
      { name: 'convergent×3', steps: 3, schedule: resolveCoefficients([2, -1.5, 0.5], 3) },
      { name: 'jordan×3', steps: 3, schedule: resolveCoefficients('jordan', 3) },
      { name: 'jordan×6', steps: 6, schedule: resolveCoefficients('jordan', 6) },
    ];
    const [convergent, jordan] = candidates.map((c) => denseRange(c.schedule, 0.3));
    expect(Math.max(1 - (convergent?.min as number), (convergent?.max as number) - 1)).toBeLessThan(0.002);
    expect(jordan?.min).toBeCloseTo(0.682, 3);
    expect(chooseSchedule({ sigma: 0.3, threshold: 0.5, upperBound: 1.5, candidates }).name).toBe('convergent×3');
    // A band no 3-step candidate meets but jordan ×6 does: lift [0.01, 1] above 0.68.
    expect(chooseSchedule({ sigma: 0.01, candidates }).name).toBe('jordan×6');
  });

  it('when nothing meets the target, returns the candidate that lifts highest, flagged', () => {
    const sigma = 1e-7;
    const choice = chooseSchedule({ sigma });
    expect(choice.meetsTarget).toBe(false);
    for (const candidate of scheduleCandidates(sigma)) {
      expect(composedPolynomial(candidate.schedule, sigma)).toBeLessThanOrEqual(choice.min + 1e-12);
    }
  });

  it('refuses σ outside (0, 1], an empty band and no candidates, by name', () => {
    expect(() => chooseSchedule({ sigma: 0 })).toThrow(/sigma .* must be in \(0, 1\], got 0.*rank-deficient/);
    expect(() => chooseSchedule({ sigma: Number.NaN })).toThrow(/got NaN/);
    expect(() => chooseSchedule({ sigma: 1.5 })).toThrow(/got 1.5/);
    expect(() => chooseSchedule({ sigma: 0.1, threshold: 1.2, upperBound: 1.1 })).toThrow(/threshold = 1.2, upperBound = 1.1/);
    expect(() => chooseSchedule({ sigma: 0.1, candidates: [] })).toThrow(/candidates is empty/);
  });
});
