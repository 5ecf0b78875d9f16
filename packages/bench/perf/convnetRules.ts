/**
 * `npm run bench:convnet-rules`: issue 12, item 5, "why only transformers?" answered on the
 * benchmark's ConvNet. Three parts:
 *
 * 1. The comparison: AdamW and the Muon hybrid under each rule used in practice where Muon trains
 *    conv nets (`src/benchmark/protocol/convNetRules.ts`), under the benchmark's protocol (`runBenchmark`:
 *    each peak lr tuned on the held-out split at `--tune-fraction` of the budget with the linear
 *    decay compressed to it, a grid extended past an edge choice, the same seeds for all). Writes
 *    the benchmark's report (results.json, summary.md, report.html) to `--out`.
 * 2. The step cost: each optimizer trains its own copy of the model, the optimizers taking turns
 *    step by step on the same batches (so the machine's load hits them alike); median optimizer
 *    step and training step over `--runs` steps. Time to target is then also given as steps to
 *    target × median training step, which a shared machine's load swings cannot skew.
 * 3. The spectra behind the first-layer rule: the eigenvalues of the 3×3 input patches'
 *    covariance (what the first conv's gradient lives on), and the Muon momentum's singular
 *    values (`spectrumOf`) of each Muon matrix after `--spectrum-steps` steps of the default rule.
 *
 *   npm run bench:convnet-rules [-- --models fashion-convnet --rules LIST --seeds 3 --out DIR]
 *   npm run bench:convnet-rules -- --only cost,spectra          (parts 2 and 3 only)
 *   npm run bench:convnet-rules -- --combine DIR,DIR --cost FILE --out DIR
 *
 * Parts 2 and 3 write convnet-rules-cost.json to `--out`; part 1's results.json holds the rest.
 * `--combine` joins the results.json of runs that split the rules over processes (`--no-adamw` in
 * all but one; `mergeResults`), writes the benchmark's report of the whole, and the ratios to AdamW
 * (`ratiosToAdamW`, with the time ratio at the measured step cost) as convnet-rules.md and .json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { linearDecay, type TransformOptimizer } from 'muon-tfjs';
import { spectrumOf, singularValues } from 'muon-tfjs/diagnostics';
import { setupBackend } from '../src/benchmark/runs/backend.js';
import { CONVNET_RULES, convNetRule, convNetRuleSpec } from '../src/benchmark/protocol/convNetRules.js';
import { fashionMnistAvailable } from 'muon-tfjs-tasks/datasets';
import { optimizerSpec, type OptimizerSpec } from '../src/benchmark/protocol/optimizers.js';
import { mergeResults } from '../src/benchmark/results/mergeResults.js';
import { ratiosToAdamW } from '../src/benchmark/results/ratiosToAdamW.js';
import { type BenchResults, validateResults } from '../src/benchmark/results/results.js';
import { runBenchmark } from '../src/benchmark/runBenchmark.js';
import { formatMarkdownTable, formatTextReport } from '../src/benchmark/report/table.js';
import { formatRunSummary } from '../src/benchmark/runs/runSummary.js';
import { DEFAULT_SCALE, createTask, type TaskId } from 'muon-tfjs-tasks/catalog';
import { TASK_SCHEDULES } from '../src/benchmark/protocol/taskSchedules.js';
import { createRandom, deriveSeed, type Batch, type Task } from 'muon-tfjs-tasks';
import { writeOutputs } from '../src/benchmark/report/writeOutputs.js';
import { commandLine, machineInfo, median, printMachine } from 'muon-tfjs-harness';
import { STEP_COST_SEED, StepTrainer } from './stepTrainer.js';

const USAGE = `Usage: npm run bench:convnet-rules [-- options]

AdamW against the Muon hybrid under the conv-net rules of practice (first conv on AdamW, per-tap
or per-filter orthogonalization, shape scales, the CIFAR-10 airbench settings, warm-up), on the
benchmark's ConvNet under the benchmark's tuning protocol; then each optimizer's step cost (taking
turns step by step) and the spectra behind the first-layer rule.

Options:
  --models ID        convnet or fashion-convnet (default: fashion-convnet when installed)
  --rules LIST       comma-separated rule ids (default all): ${CONVNET_RULES.map((r) => r.id).join(', ')}
  --no-adamw         leave AdamW out of the compared set (its peak lr is still tuned, for the hybrids'
                     AdamW group); for splitting the rules over processes: runs are deterministic, so
                     AdamW's runs in another process are the ones it would have here
  --aux-grid LIST    with --no-adamw: the AdamW peak rates searched for the hybrids' AdamW group
                     (default AdamW's whole grid); the points around the choice of the run with AdamW
                     give the same choice, from the same (deterministic) tuning runs
  --seeds N          seeds 1..N (default 3)
  --epochs N         epochs (default 1)
  --train-examples N use only the first N examples of the seeded training split: epochs of N/128 steps
                     (default: the whole split, 429 steps on Fashion-MNIST)
  --tune-fraction F  tuning runs' share of the budget, in [0.25, 1] (default 0.25)
  --max-extensions N points added past a grid edge at most (default 3)
  --only LIST        parts to run: compare, cost, spectra (default all three)
  --runs N           timed steps per optimizer for the step cost (default 30, after 5 untimed)
  --spectrum-steps N steps of the default rule before its momentum spectra (default 100)
  --combine LIST     instead of running: join these folders' results.json (one of them with AdamW)
                     into the table against AdamW's final loss
  --cost FILE        with --combine: a convnet-rules-cost.json whose step costs give the time ratio
                     at the interleaved step cost
  --out DIR          output folder (default bench-results/convnet-rules)
  -h, --help         this text
`;

const args = commandLine({
  usage: USAGE,
  strings: ['models', 'rules', 'aux-grid', 'seeds', 'epochs', 'train-examples', 'tune-fraction', 'max-extensions', 'only', 'runs', 'spectrum-steps', 'combine', 'cost', 'out'],
  flags: ['no-adamw'],
});

const positiveInteger = (value: string | undefined, fallback: number, flag: string): number => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`--${flag}: expected a positive integer, got '${value}'`);
  return n;
};

const modelId = (args.models ?? (fashionMnistAvailable() ? 'fashion-convnet' : 'convnet')) as TaskId;
if (modelId !== 'convnet' && modelId !== 'fashion-convnet') throw new Error(`--models: convnet or fashion-convnet, got '${modelId}'`);
const rules = (args.rules?.split(',') ?? CONVNET_RULES.map((r) => r.id)).map(convNetRule);
const seeds = Array.from({ length: positiveInteger(args.seeds, 3, 'seeds') }, (_, i) => i + 1);
const epochs = positiveInteger(args.epochs, 1, 'epochs');
const trainExamples = args['train-examples'] === undefined ? undefined : positiveInteger(args['train-examples'], 0, 'train-examples');
const tuneFraction = Number(args['tune-fraction'] ?? 0.25);
const maxExtensions = Number(args['max-extensions'] ?? 3);
const parts = new Set(args.only?.split(',') ?? ['compare', 'cost', 'spectra']);
for (const part of parts) if (!['compare', 'cost', 'spectra'].includes(part)) throw new Error(`--only: compare, cost or spectra, got '${part}'`);
const runs = positiveInteger(args.runs, 30, 'runs');
const spectrumSteps = positiveInteger(args['spectrum-steps'], 100, 'spectrum-steps');
const out = args.out ?? join('bench-results', 'convnet-rules');

const adamw = optimizerSpec('adamw');
const auxiliary = args['aux-grid'] === undefined ? adamw : { ...adamw, grid: args['aux-grid'].split(',').map(Number) };
const ruleSpecs = rules.map(convNetRuleSpec);
const say = (s: string): boolean => process.stderr.write(`${s}\n`);

/** Part 1: the comparison under the protocol. */
async function compare(task: Task, backend: { simd: boolean | undefined }): Promise<void> {
  const optimizers = args['no-adamw'] ? ruleSpecs : [adamw, ...ruleSpecs];
  say(`Comparing ${optimizers.map((o) => o.kind).join(', ')} on ${task.id}: ${epochs} epoch(s) of ${task.stepsPerEpoch} steps, seeds ${seeds.join(', ')}, tuning at ${tuneFraction} of the budget.`);
  const results = runBenchmark({
    entries: [{ task, epochs, schedule: TASK_SCHEDULES[modelId] }],
    optimizers,
    seeds,
    protocol: { tuneFraction, maxExtensions },
    auxiliary,
    mode: 'full',
    backend: 'wasm',
    simd: backend.simd ?? null,
    command: `npm run bench:convnet-rules -- ${process.argv.slice(2).join(' ')}`.trim(),
    onRunEnd: (summary) => say(formatRunSummary(summary)),
  });
  process.stdout.write(`${formatTextReport(results)}\n\n`);
  const files = await writeOutputs(results, out);
  say(`Wrote ${files.length} files to ${out}.`);
}

/** The peak learning rate a spec is measured at when no tuning is at hand: its grid's middle. */
const middle = (spec: OptimizerSpec): number => spec.grid[Math.floor(spec.grid.length / 2)] as number;

/** Part 2: step costs, the optimizers taking turns step by step. */
function stepCost(task: Task): Record<string, { optimizerMs: number; trainMs: number }> {
  const steps = epochs * task.stepsPerEpoch;
  const aux = linearDecay({ peak: middle(adamw), steps });
  const trainers = [adamw, ...ruleSpecs].map((spec) => new StepTrainer(task, spec, linearDecay({ peak: middle(spec), steps }), aux));
  try {
    for (let i = 0; i < 5 + runs; i++) for (const trainer of trainers) trainer.step(i >= 5);
    const costs = Object.fromEntries(trainers.map((t) => [t.spec.kind, { optimizerMs: median(t.optimizerMs), trainMs: median(t.trainMs) }]));
    const adamwTrain = (costs[adamw.kind] as { trainMs: number }).trainMs;
    process.stdout.write(`\nStep cost on ${task.id}, batch ${task.batchSize}, median of ${runs} steps (taking turns):\n`);
    process.stdout.write('| Optimizer | optimizer step (ms) | training step (ms) | training step vs AdamW |\n|---|---|---|---|\n');
    for (const [kind, c] of Object.entries(costs)) {
      process.stdout.write(`| ${kind} | ${c.optimizerMs.toFixed(1)} | ${c.trainMs.toFixed(1)} | ${(c.trainMs / adamwTrain).toFixed(2)}× |\n`);
    }
    return costs;
  } finally {
    for (const trainer of trainers) trainer.dispose();
  }
}

/**
 * The covariance of the k×k patches of the training images (channels 1), float64, as a 9×9
 * matrix for k = 3: the input the first conv's kernel gradient is built from (∂L/∂W = Σ patch ⊗ δ).
 */
function patchCovariance(task: Task, k: number, images: number): { rows: number; cols: number; data: Float64Array } {
  const batch = task.epochBatches(createRandom(deriveSeed(STEP_COST_SEED, 'patches')))[Symbol.iterator]().next().value as Batch;
  const [n, h, w] = batch.x.shape as [number, number, number, number];
  const pixels = batch.x.dataSync();
  const d = k * k;
  const sum = new Float64Array(d);
  const outer = new Float64Array(d * d);
  let count = 0;
  const patch = new Float64Array(d);
  for (let i = 0; i < Math.min(n, images); i++) {
    for (let r = 0; r + k <= h; r++) {
      for (let c = 0; c + k <= w; c++) {
        for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) patch[a * k + b] = pixels[i * h * w + (r + a) * w + (c + b)] as number;
        for (let p = 0; p < d; p++) {
          sum[p] = (sum[p] as number) + (patch[p] as number);
          for (let q = 0; q < d; q++) outer[p * d + q] = (outer[p * d + q] as number) + (patch[p] as number) * (patch[q] as number);
        }
        count++;
      }
    }
  }
  tf.dispose([batch.x, batch.y]);
  const data = new Float64Array(d * d);
  for (let p = 0; p < d; p++) for (let q = 0; q < d; q++) data[p * d + q] = (outer[p * d + q] as number) / count - ((sum[p] as number) / count) * ((sum[q] as number) / count);
  return { rows: d, cols: d, data };
}

/** Part 3: the input patches' spectrum and the Muon momentum spectra of the default rule. */
function spectra(task: Task): Record<string, unknown> {
  const covariance = patchCovariance(task, 3, task.batchSize);
  const eigenvalues = Array.from(singularValues(covariance));
  const total = eigenvalues.reduce((a, b) => a + b, 0);
  process.stdout.write(`\n3×3 patch covariance of ${task.id} (one batch, ${task.batchSize} images): eigenvalue shares ${eigenvalues.map((e) => (e / total).toFixed(4)).join(', ')}\n`);
  const spec = convNetRuleSpec(convNetRule('muon-all-convs'));
  const steps = epochs * task.stepsPerEpoch;
  const trainer = new StepTrainer(task, spec, linearDecay({ peak: middle(spec), steps }), linearDecay({ peak: middle(adamw), steps }));
  try {
    for (let i = 0; i < spectrumSteps; i++) trainer.step(false);
    const optimizer = trainer.optimizer as TransformOptimizer & { describeRouting(): { variable: string; optimizer: string }[] };
    const rows: Record<string, unknown> = {};
    process.stdout.write(`Muon momentum spectra after ${spectrumSteps} steps (muon-all-convs, lr ${middle(spec)}): σ of M/‖M‖_F\n`);
    process.stdout.write('| Matrix | [fanIn, fanOut] | stable rank | top energy | q50 | q90 |\n|---|---|---|---|---|---|\n');
    for (const row of optimizer.describeRouting().filter((r) => r.optimizer === 'muon')) {
      const momentum = optimizer.getSlot(row.variable, 'momentum');
      if (momentum === undefined) continue;
      const s = spectrumOf(momentum);
      rows[row.variable] = { shape: momentum.shape, stableRank: s.stableRank, topEnergy: s.topEnergy, quantiles: s.quantiles, singularValues: Array.from(s.singularValues) };
      process.stdout.write(`| ${row.variable} | [${momentum.shape.slice(0, -1).reduce((a, b) => a * b, 1)}, ${momentum.shape.at(-1)}] | ${s.stableRank.toFixed(2)} | ${s.topEnergy.toFixed(3)} | ${s.quantiles.q50.toExponential(2)} | ${s.quantiles.q90.toExponential(2)} |\n`);
    }
    return { patchEigenvalueShares: eigenvalues.map((e) => e / total), momentum: rows };
  } finally {
    trainer.dispose();
  }
}

const ratio = (r: number | null): string => (r === null ? '—' : `${r.toFixed(2)}×`);

/**
 * `--combine`: joins the parts (`mergeResults`: targets recomputed on the joined set), writes the
 * benchmark's report of the whole comparison, and the table of every rule against AdamW with the
 * time ratio at the measured step cost (convnet-rules.md / .json).
 */
async function combine(dirs: readonly string[]): Promise<void> {
  const parts = dirs.map((dir) => {
    const parsed: unknown = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    const problems = validateResults(parsed);
    if (problems.length > 0) throw new Error(`${dir}/results.json: ${problems.join('; ')}`);
    return parsed as BenchResults;
  });
  const merged = mergeResults(parts, `npm run bench:convnet-rules -- ${process.argv.slice(2).join(' ')}`.trim());
  const model = merged.models.find((m) => m.id === modelId);
  if (model === undefined) throw new Error(`--combine: no '${modelId}' in the results (they have ${merged.models.map((m) => m.id).join(', ')})`);
  const costs = args.cost === undefined
    ? {}
    : Object.fromEntries(Object.entries((JSON.parse(readFileSync(args.cost, 'utf8')) as { stepCost: Record<string, { trainMs: number }> }).stepCost).map(([k, c]) => [k, c.trainMs]));
  const ratios = ratiosToAdamW(model, costs);
  const lines = [
    `${model.title}: ${model.steps} steps, seeds ${merged.config.seeds.join(', ')}; target = AdamW's mean final training loss ${model.targetLoss.toFixed(4)}.`,
    '',
    '| Optimizer | Steps to target vs AdamW | Time to target vs AdamW (in the runs) | At the measured step cost |',
    '|---|---:|---:|---:|',
    ...ratios.map((r) => `| ${r.label} | ${ratio(r.stepRatio)} | ${ratio(r.timeRatio)} | ${ratio(r.costTimeRatio)} |`),
  ];
  process.stdout.write(`${formatTextReport(merged)}\n\n${lines.join('\n')}\n`);
  const files = await writeOutputs(merged, out);
  writeFileSync(join(out, 'convnet-rules.md'), `${formatMarkdownTable(model)}\n\n${lines.join('\n')}\n`);
  writeFileSync(join(out, 'convnet-rules.json'), `${JSON.stringify({ sources: dirs, cost: args.cost ?? null, targetLoss: model.targetLoss, ratios }, null, 1)}\n`);
  say(`Wrote ${files.length + 2} files to ${out}.`);
}

async function main(): Promise<void> {
  if (args.combine !== undefined) return combine(args.combine.split(','));
  const backend = await setupBackend('wasm');
  printMachine(machineInfo());
  const task = createTask(modelId, { ...DEFAULT_SCALE, ...(trainExamples !== undefined && { maxTrainExamples: trainExamples }) });
  mkdirSync(out, { recursive: true });
  if (parts.has('compare')) await compare(task, backend);
  const extra: Record<string, unknown> = { machine: machineInfo(), model: modelId, command: `npm run bench:convnet-rules -- ${process.argv.slice(2).join(' ')}`.trim() };
  if (parts.has('cost')) extra['stepCost'] = stepCost(task);
  if (parts.has('spectra')) extra['spectra'] = spectra(task);
  if (parts.has('cost') || parts.has('spectra')) writeFileSync(join(out, 'convnet-rules-cost.json'), `${JSON.stringify(extra, null, 1)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:convnet-rules: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
