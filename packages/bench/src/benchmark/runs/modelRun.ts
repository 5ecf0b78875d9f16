import { adamwHalfPeak, type OptimizerSpec } from '../protocol/optimizers.js';
import { runSchedule } from '../protocol/runSchedule.js';
import { finalLoss } from '../protocol/stats.js';
import type { BenchmarkEntry } from '../protocol/tuningProtocol.js';
import type { RunSummary } from './runSummary.js';
import { trainRun, type RunRecord } from './trainRun.js';

/** What the progress display is told at every step. */
export interface ProgressEvent {
  model: string;
  optimizer: string;
  /** 'tune lr=…' while searching, 'seed N' for the measured runs. */
  phase: string;
  step: number;
  steps: number;
  epoch: number;
  epochs: number;
  loss: number;
}

/** Who hears about every run: its start, each step, and its end. */
export interface RunObserver {
  onRunStart?: (info: { model: string; optimizer: string; phase: string; steps: number }) => void;
  onProgress?: (event: ProgressEvent) => void;
  onRunEnd?: (summary: RunSummary) => void;
}

/** A model under benchmark: its entry, the measured run's steps, and who hears about its runs. */
export interface ModelUnderTest extends BenchmarkEntry {
  /** Steps of a measured run: epochs × steps per epoch. */
  steps: number;
  observer: RunObserver;
}

/** The values one run trains with: the peak rates, and the other tuned hyper-parameters. */
export interface RunSetting {
  peak: number;
  /** AdamW's chosen peak rate; a hybrid's AdamW groups run at a tuned multiple of it ({@link adamwHalfPeak}). */
  auxPeak: number;
  tuned: Record<string, number>;
}

/** The progress callback of one run of `total` steps (a measured run counts epochs, a tuning run one). */
function progressReporter(model: ModelUnderTest, optimizer: string, phase: string, total: number): (step: number, loss: number) => void {
  const { task, epochs, steps, observer } = model;
  return (step, loss) => {
    observer.onProgress?.({
      model: task.id, optimizer, phase, step, steps: total, loss,
      epoch: Math.min(epochs, Math.floor((step - 1) / task.stepsPerEpoch) + 1), epochs: total === steps ? epochs : 1,
    });
  };
}

/**
 * One run of `steps` steps at the setting's peak rates, on the model's schedule compressed to
 * those steps, evaluated on `evaluateOn` at its end; the observer hears its start, steps and end.
 */
export function modelRun(model: ModelUnderTest, spec: OptimizerSpec, setting: RunSetting, seed: number, steps: number,
  evaluateOn: 'validation' | 'test', phase: string): RunRecord {
  const { task, schedule, observer } = model;
  observer.onRunStart?.({ model: task.id, optimizer: spec.label, phase, steps });
  const record = trainRun({
    task, optimizer: spec, learningRate: runSchedule(setting.peak, steps, schedule), auxLearningRate: runSchedule(adamwHalfPeak(setting.auxPeak, setting.tuned), steps, schedule),
    tuned: setting.tuned, seed, steps, evaluateOn, onStep: progressReporter(model, spec.label, phase, steps),
  });
  observer.onRunEnd?.({
    model: task.id, optimizer: spec.label, phase, steps, finalTrainLoss: finalLoss(record.losses), split: evaluateOn,
    evaluationLoss: record.evaluation.loss, diverged: record.diverged, trainSeconds: record.trainSeconds,
  });
  return record;
}

/** The measured runs of one optimizer: one full-length run per seed at its tuned setting, evaluated on the test split. */
export function measuredRuns(model: ModelUnderTest, spec: OptimizerSpec, setting: RunSetting, seeds: readonly number[]): RunRecord[] {
  return seeds.map((seed) => modelRun(model, spec, setting, seed, model.steps, 'test', `seed ${seed}`));
}
