#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { setupBackend, BENCH_BACKENDS, type BenchBackend } from '../benchmark/backend.js';
import { makeBenchPlan, type BenchPlan } from '../benchmark/benchPlan.js';
import { fashionMnistAvailable } from '../benchmark/data/fashionMnist.js';
import { runBenchmark } from '../benchmark/runBenchmark.js';
import { formatTextReport } from '../benchmark/table.js';
import { createTask, taskAvailable } from '../benchmark/tasks.js';
import { writeOutputs } from '../benchmark/writeOutputs.js';
import { spectrumCommand } from '../spectrum/spectrumCommand.js';

const USAGE = `Usage: muon-tfjs bench [options]
       muon-tfjs spectrum [options]   (Muon's spectra against model size; see spectrum --help)

Compares Muon (hybrid with AdamW), AdamW, SGD with momentum and Lion on an MLP and a ConvNet on
MNIST and a small transformer on Moby Dick (characters). Each optimizer's learning rate comes
from a small grid on a held-out split. Prints a table per model and writes results.json, SVG
plots, summary.md and report.html.

Options:
  --full               the complete suite: more epochs, 3 seeds, Fashion-MNIST when installed
                       (apt-get install dataset-fashion-mnist); takes hours on 2 cores
  --models LIST        comma-separated: mlp, convnet, transformer, fashion-mlp, fashion-convnet
  --optimizers LIST    comma-separated: muon, adamw, sgd, lion
  --epochs N           epochs for every model (default: mlp 3, convnet 1, transformer 2)
  --seeds N|LIST       seeds 1..N, or a comma-separated list (default 1; --full: 3)
  --backend NAME       wasm (default in Node) or cpu
  --out DIR            output folder (default bench-results)
  -h, --help           this text
`;

/** Seconds per step measured on a 2-core Xeon (wasm): rough, for the up-front estimate only. */
const SECONDS_PER_STEP: Record<string, number> = { mlp: 0.03, convnet: 0.14, transformer: 0.32, 'fashion-mlp': 0.03, 'fashion-convnet': 0.14 };

function estimateSeconds(plan: BenchPlan, stepsPerEpoch: Record<string, number>): number {
  return plan.models.reduce((total, id) => {
    const steps = (plan.epochs[id] ?? 1) * (stepsPerEpoch[id] ?? 0);
    const perOptimizer = steps * (plan.seeds.length + 4 * plan.gridFraction);
    return total + perOptimizer * plan.optimizers.length * (SECONDS_PER_STEP[id] ?? 0.1);
  }, 0);
}

async function bench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      full: { type: 'boolean' },
      models: { type: 'string' },
      optimizers: { type: 'string' },
      epochs: { type: 'string' },
      seeds: { type: 'string' },
      backend: { type: 'string', default: 'wasm' },
      out: { type: 'string', default: 'bench-results' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return;
  }
  const backend = values.backend as string;
  if (!(BENCH_BACKENDS as readonly string[]).includes(backend)) {
    throw new Error(`--backend: unknown backend '${backend}'; choose from ${BENCH_BACKENDS.join(', ')}`);
  }
  const plan = makeBenchPlan({
    ...(values.full === true && { full: true }),
    ...(values.models !== undefined && { models: values.models }),
    ...(values.optimizers !== undefined && { optimizers: values.optimizers }),
    ...(values.epochs !== undefined && { epochs: values.epochs }),
    ...(values.seeds !== undefined && { seeds: values.seeds }),
  }, fashionMnistAvailable());
  for (const id of plan.models) {
    if (!taskAvailable(id)) {
      throw new Error(`model '${id}' needs Fashion-MNIST: install it with \`apt-get install dataset-fashion-mnist\` (Debian), or leave it out of --models`);
    }
  }
  const out = resolve(values.out as string);
  const { simd } = await setupBackend(backend as BenchBackend);
  const entries = plan.models.map((id) => ({ task: createTask(id, plan.scale), epochs: plan.epochs[id] }));
  const estimate = estimateSeconds(plan, Object.fromEntries(entries.map((e) => [e.task.id, e.task.stepsPerEpoch])));
  const say = (s: string): boolean => process.stderr.write(`${s}\n`);
  say(`muon-tfjs bench (${plan.mode}): models ${plan.models.join(', ')}; optimizers ${plan.optimizers.join(', ')}; seeds ${plan.seeds.join(', ')}.`);
  say(`Backend ${backend}${simd === true ? ' (SIMD)' : ''}. Each optimizer first picks its lr from a 5-point grid on a held-out split.`);
  say(`Expected time: about ${Math.max(1, Math.round(estimate / 60))} min on a 2-core machine like the one the defaults were sized on` +
    `${plan.mode === 'default' && values.models === undefined && values.epochs === undefined && values.seeds === undefined ? ' (the default run is sized for about 5 minutes)' : ''}.`);
  const tty = process.stderr.isTTY;
  let bar: cliProgress.SingleBar | undefined;
  let runLabel = '';
  let runStarted = 0;
  let lastLoss = Number.NaN;
  const results = runBenchmark({
    entries,
    optimizers: plan.optimizers,
    seeds: plan.seeds,
    gridFraction: plan.gridFraction,
    mode: plan.mode,
    backend,
    simd: simd ?? null,
    command: `muon-tfjs bench ${argv.join(' ')}`.trim(),
    onRunStart: ({ model, optimizer, phase, steps }) => {
      runLabel = `${model} ${optimizer} ${phase}`;
      runStarted = performance.now();
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
      lastLoss = e.loss;
      bar?.update(e.step, { epoch: e.epoch, epochs: e.epochs, loss: e.loss.toFixed(4) });
    },
    onRunEnd: () => {
      bar?.stop();
      bar = undefined;
      if (!tty) say(`${runLabel}: loss ${lastLoss.toFixed(4)}, ${((performance.now() - runStarted) / 1000).toFixed(1)} s`);
    },
  });
  process.stdout.write(`${formatTextReport(results)}\n\n`);
  const files = writeOutputs(results, out);
  say(`Total ${results.totalSeconds.toFixed(0)} s. Wrote ${files.length} files to ${out} (open report.html).`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'bench') return bench(rest);
  if (command === 'spectrum') return spectrumCommand(rest);
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  throw new Error(`unknown command '${command}'. Try: muon-tfjs bench --help`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`muon-tfjs: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
