import { linearDecay, linearWarmup, type Scheduled } from 'muon-tfjs';

/** The learning-rate schedule every optimizer trains with (the same for all on a model). */
export interface ScheduleSpec {
  /**
   * `linearDecay`: optional warm-up, then a straight line from the peak to 0 at the run's last
   * step (the protocol's default: a decay to zero removes most of the advantage a method with a
   * lower effective rate late in training would have, Hägele et al., arXiv 2405.18392);
   * `constant`: the peak throughout, after the warm-up.
   */
  shape: 'linearDecay' | 'constant';
  /** Linear warm-up as a fraction of the run's steps (0: none). */
  warmupFraction: number;
}

/**
 * The learning rate of a run of `steps` steps that peaks at `peak`. A tuning run shorter than the
 * measured run gets the same schedule compressed to its own length: warm-up and decay scale with
 * it, so the rate reaches 0 at its last step too (tuning a decayed schedule on a constant one
 * would favour rates that are too large).
 */
export function runSchedule(peak: number, steps: number, spec: ScheduleSpec): Scheduled {
  if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`runSchedule: steps must be an integer ≥ 1, got ${steps}`);
  if (!(spec.warmupFraction >= 0 && spec.warmupFraction < 1)) {
    throw new Error(`runSchedule: warmupFraction must be in [0, 1), got ${spec.warmupFraction}`);
  }
  // At least one step of decay after the warm-up.
  const warmupSteps = Math.min(steps - 1, Math.round(spec.warmupFraction * steps));
  if (spec.shape === 'linearDecay') return linearDecay({ peak, steps, warmupSteps });
  return warmupSteps > 0 ? linearWarmup({ peak, warmupSteps }) : peak;
}

/** A sentence for the report: the schedule and its warm-up. */
export function describeSchedule(spec: ScheduleSpec): string {
  const shape = spec.shape === 'linearDecay' ? 'linear decay to 0 at the last step' : 'constant';
  return spec.warmupFraction > 0 ? `linear warm-up over ${Math.round(spec.warmupFraction * 100)} % of the steps, then ${shape}` : shape;
}
