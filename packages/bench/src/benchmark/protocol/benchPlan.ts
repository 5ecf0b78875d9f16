import { DEFAULT_OPTIMIZER_KINDS, OPTIMIZER_KINDS, type OptimizerKind } from './optimizers.js';
import { DEFAULT_PROTOCOL, type BenchmarkEntry, type TuningProtocol } from './tuningProtocol.js';
import { DEFAULT_SCALE, FULL_SCALE, TASK_IDS, createTask, defaultTaskIds, type TaskId, type TaskScale } from 'muon-tfjs-tasks/catalog';
import { TASK_SCHEDULES } from './taskSchedules.js';

/** What a `bench` invocation runs, after defaults and flags are combined. */
export interface BenchPlan {
  mode: 'default' | 'full';
  models: TaskId[];
  optimizers: OptimizerKind[];
  seeds: number[];
  /** Epochs per model. */
  epochs: Record<TaskId, number>;
  protocol: TuningProtocol;
  scale: TaskScale;
}

/**
 * Epochs per model in the default (≈ 15 min of CPU: Fashion-MNIST MLP 200 steps, ConvNet 100,
 * transformer 60) and full runs.
 */
export const DEFAULT_EPOCHS: Record<TaskId, number> = { 'mlp': 3, 'convnet': 1, 'transformer': 2, 'fashion-mlp': 2, 'fashion-convnet': 1, 'wide-mlp': 1, 'lstm': 2 };
export const FULL_EPOCHS: Record<TaskId, number> = { 'mlp': 10, 'convnet': 3, 'transformer': 4, 'fashion-mlp': 3, 'fashion-convnet': 1, 'wide-mlp': 3, 'lstm': 4 };
/** The `--full` run tunes at half the budget. */
export const FULL_PROTOCOL: TuningProtocol = { tuneFraction: 0.5, maxExtensions: 3 };

/** Flags of `muon-tfjs bench` (strings as typed; parsed and checked here). */
export interface BenchFlags {
  full?: boolean;
  models?: string;
  optimizers?: string;
  epochs?: string;
  seeds?: string;
  tuneFraction?: string;
  maxExtensions?: string;
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
 * seeds. `--epochs N` sets every model's epochs. Without `--models`: the Fashion-MNIST models when
 * the data set is installed, else the MNIST ones, and the transformer.
 */
export function makeBenchPlan(flags: BenchFlags, fashionAvailable: boolean): BenchPlan {
  const full = flags.full === true;
  const models = flags.models === undefined ? defaultTaskIds(fashionAvailable) : parseList(flags.models, TASK_IDS, 'models');
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
  const protocol = { ...(full ? FULL_PROTOCOL : DEFAULT_PROTOCOL) };
  if (flags.tuneFraction !== undefined) {
    const f = Number(flags.tuneFraction);
    if (!(f >= 0.25 && f <= 1)) throw new Error(`--tune-fraction: expected a number in [0.25, 1], got '${flags.tuneFraction}'`);
    protocol.tuneFraction = f;
  }
  if (flags.maxExtensions !== undefined) {
    const n = Number(flags.maxExtensions);
    if (!(Number.isInteger(n) && n >= 0)) throw new Error(`--max-extensions: expected an integer ≥ 0, got '${flags.maxExtensions}'`);
    protocol.maxExtensions = n;
  }
  return { mode: full ? 'full' : 'default', models, optimizers, seeds, epochs, protocol, scale: full ? FULL_SCALE : DEFAULT_SCALE };
}

/**
 * The plan's models as {@link runBenchmark} entries (data loaded): each model with its epochs and
 * schedule. With `optimizerSpec` and variants of one's own, this runs the protocol on any set of
 * optimizers:
 * @example
 * const plan = makeBenchPlan({ models: 'fashion-convnet', seeds: '3' }, fashionMnistAvailable());
 * const results = runBenchmark({ entries: planEntries(plan), optimizers: [optimizerSpec('adamw'), optimizerSpec('muon'), myVariant],
 *   seeds: plan.seeds, protocol: plan.protocol, mode: plan.mode, backend: 'wasm', simd: true, command: 'my study' });
 * await writeOutputs(results, 'my-study');
 */
export function planEntries(plan: BenchPlan): BenchmarkEntry[] {
  return plan.models.map((id) => ({ task: createTask(id, plan.scale), epochs: plan.epochs[id], schedule: TASK_SCHEDULES[id] }));
}
