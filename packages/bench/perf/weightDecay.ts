/**
 * `npm run bench:weight-decay`: decoupled, corrected and cautious weight decay compared on the
 * benchmark transformer (Moby Dick characters) with a decaying learning-rate schedule, by training
 * loss and by the RMS of the Muon-trained weights over time.
 *
 *   npm run bench:weight-decay [-- --steps 200 --wd 0.1 --out docs/stability]
 *
 * The Muon hybrid of `npm run bench` (Muon lr 0.05, AdamW lr 3e-3; linear decay of both to 0 over
 * the run), one seed, the same initial weights and batches for the three variants; only the decay
 * of the Muon group changes (wd on Muon only, as nanochat and modded-nanogpt's Muon groups):
 * - decoupled: p ← p − lr_t·wd·p;
 * - corrected: p ← p − (lr_t²/lr_max)·wd·p (`correctedWeightDecay`);
 * - cautious: decoupled decay only where update·p ≥ 0 (`cautiousWeightDecay`).
 * Writes weight-decay.json and weight-decay-{loss,rms}.svg.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { type MuonWithAdamWOptimizer, muonWithAdamW } from 'muon-tfjs';
import { setupBackend } from '../src/benchmark/runs/backend.js';
import type { OptimizerSpec } from '../src/benchmark/protocol/optimizers.js';
import { optimizerSpec } from '../src/benchmark/protocol/optimizers.js';
import { movingAverage } from '../src/benchmark/protocol/stats.js';
import { commandLine } from 'muon-tfjs-harness';
import { lossChartSpec } from '../src/benchmark/report/lossChart.js';
import { renderVegaLite } from '../src/benchmark/report/renderVegaLite.js';
import { createTask, DEFAULT_SCALE } from 'muon-tfjs-tasks/catalog';
import { trainRun } from '../src/benchmark/runs/trainRun.js';

const USAGE = `Usage: npm run bench:weight-decay [-- options]

The benchmark transformer trained with decoupled, corrected and cautious weight decay on the Muon
group, a linearly decaying schedule: training loss and weight RMS per layer over time.

Options:
  --steps N     training steps (default 200)
  --wd X        weight decay of the Muon group (default 0.1)
  --out DIR     output folder (default bench-results)
  -h, --help    this text
`;
const args = commandLine({ usage: USAGE, strings: ['steps', 'wd', 'out'] });
const values = { out: args.out ?? 'bench-results' };
const steps = Number(args.steps ?? 200);
const weightDecay = Number(args.wd ?? 0.1);
const LR = 0.05;
const AUX_LR = 3e-3;
const EVERY = 10;
const VARIANTS = [
  { label: 'decoupled', color: '#1f77b4', options: {} },
  { label: 'corrected', color: '#d62728', options: { correctedWeightDecay: true } },
  { label: 'cautious', color: '#2ca02c', options: { cautiousWeightDecay: true } },
] as const;

await setupBackend('wasm');
const task = createTask('transformer', DEFAULT_SCALE);
const results = VARIANTS.map((variant) => {
  let optimizer: MuonWithAdamWOptimizer | undefined;
  const rms: { step: number; perLayer: Record<string, number> }[] = [];
  const base = optimizerSpec('muon');
  const spec: OptimizerSpec = {
    ...base,
    label: variant.label,
    create: (learningRate, { model }) => {
      const created = muonWithAdamW(model, {
        muon: { learningRate, momentum: 0.95, weightDecay, ...variant.options },
        adamw: { learningRate: AUX_LR, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 },
      });
      const muonVariables = new Set(created.describeRouting().filter((r) => r.label === 'muon').map((r) => r.variable));
      created.addAfterStepHook('rms', ({ step, variables }) => {
        if (step % EVERY !== 0) return;
        const perLayer: Record<string, number> = {};
        for (const [name, v] of Object.entries(variables)) {
          if (!muonVariables.has(name)) continue;
          const data = Array.from((v as tf.Variable).dataSync() as Float32Array);
          perLayer[name.replace(/_\d+$/, '')] = Math.sqrt(data.reduce((s, x) => s + x * x, 0) / data.length);
        }
        rms.push({ step, perLayer });
      });
      optimizer = created;
      return created;
    },
  };
  const record = trainRun({
    task, optimizer: spec, learningRate: LR, auxLearningRate: AUX_LR, seed: 1, steps, evaluateOn: 'test',
    onStep: (step, loss) => {
      // Linear decay to 0 over the run (the rate for the next step).
      const factor = Math.max(1e-3, 1 - step / steps);
      if (optimizer !== undefined) {
        optimizer.muonLearningRate = LR * factor;
        optimizer.adamwLearningRate = AUX_LR * factor;
      }
      if (step % 25 === 0) process.stderr.write(`${variant.label}: step ${step}, loss ${loss.toFixed(4)}\n`);
    },
  });
  return { ...variant, losses: record.losses, testLoss: record.evaluation.loss, rms };
});

const out = resolve(values.out);
mkdirSync(out, { recursive: true });
const window = 20;
const settings = `Muon lr ${LR}, wd ${weightDecay}, linear decay to 0, ${steps} steps, seed 1`;
writeFileSync(join(out, 'weight-decay.json'), `${JSON.stringify({ steps, weightDecay, learningRate: LR, auxLearningRate: AUX_LR, results }, null, 1)}\n`);
writeFileSync(join(out, 'weight-decay-loss.svg'), await renderVegaLite(lossChartSpec({
  title: 'Training loss: decoupled, corrected, cautious weight decay', xLabel: `step (smoothed over ${window}; ${settings})`, yLabel: 'training loss',
  series: results.map((r) => ({ label: r.label, color: r.color, x: r.losses.map((_, i) => i + 1), y: movingAverage(r.losses, window) })),
})));
const layers = Object.keys(results[0]?.rms[0]?.perLayer ?? {});
writeFileSync(join(out, 'weight-decay-rms.svg'), await renderVegaLite(lossChartSpec({
  title: 'RMS of the Muon-trained weights (mean over layers)', xLabel: `step (${settings})`, yLabel: 'weight RMS',
  series: results.map((r) => ({ label: r.label, color: r.color, x: r.rms.map((p) => p.step), y: r.rms.map((p) => layers.reduce((s, l) => s + (p.perLayer[l] ?? 0), 0) / layers.length) })),
})));
const tail = (xs: number[]): number => xs.slice(-20).reduce((a, b) => a + b, 0) / Math.min(20, xs.length);
process.stdout.write(`| Variant | Train loss (last 20 steps) | Test loss | Weight RMS at the end (mean over ${layers.length} Muon matrices) |\n|---|---|---|---|\n`);
for (const r of results) {
  const last = r.rms.at(-1)?.perLayer ?? {};
  process.stdout.write(`| ${r.label} | ${tail(r.losses).toFixed(4)} | ${r.testLoss.toFixed(4)} | ${(layers.reduce((s, l) => s + (last[l] ?? 0), 0) / layers.length).toFixed(5)} |\n`);
}
