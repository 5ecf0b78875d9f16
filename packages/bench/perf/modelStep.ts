/**
 * `npm run bench:model-step`: Muon's cost per training step on the models of `npm run bench`
 * (MLP 784-256-128-10, the wide MLP 784-512-512-10 and the ConvNet on MNIST, batch 128; the
 * 2-block transformer on Moby Dick characters, batch 16), against AdamW's. It answers issue 4's
 * target, "Muon step ≤ 1.5× AdamW step on the benchmark models", and issue 15's (the same at batch
 * 128 with 512-wide hidden layers, with the layer-aware schedule), which bench:step (GPT-2-sized
 * matrices) cannot: these matrices are small, so per-call overheads may decide as much as flops.
 *
 *   npm run bench:model-step [-- --models mlp,wide-mlp,convnet,transformer --runs 30 --warmup 5]
 *
 * Everything is built as the benchmark builds it: the wasm backend by `setupBackend('wasm')`
 * (1 XNNPACK thread, the training kernels installed), tasks by `createTask` (real MNIST and
 * Moby Dick batches, so the transformer's vocabulary is the corpus's), weights by
 * `initializeWeights`, optimizers by `optimizerSpec(kind).create` at the middle of each lr grid.
 * Fifteen optimizers per model (`--variants` picks; `muon-fixed-threads` and `muon-one-thread` below): the Muon hybrid (fixed 5-step `jordan` schedule) as it runs by default
 * (in Node with the addon built, its Muon half fused: the whole step in the addon's `muonStep`),
 * the same hybrid composed with the native kernel (`fused: false`: TF.js ops around
 * `fastestOrthogonalizer()`), the same hybrid with `precision: 'bfloat16'` as it runs by default
 * (fused, bfloat16 Newton–Schulz products where the addon and CPU can, else float32, said once;
 * the benchmark's `muon-bf16`), the same hybrid with the TF.js kernel forced (`gramOrthogonalizer()`,
 * the browser's path), the native and TF.js ones again with `nsSteps: 'auto'` (layer-aware
 * Newton–Schulz; it never runs fused), the Dion2 hybrid (the benchmark's `dion2`: a quarter of
 * each matrix's slices orthogonalized per step, issue 24) as it runs by default (fused: the whole
 * step in the addon's `dion2Step`), composed with the native kernel and with the TF.js kernel,
 * the cheap Muons of issue 24's done-when (the benchmark's `muon-ns3-bf16`, three `jordan`
 * iterations, and `muon-turbo-bf16`, Turbo-Muon's four, both in bfloat16 products, fused), Muon
 * with its momentum stored in bfloat16 (`muon-bf16-momentum`: the pack and unpack around the fused step), and AdamW. Issue 13's target, the whole training step ≤
 * 1.3× AdamW's, is checked beside issue 4's and 15's 1.5×.
 *
 * Each optimizer trains its own copy of the model on the same seeded batch stream, with the loop
 * of `trainRun`: `tf.variableGrads` of the task loss (plus the loss read-back), then
 * `optimizer.applyGradients(grads)` (`StepTrainer`). Times per step: the optimizer step
 * (applyGradients alone, on that step's real gradients), its CPU time (all threads: on a shared
 * machine the work done, whatever the wait) and the training step (both parts; what trainRun sums
 * into `trainSeconds`). The optimizers take turns step by step, so a change in machine load
 * hits all of them alike; the table gives the median of `--runs` steps after `--warmup` steps.
 *
 * Also printed per model: the Muon-routed matrices (`describeRouting()`), which Newton–Schulz
 * algorithm each kernel runs on them (`planOrthogonalization` under each kernel's capabilities: the
 * native addon's with syrk counted at half a gemm, the TF.js kernel's with general matmuls), and the NS flops per
 * step, with the time they need at the machine's fp32 peak (`PEAK_GFLOPS`): a lower bound of Muon's extra cost;
 * for `nsSteps: 'auto'`, the schedule each matrix holds after the last step and its flops. The
 * auto variants' measurement steps (1, 2, 4, … and every `nsSteps.every`) are left out of their
 * medians and reported apart: their extra time, and that time spread over `nsSteps.every` steps.
 * `--busy 0,2` runs every step of every optimizer once per listed count of busy processes (plain
 * `node -e 'for(;;){}'` loops this script starts, stopped with SIGSTOP while the count is lower and
 * resumed with SIGCONT, killed at the end), so that idle and busy-machine figures come from the same
 * run, interleaved step by step; each count gets its own table, with the median number of runnable
 * threads on the machine (/proc/loadavg's fourth field, sampled before each step; it counts this
 * process's running thread and the loops) and the load averages. `--variants` picks optimizers
 * (AdamW, the ratios' reference, always runs). Before each table, the threads the native kernel's
 * calls ran on (`nativeThreading()`). `muon-fixed-threads` is the default Muon with the addon's
 * thread count fixed at its maximum (`setThreads(n)`: the kernel before it followed the machine's
 * load, issue 25), `muon-one-thread` the same with it fixed at 1 (what the load-following kernel
 * ran beside busy processes before whole matrices ran side by side on all threads), both stepped
 * in turn with the others: same-run A/Bs of following the load.
 * Results go to bench-results/model-step-<time>.json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '../src/benchmark/runs/backend.js';
import { type OptimizerKind, optimizerSpec } from '../src/benchmark/protocol/optimizers.js';
import { DEFAULT_SCALE, type TaskId, createTask } from 'muon-tfjs-tasks/catalog';
import { spectrumOf } from 'muon-tfjs/diagnostics';
import { commandLine, PEAK_GFLOPS, machineInfo, median, printMachine } from 'muon-tfjs-harness';
import { STEP_COST_SEED, StepTrainer } from './stepTrainer.js';
import { describeFastestOrthogonalizer, GENERAL_MATMUL_CAPABILITIES, nativeThreading, gramOrthogonalizer, isLowerBoundStep, layerAwareSchedule, MUON_LOWER_BOUND_SLOT, MUON_MOMENTUM_SLOT, snapLowerBound, storedLowerBound, loadNativeAddon, MuonWithAdamWOptimizer, TransformOptimizer, nativeCapabilities, OPENBLAS_CAPABILITIES, type NewtonSchulzSchedule, type Orthogonalizer, planOrthogonalization, type ResolvedLayerAwareSteps, type RoutingRow, isLayerAware } from 'muon-tfjs';

const USAGE = `Usage: npm run bench:model-step [-- options]

Muon's cost per training step on the models of npm run bench and the wide MLP, with the fixed
5-step and the layer-aware (nsSteps 'auto') Newton–Schulz, against AdamW's: the optimizer step
and the whole training step, median over steps. Writes
bench-results/model-step-<time>.json.

Options:
  --models LIST    comma-separated: mlp, wide-mlp, convnet, transformer (default all four)
  --runs N         timed steps per optimizer (default 30)
  --warmup N       untimed steps first (default 5)
  --variants LIST  comma-separated optimizers (default all): muon, muon-fixed-threads,
                   muon-one-thread, muon-composed, muon-bf16, muon-auto, muon-tfjs, muon-auto-tfjs, dion2,
                   dion2-composed, dion2-tfjs, muon-ns3-bf16, muon-turbo-bf16, muon-bf16-momentum;
                   AdamW always runs
  --busy LIST      comma-separated counts of busy processes to interleave, step by step (default 0),
                   e.g. 0,2: idle and beside two CPU-bound loops in the same run
  -h, --help       this text
`;

// Parsed first, so that --help or a wrong flag never starts a measurement.
const args = commandLine({ usage: USAGE, strings: ['models', 'runs', 'warmup', 'variants', 'busy'] });

/** Issue 4: "Muon step ≤ 1.5× AdamW step on the benchmark models". */
const TARGET = 1.5;
/** Issue 13: "whole training step ≤ 1.3× AdamW's on every benchmark model at batch 128". */
const TRAIN_TARGET = 1.3;

interface Variant {
  /** What `--variants` calls it. */
  readonly key: string;
  readonly name: string;
  readonly kind: OptimizerKind;
  readonly orthogonalize?: Orthogonalizer;
  readonly fused?: boolean;
  /**
   * Fix the native kernel's thread count instead of following the load: 'all' its full count
   * whatever the load (`setThreads(n)`, the kernel before issue 25), 1 one thread for every
   * product and matrix (`setThreads(1)`, what the load-following kernel ran beside busy processes
   * before its matrices ran side by side).
   */
  readonly fixedThreads?: 'all' | 1;
}

const VARIANTS: readonly Variant[] = [
  { key: 'muon', name: 'Muon, default (fused)', kind: 'muon' },
  { key: 'muon-fixed-threads', name: 'Muon, fused, fixed threads', kind: 'muon', fixedThreads: 'all' },
  { key: 'muon-one-thread', name: 'Muon, fused, one thread', kind: 'muon', fixedThreads: 1 },
  { key: 'muon-composed', name: 'Muon, composed native', kind: 'muon', fused: false },
  { key: 'muon-bf16', name: 'Muon bf16, default (fused)', kind: 'muon-bf16' },
  { key: 'muon-auto', name: 'Muon auto-NS, default kernel', kind: 'muon-auto' },
  { key: 'muon-tfjs', name: 'Muon, TF.js kernel', kind: 'muon', orthogonalize: gramOrthogonalizer() },
  { key: 'muon-auto-tfjs', name: 'Muon auto-NS, TF.js kernel', kind: 'muon-auto', orthogonalize: gramOrthogonalizer() },
  { key: 'dion2', name: 'Dion2, default (fused)', kind: 'dion2' },
  { key: 'dion2-composed', name: 'Dion2, composed native', kind: 'dion2', fused: false },
  { key: 'dion2-tfjs', name: 'Dion2, TF.js kernel', kind: 'dion2', orthogonalize: gramOrthogonalizer() },
  { key: 'muon-ns3-bf16', name: 'Muon 3-step bf16 (fused)', kind: 'muon-ns3-bf16' },
  { key: 'muon-turbo-bf16', name: 'Turbo-Muon bf16 (fused)', kind: 'muon-turbo-bf16' },
  { key: 'muon-bf16-momentum', name: 'Muon, bfloat16 momentum (fused)', kind: 'muon-bf16-momentum' },
  { key: 'adamw', name: 'AdamW', kind: 'adamw' },
];
const VARIANT_KEYS = VARIANTS.map((v) => v.key).join(', ');
const MODELS: readonly TaskId[] = ['mlp', 'wide-mlp', 'convnet', 'transformer'];

/** The middle point of an optimizer's learning-rate grid in the benchmark. */
function middleLearningRate(kind: OptimizerKind): number {
  const { grid } = optimizerSpec(kind);
  return grid[Math.floor(grid.length / 2)] as number;
}

interface ShapeRow {
  matrix: [number, number];
  /** Newton–Schulz iterations (under nsSteps 'auto': of the matrices grouped in this row). */
  steps: number;
  count: number;
  native: 'gram' | 'plain';
  nativeFlops: number;
  tfjs: 'gram' | 'plain';
  tfjsFlops: number;
}

/**
 * The Muon matrices of a hybrid and the Newton–Schulz work on them per step: the plans (algorithm
 * and executed flops) of the native kernel (under the built addon's capabilities; OpenBLAS's, syrk
 * at half a gemm, where it is absent) and of the TF.js one.
 */
function newtonSchulzWork(optimizer: MuonWithAdamWOptimizer): ShapeRow[] {
  const capabilities = loadNativeAddon().available ? nativeCapabilities() : OPENBLAS_CAPABILITIES;
  const rows = new Map<string, ShapeRow>();
  for (const row of optimizer.describeRouting()) {
    if (row.optimizer !== 'muon' || row.matrix === undefined) continue;
    const [fanIn, fanOut] = row.matrix;
    const schedule = scheduleOf(optimizer, row.variable);
    const key = `${fanIn}x${fanOut}/${schedule.steps}`;
    const known = rows.get(key);
    if (known !== undefined) {
      known.count++;
      continue;
    }
    const native = planOrthogonalization(fanIn, fanOut, schedule, capabilities);
    const tfjs = planOrthogonalization(fanIn, fanOut, schedule, GENERAL_MATMUL_CAPABILITIES);
    rows.set(key, { matrix: [fanIn, fanOut], steps: schedule.steps, count: 1, native: native.algorithm, nativeFlops: native.flops, tfjs: tfjs.algorithm, tfjsFlops: tfjs.flops });
  }
  return [...rows.values()];
}

/** The layer-aware settings of a Muon half run under nsSteps 'auto'. */
function layerAwareSteps(optimizer: MuonWithAdamWOptimizer): ResolvedLayerAwareSteps {
  const { nsSteps } = optimizer.muonOptions;
  if (!isLayerAware(nsSteps)) throw new Error(`expected layer-aware nsSteps, got ${nsSteps}`);
  return nsSteps;
}

/** The schedule a Muon matrix runs: the fixed one, or under nsSteps 'auto' the one of the lower bound its slot holds now. */
function scheduleOf(optimizer: MuonWithAdamWOptimizer, variable: string): NewtonSchulzSchedule {
  const { schedule, nsSteps, eps } = optimizer.muonOptions;
  if (!isLayerAware(nsSteps)) return schedule;
  const slot = optimizer.getSlot(variable, MUON_LOWER_BOUND_SLOT);
  if (slot === undefined) throw new Error(`no '${MUON_LOWER_BOUND_SLOT}' slot for '${variable}': run a step first`);
  return layerAwareSchedule(storedLowerBound(slot.dataSync()), eps);
}

const mflop = (flops: number): string => (flops >= 1e8 ? (flops / 1e6).toFixed(0) : (flops / 1e6).toPrecision(3));
const boundMs = (flops: number): number => flops / (PEAK_GFLOPS * 1e9) * 1e3;

/** Prints the Muon matrices of a hybrid with their schedules and the Newton–Schulz flops per step; returns the totals. */
function printWork(title: string, work: readonly ShapeRow[]): { native: number; tfjs: number } {
  const native = work.reduce((sum, r) => sum + r.count * r.nativeFlops, 0);
  const tfjs = work.reduce((sum, r) => sum + r.count * r.tfjsFlops, 0);
  console.log(title);
  for (const r of work) {
    console.log(`  ${`${r.matrix[0]}×${r.matrix[1]}`.padEnd(10)} × ${r.count}  ${String(r.steps).padStart(2)} steps   native: ${r.native.padEnd(5)} ${mflop(r.nativeFlops).padStart(7)} MFLOP   TF.js: ${r.tfjs.padEnd(5)} ${mflop(r.tfjsFlops).padStart(7)} MFLOP`);
  }
  console.log(`  total per step: native ${mflop(native)} MFLOP (≥ ${boundMs(native).toFixed(2)} ms at ${PEAK_GFLOPS.toFixed(0)} GFLOP/s), TF.js ${mflop(tfjs)} MFLOP (≥ ${boundMs(tfjs).toFixed(2)} ms)`);
  return { native, tfjs };
}

const QUANTILES = ['q50', 'q75', 'q90'] as const;

/**
 * For each Muon matrix of a hybrid, the quantiles of its momentum now (`spectrumOf`) and the steps
 * `nsSteps: 'auto'` would run with each as its target and no cap: what a laxer or stricter target
 * than the default q90 would cost.
 */
function stepsByQuantile(optimizer: MuonWithAdamWOptimizer): { variable: string; sigma: Record<(typeof QUANTILES)[number], number>; steps: Record<(typeof QUANTILES)[number], number> }[] {
  const { eps } = optimizer.muonOptions;
  return optimizer.describeRouting().filter((r) => r.optimizer === 'muon').map((r) => {
    const momentum = optimizer.getSlot(r.variable, MUON_MOMENTUM_SLOT);
    if (momentum === undefined) throw new Error(`no momentum for '${r.variable}'`);
    const { quantiles } = spectrumOf(momentum);
    const sigma = Object.fromEntries(QUANTILES.map((q) => [q, quantiles[q]])) as Record<(typeof QUANTILES)[number], number>;
    const steps = Object.fromEntries(QUANTILES.map((q) => [q, layerAwareSchedule(snapLowerBound(Math.min(1, sigma[q])), eps).steps])) as Record<(typeof QUANTILES)[number], number>;
    return { variable: r.variable, sigma, steps };
  });
}

function hybridOf(trainer: StepTrainer): MuonWithAdamWOptimizer {
  if (!(trainer.optimizer instanceof MuonWithAdamWOptimizer)) throw new Error('expected the Muon hybrid');
  return trainer.optimizer;
}

/**
 * `count` CPU-bound loops (`node -e 'for (;;) {}'`), started stopped: `use(n)` lets the first `n`
 * run (SIGCONT) and stops the rest (SIGSTOP), so that load levels switch between two steps without
 * starting processes; `end()` kills them all.
 */
function busyLoops(count: number): { use(n: number): void; end(): void } {
  const loops: ChildProcess[] = Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  const end = (): void => {
    for (const loop of loops) loop.kill('SIGKILL');
  };
  process.once('exit', end);
  return {
    use(n) {
      loops.forEach((loop, i) => {
        // A loop that died would make a busy table an idle one, silently: refuse to go on.
        const state = processState(loop.pid);
        if (state === undefined || state === 'Z' || state === 'X') throw new Error(`busy loop ${i + 1} (pid ${String(loop.pid)}) is gone (state ${state ?? 'none'}); the busy-machine figures would be idle ones`);
        loop.kill(i < n ? 'SIGCONT' : 'SIGSTOP');
      });
    },
    end,
  };
}

/** A process's state letter from /proc/<pid>/stat (R, S, T, Z, ...), undefined where there is none. */
function processState(pid: number | undefined): string | undefined {
  if (pid === undefined) return undefined;
  try {
    // The name in parentheses may hold spaces; the state follows its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** Threads runnable on the machine now: /proc/loadavg's fourth field (`running/total`), NaN where there is none. */
function runnableNow(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[3]?.split('/')[0]);
  } catch {
    return Number.NaN;
  }
}

const loadAverages = (): number[] => loadavg().map((l) => Number(l.toFixed(2)));

/** How often each value occurs, as `value (count)`, most frequent first. */
function tally(values: readonly (string | number)[]): string {
  const counts = new Map<string | number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([v, n]) => `${v} (${n})`).join(', ');
}

async function main(): Promise<void> {
  const models = (args['models'] ?? MODELS.join(',')).split(',') as TaskId[];
  for (const id of models) {
    if (!MODELS.includes(id)) throw new Error(`--models takes ${MODELS.join(', ')}; got '${id}'`);
  }
  const runs = Number(args['runs'] ?? 30);
  const warmup = Number(args['warmup'] ?? 5);
  if (!(runs >= 1) || !(warmup >= 0)) throw new Error('--runs must be ≥ 1 and --warmup ≥ 0');
  const keys = args['variants']?.split(',') ?? VARIANTS.map((v) => v.key);
  const unknown = keys.filter((k) => !VARIANTS.some((v) => v.key === k));
  if (unknown.length > 0) throw new Error(`--variants takes ${VARIANT_KEYS}; got '${unknown.join(', ')}'`);
  const variants = VARIANTS.filter((v) => v.kind === 'adamw' || keys.includes(v.key));
  const busyCounts = (args['busy'] ?? '0').split(',').map(Number);
  if (!busyCounts.every((n) => Number.isInteger(n) && n >= 0) || new Set(busyCounts).size !== busyCounts.length) {
    throw new Error(`--busy takes distinct counts of busy processes ≥ 0, e.g. 0,2; got '${args['busy'] ?? ''}'`);
  }
  const { simd } = await setupBackend('wasm');
  const machine = machineInfo();
  printMachine(machine);
  const load = loadAverages();
  console.log(`backend ${tf.getBackend()} (setupBackend: 1 XNNPACK thread, SIMD ${String(simd)}); fastestOrthogonalizer() here: ${JSON.stringify(describeFastestOrthogonalizer())}`);
  console.log(`learning rates (middle of the grids): Muon ${middleLearningRate('muon')}, AdamW ${middleLearningRate('adamw')} (also the hybrid's AdamW group); median of ${runs} steps after ${warmup}; load average ${load.join(' ')}`);
  if (busyCounts.some((n) => n > 0)) console.log(`interleaved, step by step: ${busyCounts.map((n) => `${n} busy process${n === 1 ? '' : 'es'}`).join(', ')}`);
  console.log('');

  const busy = busyLoops(Math.max(...busyCounts));
  const results: Record<string, unknown>[] = [];
  const summary: string[] = [];
  try {
    for (const id of models) results.push(measureModel(id, variants, busyCounts, busy, runs, warmup, summary));
  } finally {
    busy.end();
  }
  console.log(`Targets: Muon step ≤ ${TARGET}× AdamW step (issues 4 and 15); whole training step ≤ ${TRAIN_TARGET}× (issue 13)`);
  for (const line of summary) console.log(`  ${line}`);

  mkdirSync('bench-results', { recursive: true });
  const file = `bench-results/model-step-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify({ benchmark: 'model-step', backend: tf.getBackend(), simd, machine, loadAverage: load, loadAverageAtEnd: loadAverages(), runs, warmup, busy: busyCounts, seed: STEP_COST_SEED, target: TARGET, trainTarget: TRAIN_TARGET, peakGflops: PEAK_GFLOPS, results }, null, 2));
  console.log(`\nwritten: ${file}`);
}

/** Trains every variant on model `id`, step by step in turns (the order rotated each step), once per busy level per step; prints and returns its tables. */
function measureModel(id: TaskId, variants: readonly Variant[], busyCounts: readonly number[], busy: { use(n: number): void }, runs: number, warmup: number, summary: string[]): Record<string, unknown> {
  const task = createTask(id, DEFAULT_SCALE);
  const trainers = variants.map(
    (variant) =>
      new StepTrainer(task, optimizerSpec(variant.kind), middleLearningRate(variant.kind), middleLearningRate('adamw'), {
        ...(variant.orthogonalize && { orthogonalize: variant.orthogonalize }),
        ...(variant.fused !== undefined && { fused: variant.fused }),
      }),
  );
  const trainerOf = (key: string): StepTrainer | undefined => trainers[variants.findIndex((v) => v.key === key)];
  const first = trainers[0] as StepTrainer;
  // The Muon hybrid whose Newton–Schulz work is printed: by its variant's kind (not AdamW, not Dion2,
  // whose group is also labelled 'muon'), so that a run of Dion2 alone prints none.
  const muonTrainer = trainers.find((_, i) => !['adamw', 'dion2'].includes(variants[i]?.kind as string));
  const hybrid = muonTrainer === undefined ? undefined : hybridOf(muonTrainer);
  const autoTrainer = trainerOf('muon-auto') ?? trainerOf('muon-auto-tfjs');
  const parameters = first.model.countParams();
  const routing: RoutingRow[] = hybrid?.describeRouting() ?? [];
  const muonParameters = routing.filter((r) => r.optimizer === 'muon').reduce((sum, r) => sum + r.shape.reduce((a, b) => a * b, 1), 0);

  console.log(`== ${task.title}: ${task.modelSummary}; batch ${task.batchSize} × ${task.data.unit}; ${parameters} parameters, ${muonParameters} of them Muon's`);
  const work = hybrid === undefined ? [] : newtonSchulzWork(hybrid);
  const fixedFlops = hybrid === undefined ? { native: 0, tfjs: 0 } : printWork(`Muon matrices [fanIn, fanOut] × count, fixed schedule (${hybrid.muonOptions.nsSteps} steps, '${String(hybrid.muonOptions.coefficients)}'), Newton–Schulz per step:`, work);

  // Per trainer, the busy level of each recorded step; per level, the runnable threads before each
  // step and, after each native step, the threading of its call.
  const levelOf = trainers.map((): number[] => []);
  const status = loadNativeAddon();
  const maximumThreads = status.available ? status.addon.info().threads : 1;
  const runnable = new Map<number, number[]>(busyCounts.map((n) => [n, []]));
  const nativeThreads = new Map<number, string[]>(busyCounts.map((n) => [n, []]));
  for (let s = 0; s < warmup + runs; s++) {
    // Alternate the order of the levels, so that neither always follows the other.
    for (const level of s % 2 === 0 ? busyCounts : [...busyCounts].reverse()) {
      busy.use(level);
      // Rotate the order of the optimizers too: on a busy machine the step that follows a
      // particular one (or the loops' resumption) can be slowed by it, and none should always be.
      trainers.forEach((_, j) => {
        const k = (j + s) % trainers.length;
        const trainer = trainers[k] as (typeof trainers)[number];
        const record = s >= warmup;
        if (record) (runnable.get(level) as number[]).push(runnableNow());
        const before = nativeThreading()?.calls ?? 0;
        const addon = loadNativeAddon();
        const fixedThreads = (variants[k] as Variant).fixedThreads;
        if (addon.available) addon.addon.setThreads(fixedThreads === 1 ? 1 : maximumThreads, fixedThreads === undefined);
        trainer.step(record);
        const threading = nativeThreading();
        const last = threading?.lastCall;
        if (record && last !== undefined && last !== null && (threading?.calls ?? 0) > before) {
          const sideBySide = last.sideBySide > 1 ? ` (matrices side by side on ${last.sideBySide})` : '';
          (nativeThreads.get(level) as string[]).push(`${(variants[k] as Variant).key} on ${last.threads} thread${last.threads === 1 ? '' : 's'}${sideBySide}`);
        }
        if (record) (levelOf[k] as number[]).push(level);
      });
    }
  }
  busy.use(0);
  let autoWork: ShapeRow[] = [];
  let autoFlops = { native: 0, tfjs: 0 };
  let quantileSteps: ReturnType<typeof stepsByQuantile> = [];
  if (autoTrainer !== undefined) {
    const auto = hybridOf(autoTrainer);
    autoWork = newtonSchulzWork(auto);
    const { quantile, every: autoEvery } = layerAwareSteps(auto);
    autoFlops = printWork(`nsSteps 'auto' (${quantile}, re-measured every ${autoEvery} steps): the schedules after step ${warmup + runs}:`, autoWork);
    console.log(`  Newton–Schulz flops, auto / fixed: native ${(autoFlops.native / fixedFlops.native).toFixed(2)}, TF.js ${(autoFlops.tfjs / fixedFlops.tfjs).toFixed(2)}`);
    quantileSteps = stepsByQuantile(auto);
    console.log('  the momentum\'s quantiles now, and the steps each would need as the target (uncapped, up to 8):');
    for (const row of quantileSteps) console.log(`    ${row.variable.padEnd(28)} ${QUANTILES.map((q) => `${q} ${row.sigma[q].toExponential(1)} → ${row.steps[q]}`).join('   ')}`);
  }
  for (const key of ['muon', 'muon-bf16', 'muon-ns3-bf16', 'muon-turbo-bf16', 'muon-bf16-momentum', 'dion2']) {
    const trainer = trainerOf(key);
    if (trainer === undefined) continue;
    if (!(trainer.optimizer instanceof TransformOptimizer)) throw new Error(`'${key}' is expected to be one of the library's optimizers`);
    const execution = trainer.optimizer.describeExecution().map(({ label, lastStep, reason }) => `${label}: ${lastStep}${lastStep === 'fused' ? '' : ` (${reason})`}`);
    console.log(`'${(variants.find((v) => v.key === key) as Variant).name}' ran its last step as ${execution.join(', ')}`);
  }
  if (trainerOf('muon-bf16') !== undefined) console.log(`'Muon bf16, default (fused)' ran its Newton–Schulz products in ${describeFastestOrthogonalizer('bfloat16').precision}`);

  const levels = busyCounts.map((level) => {
    const samples = runnable.get(level) as number[];
    const threads = nativeThreads.get(level) as string[];
    if (busyCounts.length > 1 || level > 0) console.log(`-- ${level} busy process${level === 1 ? '' : 'es'}: runnable threads on the machine before a step, median ${median(samples)} (${Math.min(...samples)}–${Math.max(...samples)})`);
    if (threads.length > 0) console.log(`   the native kernel's calls ran on ${tally(threads)}`);
    const rows = tableOf(task.id, variants, trainers, (k) => (levelOf[k] as number[]).map((l) => l === level), summary, busyCounts.length > 1 ? ` (busy ${level})` : '');
    return { busy: level, runnableMedian: median(samples), runnableRange: [Math.min(...samples), Math.max(...samples)], nativeThreads: tally(threads), rows };
  });
  console.log('');
  for (const trainer of trainers) trainer.dispose();
  return {
    model: task.id,
    title: task.title,
    modelSummary: task.modelSummary,
    batchSize: task.batchSize,
    example: task.data.unit,
    parameters,
    muonParameters,
    muonMatrices: work,
    newtonSchulzFlops: fixedFlops,
    lowerBoundMsAtPeak: { native: Number(boundMs(fixedFlops.native).toFixed(3)), tfjs: Number(boundMs(fixedFlops.tfjs).toFixed(3)) },
    autoMuonMatrices: autoWork,
    autoNewtonSchulzFlops: autoFlops,
    autoStepsByQuantile: quantileSteps,
    rows: (levels[0] as (typeof levels)[number]).rows,
    levels,
  };
}

/** Prints the table of one busy level (the recorded steps `inLevel(k)` selects, per trainer k) and returns its rows. */
function tableOf(model: string, variants: readonly Variant[], trainers: readonly StepTrainer[], inLevel: (k: number) => boolean[], summary: string[], label: string): Record<string, unknown>[] {
  const adamIndex = variants.findIndex((v) => v.kind === 'adamw');
  const adam = trainers[adamIndex] as StepTrainer;
  const adamSelected = inLevel(adamIndex);
  const adamOptimizer = median(adam.optimizerMs.filter((_, i) => adamSelected[i]));
  const adamTrain = median(adam.trainMs.filter((_, i) => adamSelected[i]));
  console.log(`${'optimizer'.padEnd(30)} ${'optimizer step'.padStart(15)} ${'(its CPU time)'.padStart(15)} ${'training step'.padStart(15)} ${'opt. vs AdamW'.padStart(14)} ${'train vs AdamW'.padStart(15)}  ≤ ${TARGET}× opt. / train, ≤ ${TRAIN_TARGET}× train`);
  const measurements: string[] = [];
  const rows = trainers.map((trainer, k) => {
    const variant = variants[k] as Variant;
    const isMuon = variant.kind !== 'adamw';
    const selected = inLevel(k);
    // Under 'auto', steps that re-measure the spectra are timed apart (see the file's comment).
    const every = variant.kind === 'muon-auto' ? layerAwareSteps(hybridOf(trainer)).every : undefined;
    const measuring = trainer.steps.map((step) => every !== undefined && isLowerBoundStep(step, every));
    const plain = (times: number[]): number[] => times.filter((_, i) => selected[i] && !measuring[i]);
    const optimizerMs = median(plain(trainer.optimizerMs));
    const optimizerCpuMs = median(plain(trainer.optimizerCpuMs));
    const trainMs = median(plain(trainer.trainMs));
    let measurement: Record<string, number> | null = null;
    if (every !== undefined && measuring.some((m, i) => m && selected[i])) {
      const measured = trainer.optimizerMs.filter((_, i) => measuring[i] && selected[i]);
      const extraMs = median(measured) - optimizerMs;
      measurement = { steps: measured.length, extraMsPerMeasurement: Number(extraMs.toFixed(3)), amortizedMsPerStep: Number((extraMs / every).toFixed(4)) };
      measurements.push(`  ${variant.name}: a measurement step costs ${extraMs.toFixed(1)} ms more (median of ${measured.length}: steps ${trainer.steps.filter((_, i) => measuring[i] && selected[i]).join(', ')}), ${(extraMs / every).toFixed(2)} ms per step over nsSteps.every = ${every}, ${((extraMs / every / trainMs) * 100).toFixed(1)}% of its training step`);
    }
    const optimizerRatio = optimizerMs / adamOptimizer;
    const trainRatio = trainMs / adamTrain;
    const met = (ratio: number, target = TARGET): string => (ratio <= target ? 'yes' : 'no');
    console.log(
      `${variant.name.padEnd(30)} ${`${optimizerMs.toFixed(2)} ms`.padStart(15)} ${`${optimizerCpuMs.toFixed(2)} ms`.padStart(15)} ${`${trainMs.toFixed(2)} ms`.padStart(15)} ` +
        `${(isMuon ? `${optimizerRatio.toFixed(2)}×` : '—').padStart(14)} ${(isMuon ? `${trainRatio.toFixed(2)}×` : '—').padStart(15)}  ${isMuon ? `${met(optimizerRatio)} / ${met(trainRatio)}, ${met(trainRatio, TRAIN_TARGET)}` : ''}`,
    );
    if (isMuon) summary.push(`${model.padEnd(12)} ${`${variant.name}${label}`.padEnd(38)} optimizer step ${optimizerRatio.toFixed(2)}× (≤ ${TARGET}×: ${met(optimizerRatio)}), training step ${trainRatio.toFixed(2)}× (≤ ${TARGET}×: ${met(trainRatio)}; ≤ ${TRAIN_TARGET}×: ${met(trainRatio, TRAIN_TARGET)})`);
    return {
      optimizer: variant.name,
      kind: variant.kind,
      learningRate: middleLearningRate(variant.kind),
      optimizerStepMs: Number(optimizerMs.toFixed(3)),
      optimizerStepCpuMs: Number(optimizerCpuMs.toFixed(3)),
      trainStepMs: Number(trainMs.toFixed(3)),
      optimizerRatio: isMuon ? Number(optimizerRatio.toFixed(3)) : null,
      trainRatio: isMuon ? Number(trainRatio.toFixed(3)) : null,
      optimizerStepMetTarget: isMuon ? optimizerRatio <= TARGET : null,
      trainStepMetTarget: isMuon ? trainRatio <= TARGET : null,
      trainStepMetIssue13Target: isMuon ? trainRatio <= TRAIN_TARGET : null,
      measurement,
      steps: trainer.steps.filter((_, i) => selected[i]),
      optimizerStepsMs: trainer.optimizerMs.filter((_, i) => selected[i]).map((t) => Number(t.toFixed(3))),
      trainStepsMs: trainer.trainMs.filter((_, i) => selected[i]).map((t) => Number(t.toFixed(3))),
    };
  });
  for (const line of measurements) console.log(line);
  return rows;
}

await main();
