import type { ModelResult } from './results.js';

/** One optimizer's steps and time to the target, over AdamW's. */
export interface RatioToAdamW {
  kind: string;
  label: string;
  /** Mean steps to target over AdamW's (below 1: fewer), each over its seeds that reached it; null when either reached it in no seed. */
  stepRatio: number | null;
  /** The same for the seconds of training to the target, as measured in the runs. */
  timeRatio: number | null;
  /**
   * Steps to target × the median training step of a step-cost measurement (all optimizers taking
   * turns, so under the same load), over AdamW's: the time ratio that a shared machine's load
   * swings during the runs cannot skew. Null without a cost for both.
   */
  costTimeRatio: number | null;
}

/**
 * Every optimizer of a model's results against AdamW, as `runBenchmark`'s Muon/AdamW ratios are
 * taken (means over the seeds that reached the target), plus the ratio at a measured step cost.
 * @param trainStepMs each kind's median training step in ms, from a cost measurement
 */
export function ratiosToAdamW(model: ModelResult, trainStepMs: Readonly<Record<string, number>> = {}): RatioToAdamW[] {
  const adamw = model.optimizers.find((o) => o.kind === 'adamw');
  if (adamw === undefined) throw new Error(`ratiosToAdamW: no AdamW among the optimizers of '${model.id}' (${model.optimizers.map((o) => o.kind).join(', ')})`);
  const base = adamw.summary;
  return model.optimizers.map((o) => {
    const s = o.summary;
    const both = s.reachedTarget > 0 && base.reachedTarget > 0;
    const cost = trainStepMs[o.kind];
    const baseCost = trainStepMs[adamw.kind];
    return {
      kind: o.kind,
      label: o.label,
      stepRatio: both ? s.stepsToTarget.mean / base.stepsToTarget.mean : null,
      timeRatio: both ? s.secondsToTarget.mean / base.secondsToTarget.mean : null,
      costTimeRatio: both && cost !== undefined && baseCost !== undefined ? (s.stepsToTarget.mean * cost) / (base.stepsToTarget.mean * baseCost) : null,
    };
  });
}
