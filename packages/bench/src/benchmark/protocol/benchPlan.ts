import { DEFAULT_OPTIMIZER_KINDS, OPTIMIZER_KINDS, type OptimizerKind } from './optimizers.js';
import { DEFAULT_PROTOCOL, type BenchMode, type BenchmarkEntry, type TuningProtocol } from './tuningProtocol.js';
import { DEFAULT_SCALE, FULL_SCALE, TASK_IDS, createTask, defaultTaskIds, type TaskId, type TaskScale } from 'muon-tfjs-tasks/catalog';
import { TASK_SCHEDULES } from './taskSchedules.js';

/** What a `bench` invocation runs, after defaults and flags are combined. */
export interface BenchPlan {
  mode: BenchMode;
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

/**
 * The `--quick` run: the comparison a newcomer asks for first, Muon (the hybrid with AdamW) against
 * AdamW, on the smallest model on which the default run separates them beyond seed noise, the MLP
 * (Fashion-MNIST: Muon reached AdamW's final loss in 117 ± 1 steps against 181 ± 17, 3 seeds; the
 * ConvNet's verdict flipped between runs of the same protocol), with the default run's budget,
 * schedule and tuning, on 3 seeds so that the verdict can tell a difference from seed noise.
 */
export const QUICK_OPTIMIZERS: readonly OptimizerKind[] = ['muon', 'adamw'];
export const QUICK_SEEDS: readonly number[] = [1, 2, 3];
/** The quick run's model: the Fashion-MNIST MLP where the data set is installed, else the MNIST one. */
export function quickTaskIds(fashionAvailable: boolean): TaskId[] {
  return [fashionAvailable ? 'fashion-mlp' : 'mlp'];
}

/** Flags of `muon-tfjs bench` (strings as typed; parsed and checked here). */
export interface BenchFlags {
  full?: boolean;
  quick?: boolean;
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
 * the data set is installed, else the MNIST ones, and the transformer; with `--quick` the MLP
 * alone, Muon and AdamW, 3 seeds (flags given still win).
 */
export function makeBenchPlan(flags: BenchFlags, fashionAvailable: boolean): BenchPlan {
  const full = flags.full === true;
  const quick = flags.quick === true;
  if (full && quick) throw new Error('--full and --quick: choose one (--quick is minutes, --full hours)');
  const models = flags.models !== undefined ? parseList(flags.models, TASK_IDS, 'models') : quick ? quickTaskIds(fashionAvailable) : defaultTaskIds(fashionAvailable);
  const optimizers = flags.optimizers !== undefined ? parseList(flags.optimizers, OPTIMIZER_KINDS, 'optimizers') : [...(quick ? QUICK_OPTIMIZERS : DEFAULT_OPTIMIZER_KINDS)];
  let seeds = full ? [1, 2, 3] : quick ? [...QUICK_SEEDS] : [1];
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
  return { mode: full ? 'full' : quick ? 'quick' : 'default', models, optimizers, seeds, epochs, protocol, scale: full ? FULL_SCALE : DEFAULT_SCALE };
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
