import type { OptimizerSpec } from '../protocol/optimizers.js';
import { finalLoss } from '../protocol/stats.js';
import type { RunRecord } from '../runs/trainRun.js';
import type { Tuned } from '../runs/tuneOptimizer.js';
import type { MeasuredOptimizer, MeasuredRun } from './scoreAgainstTarget.js';

/** A measured run as results.json records it, before it is compared with the target. */
export function measuredRun(r: RunRecord): MeasuredRun {
  return {
    seed: r.seed,
    finalTrainLoss: finalLoss(r.losses),
    testLoss: r.evaluation.loss,
    testAccuracy: r.evaluation.accuracy,
    wallSeconds: r.trainSeconds,
    optimizerSeconds: r.optimizerSeconds,
    optimizerShare: r.trainSeconds > 0 ? r.optimizerSeconds / r.trainSeconds : 0,
    diverged: r.diverged,
    losses: r.losses,
    times: r.times,
  };
}

/** One optimizer's searches, choices and measured runs (`auxPeak`: the hybrids' AdamW rate). */
export function measuredOptimizer(spec: OptimizerSpec, tuned: Tuned, auxPeak: number, records: readonly RunRecord[]): MeasuredOptimizer {
  return {
    kind: spec.kind,
    label: spec.label,
    hyperParameters: spec.hyperParameters,
    searches: tuned.searches,
    learningRate: tuned.learningRate,
    tuned: tuned.tuned,
    auxLearningRate: spec.usesAuxiliaryAdamW ? auxPeak : null,
    runs: records.map(measuredRun),
  };
}
