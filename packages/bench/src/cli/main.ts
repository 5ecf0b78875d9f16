#!/usr/bin/env node
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { describeKernels, setupBackend } from '../benchmark/runs/backend.js';
import { makeBenchPlan, planEntries, type BenchPlan } from '../benchmark/protocol/benchPlan.js';
import { fashionMnistAvailable } from 'muon-tfjs-tasks/datasets';
import { QK_CLIP_DEMO_DEFAULTS, formatQkClipSummary, qkClipPlots, runQkClipDemo } from '../qkClip/qkClipDemo.js';
import { mergeResults } from '../benchmark/results/mergeResults.js';
import { optimizerSpec } from '../benchmark/protocol/optimizers.js';
import { validateResults, type BenchResults } from '../benchmark/results/results.js';
import { runBenchmark } from '../benchmark/runBenchmark.js';
import { formatTextReport } from '../benchmark/report/table.js';
import { formatRunSummary } from '../benchmark/runs/runSummary.js';
import { createTask, taskAvailable } from 'muon-tfjs-tasks/catalog';
import { resultsJson, writeOutputs } from '../benchmark/report/writeOutputs.js';
import { BENCH_USAGE, parseBenchArguments } from './benchArguments.js';
import { benchHeader, estimateSeconds } from './benchHeader.js';
import { createRunDirectory, pointLatestAt } from './outputDirectory.js';
import { busyMachineWarning } from '../benchmark/report/machineLine.js';
import { spectrumCommand } from '../spectrum/spectrumCommand.js';

async function bench(argv: string[]): Promise<void> {
  const parsed = parseBenchArguments(argv);
  if (parsed.help) {
    process.stdout.write(BENCH_USAGE);
    return;
  }
  const values = parsed.options;
  if (values.merge !== undefined) return merge(values.merge, values.out, argv);
  const backend = values.backend;
  const plan = makeBenchPlan({
    ...(values.full && { full: true }),
    ...(values.quick && { quick: true }),
    ...(values.models !== undefined && { models: values.models }),
    ...(values.optimizers !== undefined && { optimizers: values.optimizers }),
    ...(values.epochs !== undefined && { epochs: values.epochs }),
    ...(values.seeds !== undefined && { seeds: values.seeds }),
    ...(values.tuneFraction !== undefined && { tuneFraction: values.tuneFraction }),
    ...(values.maxExtensions !== undefined && { maxExtensions: values.maxExtensions }),
  }, fashionMnistAvailable());
  for (const id of plan.models) {
    if (!taskAvailable(id)) {
      throw new Error(`model '${id}' needs Fashion-MNIST: install it with \`apt-get install dataset-fashion-mnist\` (Debian), or leave it out of --models`);
    }
  }
  // Made before any work (a bad --out used to fail only after the whole benchmark), one per run.
  const out = createRunDirectory(values.out, values.qkClip === undefined ? plan.mode : 'qk-clip');
  const { simd } = await setupBackend(backend);
  if (values.qkClip !== undefined) {
    return qkClip(values.qkClip, plan, out);
  }
  const entries = planEntries(plan);
  const estimate = estimateSeconds(plan, Object.fromEntries(entries.map((e) => [e.task.id, e.task.stepsPerEpoch])), values.chosenLearningRates);
  const say = (s: string): boolean => process.stderr.write(`${s}\n`);
  const asPlanned = values.models === undefined && values.epochs === undefined && values.seeds === undefined && values.optimizers === undefined;
  const measured = !asPlanned ? undefined : plan.mode === 'default' ? 'the default run measured about 15 minutes of CPU' : undefined;
  for (const line of benchHeader(plan, {
    backend, simd, kernels: describeKernels(simd ?? null), estimateSeconds: estimate,
    ...(values.chosenLearningRates !== undefined && { chosen: values.chosenLearningRates }),
    ...(measured !== undefined && { measured }),
  })) say(line);
  say(`Writing to ${out}.`);
  const tty = process.stderr.isTTY;
  let bar: cliProgress.SingleBar | undefined;
  const results = runBenchmark({
    entries,
    optimizers: plan.optimizers.map(optimizerSpec),
    seeds: plan.seeds,
    protocol: plan.protocol,
    ...(values.chosenLearningRates !== undefined && { chosenLearningRates: values.chosenLearningRates }),
    mode: plan.mode,
    backend,
    simd: simd ?? null,
    command: `npm run bench -- ${argv.join(' ')}`.trim(),
    onRunStart: ({ model, optimizer, phase, steps }) => {
      const runLabel = `${model} ${optimizer} ${phase}`;
      if (tty) {
        bar = new cliProgress.SingleBar({
          format: '{label} |{bar}| {value}/{total} steps | epoch {epoch}/{epochs} | loss {loss} | ETA {eta_formatted}',
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 20,
        }, cliProgress.Presets.shades_classic);
        bar.start(steps, 0, { label: runLabel.padEnd(40), epoch: 1, epochs: 1, loss: '—' });
      }
    },
    onProgress: (e) => {
      bar?.update(e.step, { epoch: e.epoch, epochs: e.epochs, loss: e.loss.toFixed(4) });
    },
    onModelDone: (resultsSoFar) => writeFileSync(join(out, 'results.json'), resultsJson(resultsSoFar)),
    onRunEnd: (summary) => {
      bar?.stop();
      bar = undefined;
      say(formatRunSummary(summary));
    },
  });
  process.stdout.write(`${formatTextReport(results)}\n\n`);
  const files = await writeOutputs(results, out);
  finish(results, out, files.length);
}

/** The last lines of a run: its cost, the busy-machine warning, where its files are; `latest` then points at them. */
function finish(results: BenchResults, out: string, files: number): void {
  const latest = pointLatestAt(out) ? ` (${join(out, '..', 'latest')} points at it)` : '';
  const warning = busyMachineWarning(results.machine);
  if (warning !== null) process.stderr.write(`Warning: ${warning}\n`);
  process.stderr.write(`Total ${results.totalSeconds.toFixed(0)} s (${results.totalCpuSeconds.toFixed(0)} s of CPU). Wrote ${files} files to ${out}${latest}: open report.html.\n`);
}

/** `--merge a/results.json,b/results.json`: one comparison's parts joined, its outputs written. */
async function merge(list: string, outFlag: string, argv: string[]): Promise<void> {
  const parts = list.split(',').map((path) => {
    const parsed: unknown = JSON.parse(readFileSync(path.trim(), 'utf8'));
    const problems = validateResults(parsed);
    if (problems.length > 0) throw new Error(`--merge: ${path} is not a results.json of this version: ${problems.slice(0, 3).join('; ')}`);
    return parsed as BenchResults;
  });
  const out = createRunDirectory(outFlag, 'merge');
  const results = mergeResults(parts, `npm run bench -- ${argv.join(' ')}`);
  process.stdout.write(`${formatTextReport(results)}\n\n`);
  const files = await writeOutputs(results, out);
  process.stderr.write(`Merged ${parts.length} parts.\n`);
  finish(results, out, files.length);
}

/** `--qk-clip TAU`: the QK-clip demonstration on the transformer (see src/qkClip/qkClipDemo.ts). */
async function qkClip(threshold: number, plan: BenchPlan, out: string): Promise<void> {
  const seed = plan.seeds[0] ?? 1;
  const { steps, learningRate, auxLearningRate } = QK_CLIP_DEMO_DEFAULTS;
  process.stderr.write(`QK-clip demonstration: transformer, ${steps} steps twice (without, with τ = ${threshold}), Muon lr ${learningRate}; a few minutes on 2 cores.\n`);
  const result = runQkClipDemo({
    task: createTask('transformer', plan.scale), threshold, steps, learningRate, auxLearningRate, seed,
    onStep: (run, step, loss) => {
      if (step % 25 === 0) process.stderr.write(`${run}: step ${step}, loss ${loss.toFixed(4)}\n`);
    },
  });
  const summary = formatQkClipSummary(result);
  process.stdout.write(`${summary}\n`);
  const plots = await qkClipPlots(result);
  writeFileSync(join(out, 'qk-clip.md'), `${summary}\n\n![max logit](qk-clip-max-logit.svg)\n\n![loss](qk-clip-loss.svg)\n`);
  writeFileSync(join(out, 'qk-clip.json'), `${JSON.stringify(result)}\n`);
  writeFileSync(join(out, 'qk-clip-max-logit.svg'), plots.maxLogit);
  writeFileSync(join(out, 'qk-clip-loss.svg'), plots.loss);
  pointLatestAt(out);
  process.stderr.write(`Wrote qk-clip.md, qk-clip.json, qk-clip-max-logit.svg and qk-clip-loss.svg to ${out}.\n`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'bench') return bench(rest);
  if (command === 'spectrum') return spectrumCommand(rest);
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(BENCH_USAGE);
    return;
  }
  throw new Error(`unknown command '${command}'. Try: npm run bench -- --help`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`muon-tfjs: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
