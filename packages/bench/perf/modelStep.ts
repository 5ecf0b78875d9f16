/**
 * `npm run bench:model-step`: Muon's cost per training step on the three models of `npm run bench`
 * (MLP 784-256-128-10 and ConvNet on MNIST, batch 128; the 2-block transformer on Moby Dick
 * characters, batch 16), against AdamW's. It answers issue 4's last target, "Muon step ≤ 1.5×
 * AdamW step on the benchmark models", which bench:step (GPT-2-sized matrices) cannot: these
 * matrices are small (at most 784×256), so per-call overheads, not Newton–Schulz flops, may decide.
 *
 *   npm run bench:model-step [-- --models mlp,convnet,transformer --runs 30 --warmup 5]
 *
 * Everything is built as the benchmark builds it: the wasm backend by `setupBackend('wasm')`
 * (1 XNNPACK thread, the training kernels installed), tasks by `createTask` (real MNIST and
 * Moby Dick batches, so the transformer's vocabulary is the corpus's), weights by
 * `initializeWeights`, optimizers by `optimizerSpec(kind).create` at the middle of each lr grid.
 * Four optimizers per model: the Muon hybrid as it runs by default (in Node with the addon built,
 * its Muon half fused: the whole step in the addon's `muonStep`), the same hybrid composed with the
 * native kernel (`fused: false`: TF.js ops around `fastestOrthogonalizer()`), the same hybrid with
 * the TF.js kernel forced (`gramOrthogonalizer()`, the browser's path), and AdamW.
 *
 * Besides the three models of `npm run bench`, `mlp-512`: the same MNIST MLP with two 512-wide
 * hidden layers (784-512-512-10, batch 128), where Muon's matrices weigh more against the model.
 *
 * Each optimizer trains its own copy of the model on the same seeded batch stream, with the loop
 * of `trainRun`: `tf.variableGrads` of the task loss (plus the loss read-back), then
 * `optimizer.applyGradients(grads)`. Two times per step: the optimizer step (applyGradients alone,
 * on that step's real gradients) and the training step (both parts; what trainRun sums into
 * `trainSeconds`). The three optimizers take turns step by step, so a change in machine load
 * hits all of them alike; the table gives the median of `--runs` steps after `--warmup` steps.
 *
 * Also printed per model: the Muon-routed matrices (`describeRouting()`), which Newton–Schulz
 * algorithm each kernel runs on them (`planOrthogonalization` under each kernel's capabilities: the
 * native addon's with syrk counted at half a gemm, the TF.js kernel's with general matmuls), and the NS flops per
 * step, with the time they need at the machine's fp32 peak (`PEAK_GFLOPS`): a lower bound of Muon's extra cost.
 * Results go to bench-results/model-step-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '../src/benchmark/backend.js';
import { type OptimizerKind, optimizerSpec } from '../src/benchmark/optimizers.js';
import type { Task } from '../src/benchmark/task.js';
import { loadMnist } from '../src/benchmark/data/mnist.js';
import { ImageClassificationTask, splitIndices } from '../src/benchmark/imageClassificationTask.js';
import { buildMlp, MLP_DEFAULT } from '../src/benchmark/models/mlp.js';
import { DEFAULT_SCALE, SPLIT_SEED, createTask } from '../src/benchmark/tasks.js';
import { commandLine } from './commandLine.js';
import { STEP_COST_SEED, StepTrainer } from './stepTrainer.js';
import { PEAK_GFLOPS, machineInfo, median, printMachine } from './machine.js';
import { describeFastestOrthogonalizer, GENERAL_MATMUL_CAPABILITIES, gramOrthogonalizer, loadNativeAddon, MuonWithAdamWOptimizer, nativeCapabilities, OPENBLAS_CAPABILITIES, type Orthogonalizer, planOrthogonalization, type RoutingRow } from 'muon-tfjs';

const USAGE = `Usage: npm run bench:model-step [-- options]

Muon's cost per training step on the three models of npm run bench, against AdamW's: the
optimizer step and the whole training step, median over steps. Writes
bench-results/model-step-<time>.json.

Options:
  --models LIST    comma-separated: mlp, mlp-512, convnet, transformer (default all four)
  --runs N         timed steps per optimizer (default 30)
  --warmup N       untimed steps first (default 5)
  -h, --help       this text
`;

// Parsed first, so that --help or a wrong flag never starts a measurement.
const args = commandLine({ usage: USAGE, strings: ['models', 'runs', 'warmup'] });

/** Issue 4: "Muon step ≤ 1.5× AdamW step on the benchmark models". */
const TARGET = 1.5;
/** Issue 13: "whole training step ≤ 1.3× AdamW's on every benchmark model at batch 128". */
const TRAIN_TARGET = 1.3;

interface Variant {
  readonly name: string;
  readonly kind: OptimizerKind;
  readonly orthogonalize?: Orthogonalizer;
  readonly fused?: boolean;
}

const VARIANTS: readonly Variant[] = [
  { name: 'Muon hybrid, default (fused)', kind: 'muon' },
  { name: 'Muon hybrid, composed native', kind: 'muon', fused: false },
  { name: 'Muon hybrid, TF.js kernel', kind: 'muon', orthogonalize: gramOrthogonalizer() },
  { name: 'AdamW', kind: 'adamw' },
];

/** The models: those of `npm run bench`, and the MNIST MLP with 512-wide hidden layers. */
const MODEL_IDS = ['mlp', 'mlp-512', 'convnet', 'transformer'] as const;
type ModelId = (typeof MODEL_IDS)[number];

/** The task of a model id: `createTask`'s, or for `mlp-512` the MLP task with a 784-512-512-10 model. */
function modelTask(id: ModelId): Task {
  if (id !== 'mlp-512') return createTask(id, DEFAULT_SCALE);
  const mnist = loadMnist();
  return new ImageClassificationTask({
    id, title: 'MLP on MNIST, 512-wide', modelSummary: 'MLP 784-512-512-10, ReLU', dataset: mnist, splits: splitIndices(mnist.count, 1000, 2000, SPLIT_SEED),
    batchSize: 128, inputLayout: 'flat', buildModel: () => buildMlp({ ...MLP_DEFAULT, hidden: [512, 512] }),
  });
}

/** The middle point of an optimizer's learning-rate grid in the benchmark. */
function middleLearningRate(kind: OptimizerKind): number {
  const { grid } = optimizerSpec(kind);
  return grid[Math.floor(grid.length / 2)] as number;
}

interface ShapeRow {
  matrix: [number, number];
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
  const { schedule } = optimizer.muonOptions;
  const capabilities = loadNativeAddon().available ? nativeCapabilities() : OPENBLAS_CAPABILITIES;
  const rows = new Map<string, ShapeRow>();
  for (const row of optimizer.describeRouting()) {
    if (row.optimizer !== 'muon' || row.matrix === undefined) continue;
    const [fanIn, fanOut] = row.matrix;
    const key = `${fanIn}x${fanOut}`;
    const known = rows.get(key);
    if (known !== undefined) {
      known.count++;
      continue;
    }
    const native = planOrthogonalization(fanIn, fanOut, schedule, capabilities);
    const tfjs = planOrthogonalization(fanIn, fanOut, schedule, GENERAL_MATMUL_CAPABILITIES);
    rows.set(key, { matrix: [fanIn, fanOut], count: 1, native: native.algorithm, nativeFlops: native.flops, tfjs: tfjs.algorithm, tfjsFlops: tfjs.flops });
  }
  return [...rows.values()];
}

const mflop = (flops: number): string => (flops >= 1e8 ? (flops / 1e6).toFixed(0) : (flops / 1e6).toPrecision(3));
const boundMs = (flops: number): number => flops / (PEAK_GFLOPS * 1e9) * 1e3;

async function main(): Promise<void> {
  const models = (args['models'] ?? MODEL_IDS.join(',')).split(',') as ModelId[];
  for (const id of models) {
    if (!MODEL_IDS.includes(id)) throw new Error(`--models takes ${MODEL_IDS.join(', ')}; got '${id}'`);
  }
  const runs = Number(args['runs'] ?? 30);
  const warmup = Number(args['warmup'] ?? 5);
  if (!(runs >= 1) || !(warmup >= 0)) throw new Error('--runs must be ≥ 1 and --warmup ≥ 0');
  const { simd } = await setupBackend('wasm');
  const machine = machineInfo();
  printMachine(machine);
  const load = loadavg().map((l) => Number(l.toFixed(2)));
  console.log(`backend ${tf.getBackend()} (setupBackend: 1 XNNPACK thread, SIMD ${String(simd)}); fastestOrthogonalizer() here: ${JSON.stringify(describeFastestOrthogonalizer())}`);
  console.log(`learning rates (middle of the grids): Muon ${middleLearningRate('muon')}, AdamW ${middleLearningRate('adamw')} (also the hybrid's AdamW group); median of ${runs} steps after ${warmup}; load average ${load.join(' ')}\n`);

  const results: Record<string, unknown>[] = [];
  const summary: string[] = [];
  for (const id of models) {
    const task = modelTask(id);
    const trainers = VARIANTS.map(
      (variant) =>
        new StepTrainer(task, optimizerSpec(variant.kind), middleLearningRate(variant.kind), middleLearningRate('adamw'), {
          ...(variant.orthogonalize && { orthogonalize: variant.orthogonalize }),
          ...(variant.fused !== undefined && { fused: variant.fused }),
        }),
    );
    const first = trainers[0] as StepTrainer;
    const hybrid = first.optimizer;
    if (!(hybrid instanceof MuonWithAdamWOptimizer)) throw new Error('expected the Muon hybrid');
    const parameters = first.model.countParams();
    const routing: RoutingRow[] = hybrid.describeRouting();
    const muonParameters = routing.filter((r) => r.optimizer === 'muon').reduce((sum, r) => sum + r.shape.reduce((a, b) => a * b, 1), 0);
    const work = newtonSchulzWork(hybrid);
    const nativeFlops = work.reduce((sum, r) => sum + r.count * r.nativeFlops, 0);
    const tfjsFlops = work.reduce((sum, r) => sum + r.count * r.tfjsFlops, 0);

    console.log(`== ${task.title}: ${task.modelSummary}; batch ${task.batchSize} × ${task.data.unit}; ${parameters} parameters, ${muonParameters} of them Muon's`);
    console.log(`Muon matrices [fanIn, fanOut] × count: Newton–Schulz (${hybrid.muonOptions.nsSteps} steps, '${String(hybrid.muonOptions.coefficients)}') per step`);
    for (const r of work) {
      console.log(`  ${`${r.matrix[0]}×${r.matrix[1]}`.padEnd(10)} × ${r.count}   native: ${r.native.padEnd(5)} ${mflop(r.nativeFlops).padStart(7)} MFLOP   TF.js: ${r.tfjs.padEnd(5)} ${mflop(r.tfjsFlops).padStart(7)} MFLOP`);
    }
    console.log(`  total per step: native ${mflop(nativeFlops)} MFLOP (≥ ${boundMs(nativeFlops).toFixed(2)} ms at ${PEAK_GFLOPS.toFixed(0)} GFLOP/s), TF.js ${mflop(tfjsFlops)} MFLOP (≥ ${boundMs(tfjsFlops).toFixed(2)} ms)`);

    for (let s = 0; s < warmup + runs; s++) {
      for (const trainer of trainers) trainer.step(s >= warmup);
    }
    const execution = hybrid.describeExecution().map(({ label, lastStep, reason }) => `${label}: ${lastStep}${lastStep === 'fused' ? '' : ` (${reason})`}`);
    console.log(`'${(VARIANTS[0] as Variant).name}' ran its last step as ${execution.join(', ')}`);
    const adam = trainers[VARIANTS.length - 1] as StepTrainer;
    const adamOptimizer = median(adam.optimizerMs);
    const adamTrain = median(adam.trainMs);
    console.log(`${'optimizer'.padEnd(30)} ${'optimizer step'.padStart(15)} ${'(its CPU time)'.padStart(15)} ${'training step'.padStart(15)} ${'opt. vs AdamW'.padStart(14)} ${'train vs AdamW'.padStart(15)}  target ≤ ${TARGET}× (opt. / train)`);
    const rows = trainers.map((trainer, k) => {
      const variant = VARIANTS[k] as Variant;
      const optimizerMs = median(trainer.optimizerMs);
      const trainMs = median(trainer.trainMs);
      const optimizerCpuMs = median(trainer.optimizerCpuMs);
      const isMuon = variant.kind === 'muon';
      const optimizerRatio = optimizerMs / adamOptimizer;
      const trainRatio = trainMs / adamTrain;
      const met = (ratio: number): string => (ratio <= TARGET ? 'yes' : 'no');
      console.log(`${variant.name.padEnd(30)} ${`${optimizerMs.toFixed(2)} ms`.padStart(15)} ${`${optimizerCpuMs.toFixed(2)} ms`.padStart(15)} ${`${trainMs.toFixed(2)} ms`.padStart(15)} ${(isMuon ? `${optimizerRatio.toFixed(2)}×` : '—').padStart(14)} ${(isMuon ? `${trainRatio.toFixed(2)}×` : '—').padStart(15)}  ${isMuon ? `${met(optimizerRatio)} / ${met(trainRatio)}` : ''}`);
      if (isMuon) {
        const metTrain = trainRatio <= TRAIN_TARGET ? 'yes' : 'no';
        summary.push(`${task.id.padEnd(12)} ${variant.name.padEnd(30)} optimizer step ${optimizerRatio.toFixed(2)}× (≤ ${TARGET}×: ${met(optimizerRatio)}), training step ${trainRatio.toFixed(2)}× (≤ ${TARGET}×: ${met(trainRatio)}; ≤ ${TRAIN_TARGET}×: ${metTrain})`);
      }
      return {
        optimizer: variant.name,
        kind: variant.kind,
        learningRate: middleLearningRate(variant.kind),
        optimizerStepMs: Number(optimizerMs.toFixed(3)),
        trainStepMs: Number(trainMs.toFixed(3)),
        optimizerStepCpuMs: Number(optimizerCpuMs.toFixed(3)),
        optimizerRatio: isMuon ? Number(optimizerRatio.toFixed(3)) : null,
        trainRatio: isMuon ? Number(trainRatio.toFixed(3)) : null,
        optimizerStepMetTarget: isMuon ? optimizerRatio <= TARGET : null,
        trainStepMetTarget: isMuon ? trainRatio <= TARGET : null,
        trainStepMetIssue13Target: isMuon ? trainRatio <= TRAIN_TARGET : null,
        optimizerStepsMs: trainer.optimizerMs.map((t) => Number(t.toFixed(3))),
        trainStepsMs: trainer.trainMs.map((t) => Number(t.toFixed(3))),
      };
    });
    console.log('');
    results.push({
      model: task.id,
      title: task.title,
      modelSummary: task.modelSummary,
      batchSize: task.batchSize,
      example: task.data.unit,
      parameters,
      muonParameters,
      muonMatrices: work,
      newtonSchulzFlops: { native: nativeFlops, tfjs: tfjsFlops },
      lowerBoundMsAtPeak: { native: Number(boundMs(nativeFlops).toFixed(3)), tfjs: Number(boundMs(tfjsFlops).toFixed(3)) },
      rows,
    });
    for (const trainer of trainers) trainer.dispose();
  }
  console.log(`Targets: Muon step ≤ ${TARGET}× AdamW step (issue 4); whole training step ≤ ${TRAIN_TARGET}× AdamW's (issue 13)`);
  for (const line of summary) console.log(`  ${line}`);

  mkdirSync('bench-results', { recursive: true });
  const file = `bench-results/model-step-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify({ benchmark: 'model-step', backend: tf.getBackend(), simd, machine, loadAverage: load, runs, warmup, seed: STEP_COST_SEED, target: TARGET, trainTarget: TRAIN_TARGET, peakGflops: PEAK_GFLOPS, results }, null, 2));
  console.log(`\nwritten: ${file}`);
}

await main();
