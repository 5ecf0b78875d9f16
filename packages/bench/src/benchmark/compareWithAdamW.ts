import type { BenchResults, ModelResult, OptimizerResult } from './results.js';
import { finalLoss, type Stat, stat, stepsToTarget } from './stats.js';

/** One optimizer (or variant) measured against AdamW's final training loss. */
export interface AdamWComparison {
  kind: string;
  label: string;
  /** The chosen peak learning rate, and the hybrid's AdamW-group rate when there is one. */
  learningRate: number;
  auxLearningRate: number | null;
  /** The learning-rate search left its choice at a grid edge (extension cap hit). */
  capped: boolean;
  finalTrainLoss: Stat;
  testAccuracy: Stat;
  /** First step whose smoothed training loss is ≤ the target, over the seeds that reached it. */
  stepsToTarget: Stat;
  /** Seconds of training steps up to that step, over the same seeds. */
  secondsToTarget: Stat;
  /** Seeds that reached the target, of `seeds`. */
  reached: number;
  seeds: number;
  optimizerShare: Stat;
  /**
   * Mean steps to target over AdamW's (below 1: fewer), each over its seeds that reached the target,
   * as `runBenchmark`'s Muon/AdamW ratio; null when either reached it in no seed. The target is
   * AdamW's mean final loss, so some AdamW seeds usually miss it: `reached` says how many did.
   */
  stepRatio: number | null;
  /** The same for the seconds of training (measured in the run, under the machine's load then). */
  timeRatio: number | null;
  /**
   * Steps to target × the median training step of a load-independent cost measurement, over
   * AdamW's: the time ratio the machine's load swings cannot skew (null without costs).
   */
  costTimeRatio: number | null;
}

/** The comparison of every optimizer in a set of benchmark results with AdamW's final loss. */
export interface AdamWComparisonTable {
  model: string;
  steps: number;
  seeds: readonly number[];
  /** AdamW's mean final training loss: the loss every optimizer's steps and time are measured to. */
  targetLoss: number;
  rows: AdamWComparison[];
}

const sameList = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Joins the results of several benchmark runs on one model (the rules of a comparison split over
 * processes: each run is deterministic, so the split changes no number) and measures every
 * optimizer against AdamW's mean final training loss, as `runBenchmark` does within one run.
 * Exactly one of the runs must have compared AdamW; all must share the model, its steps, the
 * seeds and the tuning fraction, or the comparison would not be like for like.
 * @param trainStepMs each kind's median training step (ms) from a cost measurement, for `costTimeRatio`
 */
export function compareWithAdamW(results: readonly BenchResults[], modelId: string, trainStepMs: Readonly<Record<string, number>> = {}): AdamWComparisonTable {
  const models = results.map((r, i) => {
    const model = r.models.find((m) => m.id === modelId);
    if (model === undefined) throw new Error(`compareWithAdamW: results ${i} have no model '${modelId}' (they have ${r.models.map((m) => m.id).join(', ')})`);
    return model;
  });
  const first = models[0] as ModelResult;
  const firstResults = results[0] as BenchResults;
  results.forEach((r, i) => {
    const m = models[i] as ModelResult;
    if (m.steps !== first.steps || !sameList(r.config.seeds, firstResults.config.seeds) || r.config.tuneFraction !== firstResults.config.tuneFraction) {
      throw new Error(`compareWithAdamW: results ${i} ran ${m.steps} steps, seeds [${r.config.seeds.join(', ')}], tuning fraction ${r.config.tuneFraction}; results 0 ran ${first.steps}, [${firstResults.config.seeds.join(', ')}], ${firstResults.config.tuneFraction}`);
    }
  });
  const optimizers = models.flatMap((m) => m.optimizers);
  const adamws = optimizers.filter((o) => o.kind === 'adamw');
  if (adamws.length !== 1) throw new Error(`compareWithAdamW: expected AdamW in exactly one of the results, found it in ${adamws.length}`);
  const adamw = adamws[0] as OptimizerResult;
  const targetLoss = stat(adamw.runs.map((r) => finalLoss(r.losses))).mean;

  const measure = (o: OptimizerResult): Omit<AdamWComparison, 'stepRatio' | 'timeRatio' | 'costTimeRatio'> => {
    const reachedRuns = o.runs.flatMap((r) => {
      const step = stepsToTarget(r.losses, targetLoss);
      return step === null ? [] : [{ step, seconds: r.times[step - 1] as number }];
    });
    return {
      kind: o.kind,
      label: o.label,
      learningRate: o.learningRate,
      auxLearningRate: o.auxLearningRate,
      capped: o.searches.some((s) => s.parameter === 'learningRate' && s.capped),
      finalTrainLoss: stat(o.runs.map((r) => finalLoss(r.losses))),
      testAccuracy: stat(o.runs.map((r) => r.testAccuracy)),
      stepsToTarget: stat(reachedRuns.map((r) => r.step)),
      secondsToTarget: stat(reachedRuns.map((r) => r.seconds)),
      reached: reachedRuns.length,
      seeds: o.runs.length,
      optimizerShare: stat(o.runs.map((r) => r.optimizerShare)),
    };
  };
  const base = measure(adamw);
  const someReached = (m: ReturnType<typeof measure>): boolean => m.reached > 0;
  const rows = [adamw, ...optimizers.filter((o) => o !== adamw)].map((o): AdamWComparison => {
    const m = measure(o);
    const both = someReached(m) && someReached(base);
    const costs = trainStepMs[o.kind] !== undefined && trainStepMs[adamw.kind] !== undefined;
    return {
      ...m,
      stepRatio: both ? m.stepsToTarget.mean / base.stepsToTarget.mean : null,
      timeRatio: both ? m.secondsToTarget.mean / base.secondsToTarget.mean : null,
      costTimeRatio: both && costs
        ? (m.stepsToTarget.mean * (trainStepMs[o.kind] as number)) / (base.stepsToTarget.mean * (trainStepMs[adamw.kind] as number))
        : null,
    };
  });
  return { model: modelId, steps: first.steps, seeds: firstResults.config.seeds, targetLoss, rows };
}
