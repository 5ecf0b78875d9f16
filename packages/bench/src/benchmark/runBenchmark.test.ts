import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from './runs/backend.js';
import { scheduleValue, type Scheduled } from 'muon-tfjs';
import { DEFAULT_OPTIMIZER_KINDS, optimizerSpec, type OptimizerKind, type OptimizerSpec } from './protocol/optimizers.js';
import { validateResults, type BenchResults } from './results/results.js';
import { runBenchmark } from './runBenchmark.js';
import { formatRunSummary, type RunSummary } from './runs/runSummary.js';
import { formatMarkdownTable, formatStat, formatTextReport, tableRows, TABLE_HEADERS } from './report/table.js';
import { createTask, type TaskScale } from 'muon-tfjs-tasks/catalog';
import { TASK_SCHEDULES } from './protocol/taskSchedules.js';
import { trainRun } from './runs/trainRun.js';
import { resultsJson, writeOutputs } from './report/writeOutputs.js';

/** A few steps of everything: 256 MNIST examples (2 steps of 128), a one-block width-32 transformer. */
const TINY: TaskScale = {
  maxTrainExamples: 256,
  textStepsPerEpoch: 2,
  textEvaluationWindows: 8,
  transformer: { sequenceLength: 16, width: 32, heads: 2, layers: 1, mlpWidth: 64 },
  textBatchSize: 4,
};

/** The learning rates each optimizer was created with, in order (the spec still builds the real optimizer). */
const createdWith = new Map<string, Scheduled[]>();
/** The rates of the AdamW half each optimizer was created with, in the same order. */
const createdWithAux = new Map<string, Scheduled[]>();

/** Two-point grids (Sophia's ρ too) keep the test to a few hundred steps in all. */
const tinySpec = (kind: OptimizerKind): OptimizerSpec => {
  const spec = optimizerSpec(kind);
  return {
    ...spec,
    grid: spec.grid.slice(1, 3),
    ...(spec.tunedAfter && { tunedAfter: spec.tunedAfter.map((p) => ({ ...p, grid: p.grid.slice(2, 4) })) }),
    create: (learningRate, context) => {
      createdWith.set(kind, [...(createdWith.get(kind) ?? []), learningRate]);
      createdWithAux.set(kind, [...(createdWithAux.get(kind) ?? []), context.auxLearningRate]);
      return spec.create(learningRate, context);
    },
  };
};

/** A minimal XML well-formedness check: tags nest and close, one root <svg>. */
function wellFormedSvg(text: string): boolean {
  if (!text.trimStart().startsWith('<svg xmlns="http://www.w3.org/2000/svg"')) return false;
  const stack: string[] = [];
  for (const m of text.matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing === '/') continue;
    if (closing === '/') {
      if (stack.pop() !== name) return false;
    } else {
      stack.push(name as string);
    }
  }
  return stack.length === 0 && /<\/svg>\s*$/.test(text);
}

describe('muon-tfjs bench harness on a tiny configuration (wasm)', () => {
  let results: BenchResults;
  const logged: RunSummary[] = [];
  const evaluated: { model: string; phase: string; split: string }[] = [];

  beforeAll(async () => {
    await setupBackend('wasm');
    results = runBenchmark({
      entries: [
        { task: createTask('mlp', TINY), epochs: 2, schedule: TASK_SCHEDULES.mlp },
        { task: createTask('convnet', TINY), epochs: 1, schedule: TASK_SCHEDULES.convnet },
        { task: createTask('transformer', TINY), epochs: 2, schedule: TASK_SCHEDULES.transformer },
      ],
      optimizers: DEFAULT_OPTIMIZER_KINDS.map(tinySpec),
      seeds: [1, 2],
      protocol: { tuneFraction: 0.5, maxExtensions: 1 },
      mode: 'default',
      backend: 'wasm',
      simd: null,
      command: 'test',
      onRunEnd: (summary) => {
        logged.push(summary);
        evaluated.push({ model: summary.model, phase: summary.phase, split: summary.split });
      },
    });
    // About 100 runs of 1–4 tiny steps, each evaluated: a minute of CPU, more on a loaded machine.
  }, 600_000);

  it('produces a results file that matches its schema and survives JSON', () => {
    expect(validateResults(results)).toEqual([]);
    const parsed: unknown = JSON.parse(resultsJson(results));
    expect(validateResults(parsed)).toEqual([]);
    expect(results.models.map((m) => m.id)).toEqual(['mlp', 'convnet', 'transformer']);
    for (const model of results.models) {
      expect(model.optimizers.map((o) => o.kind)).toEqual([...DEFAULT_OPTIMIZER_KINDS]);
      for (const o of model.optimizers) {
        const lr = o.searches[0];
        expect(lr?.parameter).toBe('learningRate');
        // Two initial points: the best is always at an edge, so the one allowed extension is used.
        expect(lr?.points).toHaveLength(3);
        expect(lr?.extensions).toBe(1);
        expect(lr?.points.map((g) => g.value)).toContain(o.learningRate);
        // Sophia tunes ρ after its rate; a hybrid tunes its AdamW half's factor after its own rate.
        const after = { sophia: ['rho'], muon: ['adamwFactor'], normuon: ['adamwFactor'] }[o.kind as string] ?? [];
        expect(o.searches.map((s) => s.parameter)).toEqual(['learningRate', ...after]);
        expect(o.runs.map((r) => r.seed)).toEqual([1, 2]);
        for (const r of o.runs) {
          expect(r.losses).toHaveLength(model.steps);
          expect(r.optimizerShare).toBeGreaterThan(0);
          expect(r.optimizerShare).toBeLessThan(1);
          expect(r.testAccuracy).toBeGreaterThanOrEqual(0);
          expect(r.testAccuracy).toBeLessThanOrEqual(1);
        }
      }
      const muon = model.optimizers.find((o) => o.kind === 'muon');
      expect(muon?.auxLearningRate).toBe(model.optimizers.find((o) => o.kind === 'adamw')?.learningRate);
    }
    expect(validateResults({ ...results, models: [{ id: 3 }] }).length).toBeGreaterThan(0);
  });

  it('prints a table per model with every optimizer', () => {
    const text = formatTextReport(results);
    for (const h of TABLE_HEADERS) expect(text).toContain(h);
    for (const label of ['Muon (+AdamW)', 'AdamW', 'SGD momentum', 'Lion', 'NorMuon (+AdamW)', 'SophiaG']) expect(text).toContain(label);
    expect(text).toMatch(/SophiaG +\S+ \(ρ /);
    const md = formatMarkdownTable(results.models[0] as BenchResults['models'][number]);
    expect(md.split('\n')).toHaveLength(2 + DEFAULT_OPTIMIZER_KINDS.length);
    expect(md).toMatch(/^\| Optimizer \| Tuned \| Final train loss \|/);
  });

  it('writes results.json, valid SVG plots and a self-contained report.html', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'muon-bench-'));
    await writeOutputs(results, dir);
    expect(validateResults(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')))).toEqual([]);
    for (const id of ['mlp', 'convnet', 'transformer']) {
      for (const kind of ['step', 'time']) {
        const svg = readFileSync(join(dir, `${id}-loss-vs-${kind}.svg`), 'utf8');
        expect(wellFormedSvg(svg)).toBe(true);
        // One Vega line mark per optimizer, each named in the legend.
        expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(DEFAULT_OPTIMIZER_KINDS.length);
        for (const o of (results.models.find((m) => m.id === id) as BenchResults['models'][number]).optimizers) expect(svg).toContain(`>${o.label}</text>`);
      }
    }
    for (const id of ['mlp', 'convnet', 'transformer']) {
      for (const stem of ['lr', 'rho', 'adamwFactor']) {
        const grid = readFileSync(join(dir, `${id}-${stem}-grid.svg`), 'utf8');
        expect(wellFormedSvg(grid)).toBe(true);
        expect(grid).toContain('ringed: the value chosen');
      }
    }
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    // Per model: loss vs step, loss vs time, steps/time to target, the lr grids, Sophia's ρ grid and
    // the hybrids' AdamW-half grid.
    expect(html.match(/<svg /g)).toHaveLength(18);
    for (const id of ['mlp', 'convnet', 'transformer']) expect(wellFormedSvg(readFileSync(join(dir, `${id}-target.svg`), 'utf8'))).toBe(true);
    expect(html).not.toMatch(/<script|src="http|href="http/);
    expect(existsSync(join(dir, 'summary.md'))).toBe(true);
  });

  it('tunes on the held-out split only and reports on the test split only', () => {
    for (const model of results.models) {
      const runs = evaluated.filter((e) => e.model === model.id);
      const tuningRuns = model.optimizers.reduce((n, o) => n + o.searches.reduce((m, s) => m + s.points.length, 0), 0);
      // AdamW's search serves both AdamW and the hybrids' AdamW groups: run once.
      expect(runs.filter((e) => e.phase.startsWith('tune ')).every((e) => e.split === 'validation')).toBe(true);
      expect(runs.filter((e) => e.phase.startsWith('tune '))).toHaveLength(tuningRuns);
      expect(runs.filter((e) => e.phase.startsWith('seed ')).every((e) => e.split === 'test')).toBe(true);
      expect(runs.filter((e) => e.phase.startsWith('seed '))).toHaveLength(model.optimizers.length * 2);
    }
  });

  it('trains tuning runs on the schedule compressed to their length, measured runs on the full one', () => {
    const mlp = results.models[0] as BenchResults['models'][number];
    for (const kind of DEFAULT_OPTIMIZER_KINDS) {
      const o = mlp.optimizers.find((x) => x.kind === kind) as BenchResults['models'][number]['optimizers'][number];
      const tuningRuns = o.searches.reduce((m, s) => m + s.points.length, 0);
      const created = (createdWith.get(kind) ?? []).slice(0, tuningRuns + 2);
      const steps = created.map((lr) => (typeof lr === 'number' ? Number.NaN : lr.kind === 'decay' ? lr.steps : Number.NaN));
      expect(steps).toEqual([...Array<number>(tuningRuns).fill(mlp.tuneSteps), mlp.steps, mlp.steps]);
      // Every run's rate decays linearly to 0 at its own last step, from its peak.
      created.forEach((lr, i) => {
        expect(scheduleValue(lr, steps[i] as number)).toBe(0);
        if (i >= tuningRuns) expect(scheduleValue(lr, 0)).toBe(o.learningRate);
      });
      expect(created.slice(0, o.searches[0]?.points.length).map((lr) => scheduleValue(lr, 0)).sort((a, b) => a - b))
        .toEqual(o.searches[0]?.points.map((p) => p.value));
    }
    expect(mlp.tuneSteps).toBe(Math.round(mlp.steps * 0.5));
  });

  it("tunes a hybrid's AdamW half as a factor of AdamW's chosen rate, after the hybrid's own rate, and measures at the chosen factor", () => {
    for (const model of results.models) {
      const adamwPeak = model.optimizers.find((o) => o.kind === 'adamw')?.learningRate as number;
      for (const kind of ['muon', 'normuon'] as const) {
        const o = model.optimizers.find((x) => x.kind === kind) as BenchResults['models'][number]['optimizers'][number];
        const [lrSearch, factorSearch] = o.searches;
        expect(factorSearch?.parameter).toBe('adamwFactor');
        expect(factorSearch?.fixed).toEqual({ learningRate: o.learningRate });
        expect(factorSearch?.points.map((p) => p.value)).toContain(o.tuned['adamwFactor']);
        const model0 = results.models.indexOf(model);
        // This model's runs of `kind`, in order: the lr search (factor 1), the factor search, the seeds.
        const before = results.models.slice(0, model0).reduce((n, m) => {
          const x = m.optimizers.find((y) => y.kind === kind) as typeof o;
          return n + x.searches.reduce((k, s) => k + s.points.length, 0) + x.runs.length;
        }, 0);
        const aux = (createdWithAux.get(kind) ?? []).slice(before).map((lr) => scheduleValue(lr, 0));
        const lrRuns = lrSearch?.points.length as number;
        const factorRuns = factorSearch?.points.length as number;
        expect(aux.slice(0, lrRuns)).toEqual(Array<number>(lrRuns).fill(adamwPeak));
        expect(aux.slice(lrRuns, lrRuns + factorRuns).sort((a, b) => a - b)).toEqual(factorSearch?.points.map((p) => adamwPeak * p.value));
        expect(aux.slice(lrRuns + factorRuns, lrRuns + factorRuns + o.runs.length)).toEqual(o.runs.map(() => adamwPeak * (o.tuned['adamwFactor'] as number)));
      }
    }
  });

  it('reports time to target as the training time at the step that reached it, and the optimizer step share', () => {
    for (const model of results.models) {
      const rows = tableRows(model);
      model.optimizers.forEach((o, i) => {
        for (const r of o.runs) {
          expect(r.times).toHaveLength(r.losses.length);
          expect(r.times.at(-1)).toBeCloseTo(r.wallSeconds, 9);
          if (r.stepsToTarget === null) expect(r.secondsToTarget).toBeNull();
          else expect(r.secondsToTarget).toBe(r.times[r.stepsToTarget - 1]);
        }
        const row = rows[i] as string[];
        const column = (name: string): string => row[TABLE_HEADERS.indexOf(name as (typeof TABLE_HEADERS)[number])] as string;
        expect(column('Time to target s')).toEqual(o.summary.reachedTarget === 0 ? 'not reached' : expect.stringContaining(formatStat(o.summary.secondsToTarget, 1)));
        expect(column('Opt. step share')).toBe(`${formatStat(o.summary.optimizerShare, 0, 100)} %`);
      });
      // AdamW's own target: its smoothed loss ends at its final loss, so at least one seed reaches it.
      expect(model.optimizers.find((o) => o.kind === 'adamw')?.summary.reachedTarget).toBeGreaterThan(0);
    }
  });

  it('logs for each measured run the same final train loss as the table', () => {
    for (const model of results.models) {
      for (const o of model.optimizers) {
        for (const r of o.runs) {
          const line = logged.find((l) => l.model === model.id && l.optimizer === o.label && l.phase === `seed ${r.seed}`) as RunSummary;
          expect(line.finalTrainLoss).toBe(r.finalTrainLoss);
          expect(formatRunSummary(line)).toContain(`final train loss ${r.finalTrainLoss.toFixed(4)}`);
        }
        if (o.runs.length === 1) expect(tableRows(model).flat()).toContain(o.runs[0]?.finalTrainLoss.toFixed(4));
      }
    }
  });

  it('gives the same numbers for the same seed and different ones for another seed', () => {
    const task = createTask('transformer', TINY);
    const run = (seed: number) => trainRun({
      task, optimizer: optimizerSpec('muon'), learningRate: 0.02, auxLearningRate: 1e-3, seed, steps: 3, evaluateOn: 'validation',
    });
    const a = run(7);
    const b = run(7);
    const c = run(8);
    expect(b.losses).toEqual(a.losses);
    expect(b.evaluation).toEqual(a.evaluation);
    expect(c.losses).not.toEqual(a.losses);
    const m1 = results.models[0]?.optimizers[0]?.runs[0]?.losses;
    const m2 = results.models[0]?.optimizers[0]?.runs[1]?.losses;
    expect(m1).not.toEqual(m2);
  });
});

describe('runBenchmark with learning rates chosen by an earlier search', () => {
  it('skips their search, keeps the others, marks them in the table and refuses one for an optimizer not compared', async () => {
    await setupBackend('wasm');
    const options = {
      entries: [{ task: createTask('mlp', TINY), epochs: 1, schedule: TASK_SCHEDULES.mlp }],
      optimizers: [tinySpec('adamw'), tinySpec('sgd')],
      seeds: [1],
      protocol: { tuneFraction: 0.5, maxExtensions: 0 },
      mode: 'default' as const,
      backend: 'wasm',
      simd: null,
      command: 'test',
    };
    const tuning: string[] = [];
    const results = runBenchmark({ ...options, chosenLearningRates: { adamw: 0.01 }, onRunEnd: (s) => void (s.phase.startsWith('tune') && tuning.push(s.optimizer)) });
    const [adamw, sgd] = results.models[0]?.optimizers ?? [];
    expect(adamw).toMatchObject({ learningRate: 0.01, searches: [] });
    expect(sgd?.searches.map((s) => s.parameter)).toEqual(['learningRate']);
    expect(tuning).toEqual(['SGD momentum', 'SGD momentum']);
    expect(tableRows(results.models[0] as BenchResults['models'][number])[0]?.[1]).toBe('0.01 [lr given]');
    expect(() => runBenchmark({ ...options, chosenLearningRates: { muon: 0.02 } })).toThrow("runBenchmark: a learning rate is given for 'muon', which is not compared (adamw, sgd)");
  });
});
