/**
 * `npm run bench:adam`: the library's AdamW step against tfjs's own `tf.train.adam` on the same
 * gradients (issue 25, item 2: a user who swaps optimizers sees the difference). Variables of an
 * MLP (default 784-512-512-10: kernels and biases), seeded random gradients, one `applyGradients`
 * per timed call; `adamw()` with its all-or-nothing check (the default), `adamw()` with
 * `checkFinite = false` (what the check costs), and `tf.train.adam`, taking turns run by run so
 * that a change in the machine's load hits all three alike. Weight decay 0 in both, so the
 * arithmetic is the same Adam update.
 *
 *   npm run bench:adam [-- --backend wasm --layers 784,512,512,10 --runs 9 --steps 20]
 *
 * Median ms per step over `--runs` runs of `--steps` steps each, after one warm-up run; the
 * ratios are of those medians. Results go to bench-results/adam-step-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { adamw } from 'muon-tfjs';
import { commandLine, machineInfo, median, printMachine } from 'muon-tfjs-harness';

const USAGE = `Usage: npm run bench:adam [-- options]

The library's AdamW step (with and without its finiteness check) against tf.train.adam on the same
gradients. Writes bench-results/adam-step-<time>.json.

Options:
  --backend NAME   wasm (default) or cpu
  --layers LIST    MLP layer sizes (default 784,512,512,10)
  --runs N         timed runs per optimizer, taking turns (default 9)
  --steps N        steps per run (default 20)
  -h, --help       this text
`;

const args = commandLine({ usage: USAGE, strings: ['backend', 'layers', 'runs', 'steps'] });
const backend = args.backend ?? 'wasm';
if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`--backend must be wasm or cpu, got '${backend}'`);
const layers = (args.layers ?? '784,512,512,10').split(',').map(Number);
if (layers.length < 2 || !layers.every((n) => Number.isInteger(n) && n > 0)) throw new Error(`--layers must be at least two positive integers, got '${args.layers ?? ''}'`);
const positive = (value: string | undefined, fallback: number, name: string): number => {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${value ?? ''}'`);
  return n;
};
const runs = positive(args.runs, 9, 'runs');
const steps = positive(args.steps, 20, 'steps');

await tf.setBackend(backend);
const shapes = layers.slice(1).flatMap((out, i) => [[layers[i] as number, out], [out]]);

/** One optimizer's own copy of the variables and the same gradients (seeded alike for each). */
function contestant(tag: string, step: (grads: { name: string; tensor: tf.Tensor }[]) => void): { tag: string; run: () => number } {
  const variables = shapes.map((shape, i) => tf.variable(tf.randomNormal(shape, 0, 0.05, 'float32', i), true, `${tag}_${i}`));
  // The list form, which both libraries take (tfjs types its map form as one of variables).
  const grads = variables.map((v, i) => ({ name: v.name, tensor: tf.randomNormal(shapes[i] as number[], 0, 0.01, 'float32', 100 + i) }));
  return {
    tag,
    run: () => {
      const start = performance.now();
      for (let s = 0; s < steps; s++) step(grads);
      // The cpu and wasm backends compute synchronously: the time is the steps' own.
      return (performance.now() - start) / steps;
    },
  };
}

const checked = adamw({ learningRate: 1e-3, weightDecay: 0 });
const unchecked = adamw({ learningRate: 1e-3, weightDecay: 0 });
unchecked.checkFinite = false;
const tfjsAdam = tf.train.adam(1e-3);
const contestants = [
  contestant('adamw', (g) => checked.applyGradients(g)),
  contestant('adamw (checkFinite off)', (g) => unchecked.applyGradients(g)),
  contestant('tf.train.adam', (g) => tfjsAdam.applyGradients(g)),
];
for (const c of contestants) c.run(); // warm-up: state creation, kernel compilation
const times = contestants.map(() => [] as number[]);
for (let r = 0; r < runs; r++) contestants.forEach((c, i) => times[i]?.push(c.run()));

const machine = machineInfo();
const load = loadavg();
printMachine(machine);
console.log(`backend ${backend}, MLP ${layers.join('-')} (${shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0)} parameters), ${runs} runs × ${steps} steps, load average ${load.map((l) => l.toFixed(2)).join(' ')}\n`);
const reference = median(times[2] ?? []);
const rows = contestants.map((c, i) => ({ optimizer: c.tag, msPerStep: median(times[i] ?? []), vsTfjsAdam: median(times[i] ?? []) / reference }));
console.log('| optimizer | ms / step (median) | × tf.train.adam |\n|---|---:|---:|');
for (const row of rows) console.log(`| ${row.optimizer} | ${row.msPerStep.toFixed(2)} | ${row.vsTfjsAdam.toFixed(2)} |`);
mkdirSync('bench-results', { recursive: true });
const file = `bench-results/adam-step-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify({ benchmark: 'adam-step', backend, layers, runs, steps, machine, loadAverage: load, rows, runsMs: Object.fromEntries(contestants.map((c, i) => [c.tag, times[i]])) }, null, 2));
console.log(`\nwrote ${file}`);
