/**
 * `npm run bench:tracker-cost`: what `spectrumTracker` costs on the benchmark transformer (the
 * default `transformer` model: width 128, 2 blocks, batch 16 × 64 characters, Muon + AdamW).
 *
 *   npm run bench:tracker-cost [-- --steps 300 --every 100 --runs 3]
 *
 * Each run trains `--steps` steps twice from the same seed, once plain and once with the tracker
 * (`every` = its default, 100), in alternating order so that the machine's load hits both alike.
 * Reported per run: the tracker's own time (`tracker.seconds`: read-backs, spectra, ΔW, all of its
 * work) as a share of the tracked run's training time, and the wall-time difference between the
 * two runs. The first is the figure to quote on a shared machine; the second checks it but carries
 * the machine's noise. Results go to bench-results/tracker-cost-<time>.json; medians over `--runs`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { MuonWithAdamWOptimizer } from 'muon-tfjs';
import { spectrumTracker } from 'muon-tfjs/diagnostics';
import { setupBackend } from '../src/benchmark/runs/backend.js';
import { initializeWeights, createRandom, deriveSeed } from 'muon-tfjs-tasks';
import { optimizerSpec } from '../src/benchmark/protocol/optimizers.js';
import { DEFAULT_SCALE, createTask } from 'muon-tfjs-tasks/catalog';
import { commandLine, machineInfo, median, printMachine } from 'muon-tfjs-harness';

const USAGE = `Usage: npm run bench:tracker-cost [-- options]

What spectrumTracker costs on the benchmark transformer, as a share of training time.

Options:
  --steps N     training steps per run (default 300)
  --every N     the tracker's interval (default 100)
  --runs N      runs, median reported (default 3)
  -h, --help    this text
`;
const args = commandLine({ usage: USAGE, strings: ['steps', 'every', 'runs'] });

function count(name: 'steps' | 'every' | 'runs', fallback: number): number {
  const text = args[name];
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name}: expected a positive integer, got '${text}'`);
  return value;
}

const steps = count('steps', 300);
const every = count('every', 100);
const runs = count('runs', 3);

/** Trains `steps` steps; returns the training seconds and, when tracked, the tracker's seconds and records. */
function train(tracked: boolean): { trainSeconds: number; trackerSeconds: number; records: number } {
  const task = createTask('transformer', { ...DEFAULT_SCALE, textStepsPerEpoch: steps });
  const model = task.buildModel();
  initializeWeights(model, deriveSeed(1, 'init'));
  const optimizer = optimizerSpec('muon').create(0.02, { model, auxLearningRate: 3e-3 });
  if (!(optimizer instanceof MuonWithAdamWOptimizer)) throw new Error('the benchmark\'s muon optimizer is expected to be a MuonWithAdamWOptimizer');
  const tracker = tracked ? spectrumTracker(optimizer, { every }) : undefined;
  tracker?.start();
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let trainSeconds = 0;
  for (const batch of task.epochBatches(createRandom(deriveSeed(1, 'batches')))) {
    const start = performance.now();
    const { value, grads } = tf.variableGrads(() => task.loss(model, batch), variables);
    value.dataSync();
    tf.dispose([value, batch.x, batch.y]);
    optimizer.applyGradients(grads);
    tf.dispose(grads);
    trainSeconds += (performance.now() - start) / 1000;
  }
  const result = { trainSeconds, trackerSeconds: tracker?.seconds ?? 0, records: tracker?.records.length ?? 0 };
  tracker?.stop();
  optimizer.dispose();
  model.dispose();
  return result;
}

await setupBackend('wasm');
const machine = machineInfo();
printMachine(machine);
console.log(`Benchmark transformer (width 128, 2 blocks, batch 16 × 64), ${steps} steps, tracker every ${every}; ${runs} runs; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const rows: { run: number; plainSeconds: number; trackedSeconds: number; trackerSeconds: number; share: number; wallOverhead: number; records: number }[] = [];
for (let run = 1; run <= runs; run++) {
  // Alternate which goes first, so that a load change within a run does not favour one side.
  let plain;
  let tracked;
  if (run % 2 === 1) {
    plain = train(false);
    tracked = train(true);
  } else {
    tracked = train(true);
    plain = train(false);
  }
  const row = {
    run,
    plainSeconds: plain.trainSeconds,
    trackedSeconds: tracked.trainSeconds,
    trackerSeconds: tracked.trackerSeconds,
    share: tracked.trackerSeconds / tracked.trainSeconds,
    wallOverhead: tracked.trainSeconds / plain.trainSeconds - 1,
    records: tracked.records,
  };
  rows.push(row);
  console.log(`run ${run}: plain ${row.plainSeconds.toFixed(1)} s, tracked ${row.trackedSeconds.toFixed(1)} s; tracker ${row.trackerSeconds.toFixed(2)} s = ${(100 * row.share).toFixed(2)}% of training (${row.records} records); wall difference ${(100 * row.wallOverhead).toFixed(1)}%`);
}
const summary = {
  trackerShare: median(rows.map((r) => r.share)),
  trackerSecondsPerTrackedStep: median(rows.map((r) => r.trackerSeconds / Math.floor(steps / every))),
  stepSeconds: median(rows.map((r) => r.plainSeconds / steps)),
  wallOverhead: median(rows.map((r) => r.wallOverhead)),
};
console.log(`median: tracker ${(100 * summary.trackerShare).toFixed(2)}% of training time (${summary.trackerSecondsPerTrackedStep.toFixed(2)} s per tracked step, ${summary.stepSeconds.toFixed(3)} s per plain step); wall difference ${(100 * summary.wallOverhead).toFixed(1)}% (noise included)`);
mkdirSync('bench-results', { recursive: true });
const file = `bench-results/tracker-cost-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, `${JSON.stringify({ machine, steps, every, runs: rows, summary }, null, 1)}\n`);
console.log(`Wrote ${file}`);
