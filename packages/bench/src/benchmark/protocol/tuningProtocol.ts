import type { Task } from 'muon-tfjs-tasks';
import type { ScheduleSpec } from './runSchedule.js';

/** `default`, `full` (`--full`) or `quick` (`--quick`: Muon against AdamW on one small model, in minutes). */
export type BenchMode = 'default' | 'full' | 'quick';

/** One model to benchmark, how long to train it and on which schedule. */
export interface BenchmarkEntry {
  task: Task;
  epochs: number;
  schedule: ScheduleSpec;
}

/** How hyper-parameters are chosen (issue 12's re-tuning protocol). */
export interface TuningProtocol {
  /**
   * Tuning runs last this fraction of the measured run's steps, in [¼, 1], with the schedule
   * compressed to their length; 1 tunes at the full budget.
   */
  tuneFraction: number;
  /** At most this many points are added to a grid whose best value sits at an edge. */
  maxExtensions: number;
}

/** The default run's protocol: tuning at a quarter of the budget, up to 3 extensions per grid. */
export const DEFAULT_PROTOCOL: TuningProtocol = { tuneFraction: 0.25, maxExtensions: 3 };

/** Steps of each tuning run of a model measured over `steps` steps: the protocol's fraction, at least one. */
export function tuningSteps(steps: number, protocol: TuningProtocol): number {
  return Math.max(1, Math.round(steps * protocol.tuneFraction));
}
