/**
 * `npm run bench:hybrid-defaults`: issue 25 item 3, "defaults that win where they are used". The
 * measurement behind `muonWithAdamW(model)`'s default learning rates (both halves).
 *
 * A user who calls `muonWithAdamW(model)` and `model.fit` gets constant rates and every other
 * setting at its default; so does one who calls `adamw()`. This script trains exactly that: each
 * candidate pair of defaults (the Muon half's rate × the AdamW half's rate, everything else the
 * library's defaults) and `adamw()` at its defaults, at constant rates, on the benchmark's models
 * (epochs of the default run, the same seeds, batches and initial weights for all), and reports the
 * final test loss of each. The candidate chosen is the one with the lowest geometric mean, over the
 * models, of its test loss divided by `adamw()`'s: a default must win across models, not on one.
 *
 *   npm run bench:hybrid-defaults [-- --models LIST --seeds N --muon LIST --adamw LIST --out DIR]
 *
 * Writes hybrid-defaults.json and hybrid-defaults.md to `--out`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { adamw, muonWithAdamW } from 'muon-tfjs';
import { commandLine, machineInfo, printMachine } from 'muon-tfjs-harness';
import { DEFAULT_SCALE, TASK_IDS, createTask, type TaskId } from 'muon-tfjs-tasks/catalog';
import { fashionMnistAvailable } from 'muon-tfjs-tasks/datasets';
import { DEFAULT_EPOCHS } from '../src/benchmark/protocol/benchPlan.js';
import type { OptimizerSpec } from '../src/benchmark/protocol/optimizers.js';
import { stat, type Stat } from '../src/benchmark/protocol/stats.js';
import { setupBackend } from '../src/benchmark/runs/backend.js';
import { trainRun } from '../src/benchmark/runs/trainRun.js';

const USAGE = `Usage: npm run bench:hybrid-defaults [-- options]

muonWithAdamW(model) at candidate default rates (constant, every other setting the library's
default) against adamw() at its defaults, on the benchmark's models: final test loss over seeds.

Options:
  --models LIST   comma-separated (default: fashion-mlp, fashion-convnet when Fashion-MNIST is
                  installed, else mlp, convnet; then transformer, lstm); any of ${TASK_IDS.join(', ')}
  --seeds N       seeds 1..N (default 3)
  --muon LIST     the Muon half's candidate rates (default 0.02,0.05)
  --adamw LIST    the AdamW half's candidate rates (default 3e-4,1e-3,3e-3)
  --out DIR       output folder (default bench-results/hybrid-defaults)
  -h, --help      this text
`;

/** One trained configuration: its label, its rates (absent for the AdamW baseline) and its runs. */
interface Measured {
  label: string;
  muon: number | null;
  adamwHalf: number | null;
  testLoss: Stat;
  testAccuracy: Stat;
  diverged: number;
  perSeed: { seed: number; testLoss: number; testAccuracy: number }[];
}

const list = (text: string | undefined, fallback: readonly number[]): number[] => {
  if (text === undefined) return [...fallback];
  return text.split(',').map((v) => {
    const x = Number(v);
    if (!Number.isFinite(x) || x <= 0) throw new Error(`expected positive rates, got '${v}'`);
    return x;
  });
};

/** A spec that builds `create()` whatever rate the run passes: the rates are in the closure. */
const fixedSpec = (label: string, create: (model: Parameters<OptimizerSpec['create']>[1]['model']) => tf.Optimizer): OptimizerSpec => ({
  kind: label, label, grid: [], hyperParameters: {}, usesAuxiliaryAdamW: false,
  create: (_learningRate, { model }) => create(model),
});

async function main(): Promise<void> {
  const args = commandLine({ usage: USAGE, strings: ['models', 'seeds', 'muon', 'adamw', 'out'] });
  const fashion = fashionMnistAvailable();
  const models = (args.models?.split(',') ?? [...(fashion ? ['fashion-mlp', 'fashion-convnet'] : ['mlp', 'convnet']), 'transformer', 'lstm']) as TaskId[];
  for (const id of models) if (!(TASK_IDS as readonly string[]).includes(id)) throw new Error(`unknown model '${id}'; expected one of ${TASK_IDS.join(', ')}`);
  const seedCount = args.seeds === undefined ? 3 : Number(args.seeds);
  if (!Number.isInteger(seedCount) || seedCount < 1) throw new Error(`--seeds must be a positive integer, got '${args.seeds}'`);
  const seeds = Array.from({ length: seedCount }, (_, i) => i + 1);
  const muonRates = list(args.muon, [0.02, 0.05]);
  const adamwRates = list(args.adamw, [3e-4, 1e-3, 3e-3]);
  const out = args.out ?? join('bench-results', 'hybrid-defaults');
  const { backend, simd } = await setupBackend('wasm');
  const machine = machineInfo();
  printMachine(machine);
  const load = (): string => loadavg().map((x) => x.toFixed(2)).join(', ');
  const loadAtStart = load();
  console.log(`backend ${backend}${simd === undefined ? '' : simd ? ' (SIMD)' : ''}; models ${models.join(', ')}; seeds ${seeds.join(', ')}`);

  const candidates = [
    { label: 'adamw()', muon: null, adamwHalf: null, spec: fixedSpec('adamw()', () => adamw()) },
    ...muonRates.flatMap((m) => adamwRates.map((a) => ({
      label: `muonWithAdamW(model, { muon: ${m}, adamw: ${a} })`, muon: m, adamwHalf: a,
      spec: fixedSpec(`hybrid ${m}/${a}`, (model) => muonWithAdamW(model, { muon: { learningRate: m }, adamw: { learningRate: a } })),
    }))),
  ];
  const results: { model: string; steps: number; measured: Measured[] }[] = [];
  for (const id of models) {
    const task = createTask(id, DEFAULT_SCALE);
    const steps = DEFAULT_EPOCHS[id] * task.stepsPerEpoch;
    const measured: Measured[] = [];
    for (const c of candidates) {
      const runs = seeds.map((seed) => {
        const r = trainRun({ task, optimizer: c.spec, learningRate: 0, auxLearningRate: 0, seed, steps, evaluateOn: 'test' });
        console.log(`${id} ${c.label} seed ${seed}: test loss ${r.evaluation.loss.toFixed(4)}, accuracy ${(100 * r.evaluation.accuracy).toFixed(2)} %${r.diverged ? ' (diverged)' : ''}, ${r.trainSeconds.toFixed(1)} s`);
        return r;
      });
      measured.push({
        label: c.label, muon: c.muon, adamwHalf: c.adamwHalf,
        testLoss: stat(runs.map((r) => r.evaluation.loss)), testAccuracy: stat(runs.map((r) => r.evaluation.accuracy)),
        diverged: runs.filter((r) => r.diverged).length,
        perSeed: runs.map((r) => ({ seed: r.seed, testLoss: r.evaluation.loss, testAccuracy: r.evaluation.accuracy })),
      });
    }
    results.push({ model: id, steps, measured });
    // Written after every model, so that a stopped run keeps what it measured.
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'hybrid-defaults.partial.json'), `${JSON.stringify({ machine, loadAtStart, backend, seeds, models: results }, null, 2)}\n`);
  }

  // The geometric mean over models of each candidate's mean test loss over adamw()'s.
  const ratioOf = (label: string): number => Math.exp(results.reduce((s, r) => {
    const base = r.measured[0] as Measured;
    const m = r.measured.find((x) => x.label === label) as Measured;
    return s + Math.log(m.testLoss.mean / base.testLoss.mean);
  }, 0) / results.length);
  const ranking = candidates.slice(1).map((c) => ({ label: c.label, muon: c.muon, adamwHalf: c.adamwHalf, ratio: ratioOf(c.label) })).sort((a, b) => a.ratio - b.ratio);
  const loadAtEnd = load();

  const lines = [
    '# Defaults of muonWithAdamW(model), measured (issue 25 item 3)',
    '',
    `Command: \`npm run bench:hybrid-defaults${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\`; ${machine.cpuModel}, ${machine.cores} cores, ${backend}; load average (1, 5, 15 min) ${loadAtStart} at the start, ${loadAtEnd} at the end (losses do not depend on load).`,
    `Constant rates, every other setting the library's default; epochs of the benchmark's default run; seeds ${seeds.join(', ')}. Test loss mean ± sample std over the seeds.`,
    '',
    ...results.flatMap((r) => [
      `## ${r.model} (${r.steps} steps)`,
      '',
      '| Optimizer | Test loss | Test accuracy % | vs adamw() |',
      '|---|---:|---:|---:|',
      ...r.measured.map((m) => `| ${m.label}${m.diverged > 0 ? ` (${m.diverged} diverged)` : ''} | ${m.testLoss.mean.toFixed(4)} ± ${m.testLoss.std.toFixed(4)} | ${(100 * m.testAccuracy.mean).toFixed(2)} ± ${(100 * m.testAccuracy.std).toFixed(2)} | ${(m.testLoss.mean / (r.measured[0] as Measured).testLoss.mean).toFixed(3)}× |`),
      '',
    ]),
    '## Candidates ranked by the geometric mean over models of test loss ÷ adamw()\'s',
    '',
    '| Candidate | Geometric mean ratio |',
    '|---|---:|',
    ...ranking.map((c) => `| ${c.label} | ${c.ratio.toFixed(3)}× |`),
    '',
  ];
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'hybrid-defaults.md'), lines.join('\n'));
  writeFileSync(join(out, 'hybrid-defaults.json'), `${JSON.stringify({ machine, loadAtStart, loadAtEnd, backend, seeds, models: results, ranking }, null, 2)}\n`);
  console.log(lines.join('\n'));
  console.log(`wrote ${join(out, 'hybrid-defaults.md')} and .json`);
}

await main();
