/**
 * `npm run bench:adam`: the library's AdamW step against tfjs's own `tf.train.adam` on the same
 * gradients (issue 25, item 2: a user who swaps optimizers sees the difference). Variables of an
 * MLP (default 784-512-512-10: kernels and biases), seeded random gradients, one `applyGradients`
 * per timed call; `tf.train.adam`, `adamw()` as it runs by default (in Node with the addon built,
 * the fused native step: one pass per variable, finiteness found while computing), `adamw()`
 * composed of TF.js ops with its all-or-nothing check (`execution: { fused: false }`, the
 * browser's path), and composed with `checkFinite = false` (what the check costs there), taking
 * turns run by run so that a change in the machine's load hits all four alike. Weight decay 0 in both, so the
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

The library's AdamW step (fused where it can, composed, composed without its finiteness check)
against tf.train.adam on the same gradients. Writes bench-results/adam-step-<time>.json.

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

const tfjsAdam = tf.train.adam(1e-3);
const checked = adamw({ learningRate: 1e-3, weightDecay: 0 });
const composed = adamw({ learningRate: 1e-3, weightDecay: 0, execution: { fused: false } });
const unchecked = adamw({ learningRate: 1e-3, weightDecay: 0, execution: { fused: false } });
unchecked.checkFinite = false;
const execution = checked.describeExecution()[0];
const contestants = [
  contestant('tf.train.adam', (g) => tfjsAdam.applyGradients(g)),
  contestant(`adamw (default: ${execution?.strategy ?? '?'})`, (g) => checked.applyGradients(g)),
  contestant('adamw, composed', (g) => composed.applyGradients(g)),
  contestant('adamw, composed, checkFinite off', (g) => unchecked.applyGradients(g)),
];
for (const c of contestants) c.run(); // warm-up: state creation, kernel compilation
const times = contestants.map(() => [] as number[]);
for (let r = 0; r < runs; r++) contestants.forEach((c, i) => times[i]?.push(c.run()));

const machine = machineInfo();
const load = loadavg();
printMachine(machine);
console.log(`backend ${backend}, MLP ${layers.join('-')} (${shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0)} parameters), ${runs} runs × ${steps} steps, load average ${load.map((l) => l.toFixed(2)).join(' ')}\n`);
if (execution?.reason !== undefined) console.log(`adamw's default runs ${execution.strategy}: ${execution.reason}`);
const reference = median(times[0] ?? []);
const rows = contestants.map((c, i) => ({ optimizer: c.tag, msPerStep: median(times[i] ?? []), vsTfjsAdam: median(times[i] ?? []) / reference }));
console.log('| optimizer | ms / step (median) | × tf.train.adam |\n|---|---:|---:|');
for (const row of rows) console.log(`| ${row.optimizer} | ${row.msPerStep.toFixed(2)} | ${row.vsTfjsAdam.toFixed(2)} |`);
mkdirSync('bench-results', { recursive: true });
const file = `bench-results/adam-step-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify({ benchmark: 'adam-step', backend, layers, runs, steps, machine, loadAverage: load, rows, runsMs: Object.fromEntries(contestants.map((c, i) => [c.tag, times[i]])) }, null, 2));
console.log(`\nwrote ${file}`);
