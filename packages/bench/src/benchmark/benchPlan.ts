import { DEFAULT_OPTIMIZER_KINDS, OPTIMIZER_KINDS, type OptimizerKind } from './optimizers.js';
import { DEFAULT_SCALE, DEFAULT_TASK_IDS, FULL_SCALE, TASK_IDS, type TaskId, type TaskScale } from './tasks.js';

/** What a `bench` invocation runs, after defaults and flags are combined. */
export interface BenchPlan {
  mode: 'default' | 'full';
  models: TaskId[];
  optimizers: OptimizerKind[];
  seeds: number[];
  /** Epochs per model. */
  epochs: Record<TaskId, number>;
  gridFraction: number;
  scale: TaskScale;
}

/** Epochs per model in the default (≈ 5 min on 2 cores) and full runs. */
export const DEFAULT_EPOCHS: Record<TaskId, number> = { 'mlp': 3, 'convnet': 1, 'transformer': 2, 'fashion-mlp': 1, 'fashion-convnet': 1, 'wide-mlp': 1 };
export const FULL_EPOCHS: Record<TaskId, number> = { 'mlp': 10, 'convnet': 3, 'transformer': 4, 'fashion-mlp': 3, 'fashion-convnet': 1, 'wide-mlp': 3 };

/** Flags of `muon-tfjs bench` (strings as typed; parsed and checked here). */
export interface BenchFlags {
  full?: boolean;
  models?: string;
  optimizers?: string;
  epochs?: string;
  seeds?: string;
}

function parseList<T extends string>(value: string, allowed: readonly T[], flag: string): T[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) {
      throw new Error(`--${flag}: unknown value '${item}'; choose from ${allowed.join(', ')}`);
    }
  }
  if (items.length === 0) throw new Error(`--${flag}: give at least one of ${allowed.join(', ')}`);
  return [...new Set(items)] as T[];
}

function parsePositiveInteger(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag}: expected a positive integer, got '${value}'`);
  return n;
}

/**
 * Combines the defaults with the flags. `--seeds N` runs seeds 1..N; `--seeds 3,7` runs those
 * seeds. `--epochs N` sets every model's epochs.
 */
export function makeBenchPlan(flags: BenchFlags, fashionAvailable: boolean): BenchPlan {
  const full = flags.full === true;
  const defaultModels: TaskId[] = full && fashionAvailable ? [...DEFAULT_TASK_IDS, 'fashion-mlp', 'fashion-convnet'] : [...DEFAULT_TASK_IDS];
  const models = flags.models === undefined ? defaultModels : parseList(flags.models, TASK_IDS, 'models');
  const optimizers = flags.optimizers === undefined ? [...DEFAULT_OPTIMIZER_KINDS] : parseList(flags.optimizers, OPTIMIZER_KINDS, 'optimizers');
  let seeds = full ? [1, 2, 3] : [1];
  if (flags.seeds !== undefined) {
    seeds = flags.seeds.includes(',')
      ? flags.seeds.split(',').map((s) => parsePositiveInteger(s.trim(), 'seeds'))
      : Array.from({ length: parsePositiveInteger(flags.seeds, 'seeds') }, (_, i) => i + 1);
  }
  const epochs = { ...(full ? FULL_EPOCHS : DEFAULT_EPOCHS) };
  if (flags.epochs !== undefined) {
    const n = parsePositiveInteger(flags.epochs, 'epochs');
    for (const k of TASK_IDS) epochs[k] = n;
  }
  return { mode: full ? 'full' : 'default', models, optimizers, seeds, epochs, gridFraction: 0.25, scale: full ? FULL_SCALE : DEFAULT_SCALE };
}
