import { describeSchedule } from '../protocol/runSchedule.js';
import type { BenchmarkEntry } from '../protocol/tuningProtocol.js';
import type { ModelResult } from './results.js';
import { scoreAgainstTarget, type MeasuredOptimizer } from './scoreAgainstTarget.js';

/**
 * Everything measured on one model: its description (the parameter count from a freshly built
 * copy), the budget and schedule, and every optimizer scored against the target.
 */
export function modelResult(entry: BenchmarkEntry, steps: number, tuneSteps: number, measured: readonly MeasuredOptimizer[]): ModelResult {
  const { task, epochs, schedule } = entry;
  const model = task.buildModel();
  const parameters = model.countParams();
  model.dispose();
  return {
    id: task.id,
    title: task.title,
    modelSummary: task.modelSummary,
    parameters,
    data: task.data,
    batchSize: task.batchSize,
    stepsPerEpoch: task.stepsPerEpoch,
    epochs,
    steps,
    tuneSteps,
    schedule,
    scheduleDescription: describeSchedule(schedule),
    ...scoreAgainstTarget(measured),
  };
}
