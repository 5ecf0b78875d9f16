import type { TaskId } from 'muon-tfjs-tasks/catalog';
import type { ScheduleSpec } from './runSchedule.js';

/**
 * The learning-rate schedule of each model, the same for every optimizer on it: linear decay to
 * 0; the transformer also warms up over its first 10 % of steps (the usual practice for
 * pre-LN transformers and Adam-type methods, whose first steps are the largest), the image models,
 * which train stably from the first step, do not.
 */
export const TASK_SCHEDULES: Readonly<Record<TaskId, ScheduleSpec>> = {
  'mlp': { shape: 'linearDecay', warmupFraction: 0 },
  'convnet': { shape: 'linearDecay', warmupFraction: 0 },
  'fashion-mlp': { shape: 'linearDecay', warmupFraction: 0 },
  'fashion-convnet': { shape: 'linearDecay', warmupFraction: 0 },
  'wide-mlp': { shape: 'linearDecay', warmupFraction: 0 },
  'transformer': { shape: 'linearDecay', warmupFraction: 0.1 },
  'lstm': { shape: 'linearDecay', warmupFraction: 0 },
};
