import { mkdtempSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTask, type TaskScale } from 'muon-tfjs-tasks/catalog';
import { makeBenchPlan } from '../benchmark/protocol/benchPlan.js';
import { optimizerSpec, type OptimizerSpec } from '../benchmark/protocol/optimizers.js';
import { TASK_SCHEDULES } from '../benchmark/protocol/taskSchedules.js';
import { setupBackend } from '../benchmark/runs/backend.js';
import { runBenchmark } from '../benchmark/runBenchmark.js';
import { validateResults, type BenchResults } from '../benchmark/results/results.js';
import { writeOutputs } from '../benchmark/report/writeOutputs.js';
import { createRunDirectory, pointLatestAt } from './outputDirectory.js';

/** 256 MNIST examples: 2 steps of 128 per epoch. */
const TINY: TaskScale = { maxTrainExamples: 256, textStepsPerEpoch: 2, textEvaluationWindows: 8, transformer: { sequenceLength: 16, width: 32, heads: 2, layers: 1, mlpWidth: 64 }, textBatchSize: 4 };

/** Two-point grids: the search still extends past the edge it picks. */
const tiny = (spec: OptimizerSpec): OptimizerSpec => ({ ...spec, grid: spec.grid.slice(1, 3) });

describe('bench --quick on a tiny budget: the plan, the runs, the verdict on top, a folder of its own', () => {
  const root = mkdtempSync(join(tmpdir(), 'muon-bench-quick-'));
  const plan = makeBenchPlan({ quick: true }, false);
  let results: BenchResults;
  let out: string;

  /** The quick plan's models, optimizers, seeds and protocol, on the tiny data; a cap of 1 extension keeps it to seconds. */
  const run = (seeds: readonly number[], chosenLearningRates?: Record<string, number>): BenchResults => runBenchmark({
    entries: plan.models.map((id) => ({ task: createTask(id, TINY), epochs: 2, schedule: TASK_SCHEDULES[id] })),
    optimizers: plan.optimizers.map((kind) => tiny(optimizerSpec(kind))),
    seeds, protocol: { ...plan.protocol, tuneFraction: 0.5, maxExtensions: 1 }, mode: plan.mode, backend: 'wasm', simd: null, command: 'muon-tfjs bench --quick',
    ...(chosenLearningRates !== undefined && { chosenLearningRates }),
  });

  beforeAll(async () => {
    await setupBackend('wasm');
    results = run(plan.seeds);
    out = createRunDirectory(root, results.config.mode);
    await writeOutputs(results, out);
    pointLatestAt(out);
  }, 300_000);

  it('runs Muon against AdamW on the MLP over 3 seeds, and records the load and the kernels', () => {
    expect(validateResults(results)).toEqual([]);
    expect(results.config).toMatchObject({ mode: 'quick', models: ['mlp'], optimizers: ['muon', 'adamw'], seeds: [1, 2, 3] });
    expect(results.machine.loadAverage?.start).toHaveLength(3);
    expect(results.machine.loadAverage?.end).toHaveLength(3);
    expect(results.machine.kernels).toMatch(/^TF\.js wasm \(\d+ XNNPACK threads?(, SIMD)?\); Muon's Newton–Schulz: (native, .*, \d+ threads? (following the load|fixed)|tfjs \(.+\))$/);
  });

  it('writes the verdict first in summary.md and report.html, then the machine line with load and kernels', () => {
    expect(readdirSync(root).sort()).toEqual([out.split('/').at(-1), 'latest'].sort());
    expect(realpathSync(join(root, 'latest'))).toBe(realpathSync(out));
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(summary).toMatch(/^\*\*Verdict\.\*\* MLP on MNIST \(4 steps, 3 seeds\): Muon /);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    const verdict = html.indexOf('<p class="verdict">MLP on MNIST (4 steps, 3 seeds): Muon');
    expect(verdict).toBeGreaterThan(0);
    expect(verdict).toBeLessThan(html.indexOf('<table>'));
    expect(html).toMatch(/<p>Machine: .*; load average \(1 \/ 5 \/ 15 min\) [\d.]+ \/ [\d.]+ \/ [\d.]+ at the start, [\d.]+ \/ [\d.]+ \/ [\d.]+ at the end\.<\/p>/);
    expect(html).toContain("Muon's Newton–Schulz: ");
    // The busy warning follows the recorded load, whatever this machine's is now.
    const { start, end } = results.machine.loadAverage as { start: number[]; end: number[] };
    expect(html.includes('<p class="busy">The machine was busy')).toBe(Math.max(start[0] as number, end[0] as number, end[1] as number) > results.machine.cores);
    expect(html).toContain('3 seeds, mean ± std');
  });

  it('on one seed with the learning rates given: no "mean ± std" anywhere, and the given rates said on top', async () => {
    const chosen = { muon: 0.05, adamw: 3e-3 };
    const single = run([1], chosen);
    const dir = createRunDirectory(root, single.config.mode);
    expect(dir).not.toBe(out);
    await writeOutputs(single, dir);
    for (const file of readdirSync(dir).filter((f) => /\.(md|html|svg)$/.test(f))) {
      expect(readFileSync(join(dir, file), 'utf8'), file).not.toMatch(/mean ± std|mean of 1 seed|± /);
    }
    const summary = readFileSync(join(dir, 'summary.md'), 'utf8');
    // Tiny runs decide nothing, but on one seed no difference is ever called beyond noise.
    expect(summary).toMatch(/^\*\*Verdict\.\*\* MLP on MNIST \(4 steps, 1 seed\): Muon /);
    expect(summary).not.toMatch(/fewer steps|more steps|beyond seed noise/);
    expect(summary).toContain('Learning rates given by --chosen-lr (chosen by an earlier search, not searched in this run): Muon (+AdamW) 0.05, AdamW 0.003.');
    expect(readFileSync(join(dir, 'mlp-loss-vs-step.svg'), 'utf8')).toContain('smoothed over 1 steps, seed 1');
    // The first run's files are untouched by the second.
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/3 seeds/);
  });
});
