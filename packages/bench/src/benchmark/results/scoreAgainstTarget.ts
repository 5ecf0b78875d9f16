import type { ModelResult, OptimizerResult, RunResult } from './results.js';
import { stat, stepsToTarget } from '../protocol/stats.js';

/** A measured run before it is compared with the target. */
export type MeasuredRun = Omit<RunResult, 'stepsToTarget' | 'secondsToTarget'>;

/** An optimizer's searches and measured runs, before the target is known. */
export type MeasuredOptimizer = Omit<OptimizerResult, 'runs' | 'summary'> & { runs: MeasuredRun[] };

/** What {@link scoreAgainstTarget} adds to a model's results. */
export type TargetScores = Pick<ModelResult, 'targetLoss' | 'targetRule' | 'muonToAdamwStepRatio' | 'muonToAdamwTimeRatio' | 'optimizers'>;

/**
 * Compares every measured run with the target loss and summarizes each optimizer over its seeds.
 * The target is AdamW's mean final training loss (the published claim is that Muon reaches AdamW's
 * loss in fewer steps); without AdamW, the highest mean final loss. Steps to target: the first step
 * whose smoothed loss reaches it; seconds to target: the training time at that step.
 */
export function scoreAgainstTarget(optimizers: readonly MeasuredOptimizer[]): TargetScores {
  const meanFinal = (o: MeasuredOptimizer): number => stat(o.runs.map((r) => r.finalTrainLoss)).mean;
  const adamw = optimizers.find((o) => o.kind === 'adamw');
  const adamwFinal = adamw === undefined ? undefined : meanFinal(adamw);
  const targetLoss = adamwFinal !== undefined && Number.isFinite(adamwFinal)
    ? adamwFinal
    : Math.max(...optimizers.map(meanFinal).filter((v) => Number.isFinite(v)));
  const targetRule = adamwFinal !== undefined ? "AdamW's mean final training loss" : 'the highest mean final training loss';
  const scored: OptimizerResult[] = optimizers.map((o) => {
    const runs: RunResult[] = o.runs.map((r) => {
      const reached = stepsToTarget(r.losses, targetLoss);
      return { ...r, stepsToTarget: reached, secondsToTarget: reached === null ? null : (r.times[reached - 1] as number) };
    });
    const reached = runs.filter((r) => r.stepsToTarget !== null);
    return {
      ...o,
      runs,
      summary: {
        finalTrainLoss: stat(runs.map((r) => r.finalTrainLoss)),
        testLoss: stat(runs.map((r) => r.testLoss)),
        testAccuracy: stat(runs.map((r) => r.testAccuracy)),
        stepsToTarget: stat(reached.map((r) => r.stepsToTarget as number)),
        secondsToTarget: stat(reached.map((r) => r.secondsToTarget as number)),
        reachedTarget: reached.length,
        wallSeconds: stat(runs.map((r) => r.wallSeconds)),
        optimizerShare: stat(runs.map((r) => r.optimizerShare)),
      },
    };
  });
  const muon = scored.find((o) => o.kind === 'muon')?.summary;
  const reference = scored.find((o) => o.kind === 'adamw')?.summary;
  const bothReached = muon !== undefined && reference !== undefined && muon.reachedTarget > 0 && reference.reachedTarget > 0;
  return {
    targetLoss,
    targetRule,
    muonToAdamwStepRatio: bothReached ? muon.stepsToTarget.mean / reference.stepsToTarget.mean : null,
    muonToAdamwTimeRatio: bothReached ? muon.secondsToTarget.mean / reference.secondsToTarget.mean : null,
    optimizers: scored,
  };
}
