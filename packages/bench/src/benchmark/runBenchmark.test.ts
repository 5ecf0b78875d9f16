import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from './backend.js';
import { optimizerSpec, OPTIMIZER_KINDS, type OptimizerKind, type OptimizerSpec } from './optimizers.js';
import { validateResults, type BenchResults } from './results.js';
import { runBenchmark } from './runBenchmark.js';
import { formatMarkdownTable, formatTextReport, TABLE_HEADERS } from './table.js';
import { createTask, type TaskScale } from './tasks.js';
import { trainRun } from './trainRun.js';
import { resultsJson, writeOutputs } from './writeOutputs.js';

/** A few steps of everything: 256 MNIST examples (2 steps of 128), a one-block width-32 transformer. */
const TINY: TaskScale = {
  maxTrainExamples: 256,
  textStepsPerEpoch: 2,
  textEvaluationWindows: 8,
  transformer: { sequenceLength: 16, width: 32, heads: 2, layers: 1, mlpWidth: 64 },
  textBatchSize: 4,
};

/** Two-point grids keep the test to a few dozen steps in all. */
const tinySpec = (kind: OptimizerKind): OptimizerSpec => ({ ...optimizerSpec(kind), grid: optimizerSpec(kind).grid.slice(1, 3) });

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

  beforeAll(async () => {
    await setupBackend('wasm');
    results = runBenchmark({
      entries: [
        { task: createTask('mlp', TINY), epochs: 2 },
        { task: createTask('convnet', TINY), epochs: 1 },
        { task: createTask('transformer', TINY), epochs: 1 },
      ],
      optimizers: [...OPTIMIZER_KINDS],
      seeds: [1, 2],
      gridFraction: 0.5,
      mode: 'default',
      backend: 'wasm',
      simd: null,
      command: 'test',
      specFor: tinySpec,
    });
    // Every optimizer kind (seven, muon-auto included) × 3 models × 2 seeds plus grids: 52 s once on
    // the shared 2-core machine at load average 25, past vitest's 60 s default another time.
  }, 180_000);

  it('produces a results file that matches its schema and survives JSON', () => {
    expect(validateResults(results)).toEqual([]);
    const parsed: unknown = JSON.parse(resultsJson(results));
    expect(validateResults(parsed)).toEqual([]);
    expect(results.models.map((m) => m.id)).toEqual(['mlp', 'convnet', 'transformer']);
    for (const model of results.models) {
      expect(model.optimizers.map((o) => o.kind)).toEqual([...OPTIMIZER_KINDS]);
      for (const o of model.optimizers) {
        expect(o.grid).toHaveLength(2);
        expect(o.grid.map((g) => g.learningRate)).toContain(o.learningRate);
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
    for (const label of ['Muon (+AdamW)', 'AdamW', 'SGD momentum', 'Lion', 'NorMuon (+AdamW)', 'SophiaG', 'Muon auto-NS (+AdamW)']) expect(text).toContain(label);
    const md = formatMarkdownTable(results.models[0] as BenchResults['models'][number]);
    expect(md.split('\n')).toHaveLength(2 + OPTIMIZER_KINDS.length);
    expect(md).toMatch(/^\| Optimizer \| lr \|/);
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
        expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(OPTIMIZER_KINDS.length);
        for (const o of (results.models.find((m) => m.id === id) as BenchResults['models'][number]).optimizers) expect(svg).toContain(`>${o.label}</text>`);
      }
    }
    for (const id of ['mlp', 'convnet', 'transformer']) {
      const grid = readFileSync(join(dir, `${id}-lr-grid.svg`), 'utf8');
      expect(wellFormedSvg(grid)).toBe(true);
      expect(grid).toContain('ringed: the rate chosen');
    }
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<svg /g)).toHaveLength(9);
    expect(html).not.toMatch(/<script|src="http|href="http/);
    expect(existsSync(join(dir, 'summary.md'))).toBe(true);
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
