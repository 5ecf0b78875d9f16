import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResults, ModelResult } from './results.js';
import { movingAverage, smoothingWindow } from './stats.js';
import { learningRateGridSpec } from './gridChart.js';
import { lossChartSpec, type ChartSeries } from './lossChart.js';
import { renderVegaLite } from './renderVegaLite.js';
import { formatMarkdownTable, modelFootnote, tableRows, TABLE_HEADERS } from './table.js';

const COLORS: Record<string, string> = { muon: '#d62728', adamw: '#1f77b4', sgd: '#7f7f7f', lion: '#2ca02c', normuon: '#ff7f0e', sophia: '#9467bd', 'muon-auto': '#17becf' };

/** Per-step mean over seeds of the smoothed loss, and the mean cumulative time. */
function curves(model: ModelResult): { label: string; color: string; steps: number[]; times: number[]; loss: number[] }[] {
  return model.optimizers.map((o) => {
    const length = Math.min(...o.runs.map((r) => r.losses.length));
    const smoothed = o.runs.map((r) => movingAverage(r.losses, smoothingWindow(model.steps)));
    const mean = (rows: number[][], i: number): number => rows.reduce((a, r) => a + (r[i] as number), 0) / rows.length;
    const steps = Array.from({ length }, (_, i) => i + 1);
    return {
      label: o.label,
      color: COLORS[o.kind] ?? '#8c564b',
      steps,
      loss: steps.map((_, i) => mean(smoothed, i)),
      times: steps.map((_, i) => mean(o.runs.map((r) => r.times), i)),
    };
  });
}

/** The SVG charts of one model. */
export interface ModelPlots {
  byStep: string;
  byTime: string;
  /** Validation loss over each optimizer's learning-rate grid, the choice ringed. */
  grid: string;
}

/**
 * The SVG charts of one model (Vega-Lite, rendered in Node): training loss against steps and
 * against wall-clock seconds, on a log scale fitted to the curves, and the learning-rate grids.
 */
export async function modelPlots(model: ModelResult, seeds: number): Promise<ModelPlots> {
  const c = curves(model);
  const subtitle = `smoothed over ${smoothingWindow(model.steps)} steps, mean of ${seeds} seed(s)`;
  const series = (x: 'steps' | 'times'): ChartSeries[] => c.map((s) => ({ label: s.label, color: s.color, x: s[x], y: s.loss }));
  const gridSeries = model.optimizers.map((o, i) => ({ label: o.label, color: (c[i] as { color: string }).color, points: o.grid, chosen: o.learningRate }));
  const diverged = model.optimizers.flatMap((o) => o.grid.filter((g) => g.validationLoss === null).map((g) => `${o.label} ${g.learningRate}`));
  const gridNote = `validation loss after ${model.gridSteps} steps, seed ${model.optimizers[0]?.runs[0]?.seed ?? 1}; ringed: the rate chosen${diverged.length > 0 ? `; diverged, not shown: ${diverged.join(', ')}` : ''}`;
  const [byStep, byTime, grid] = await Promise.all([
    renderVegaLite(lossChartSpec({ title: `${model.title}: training loss vs step`, subtitle, xLabel: 'step', yLabel: 'training loss', series: series('steps') })),
    renderVegaLite(lossChartSpec({ title: `${model.title}: training loss vs wall clock`, subtitle, xLabel: 'seconds of training', yLabel: 'training loss', series: series('times') })),
    renderVegaLite(learningRateGridSpec(`${model.title}: learning-rate grids`, gridNote, gridSeries)),
  ]);
  return { byStep, byTime, grid };
}

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** JSON without NaN/Infinity (written as null). */
export function resultsJson(results: BenchResults): string {
  return JSON.stringify(results, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1) + '\n';
}

/** A self-contained HTML report: tables, inline SVG plots, lr grids, machine and settings. */
export async function reportHtml(results: BenchResults): Promise<string> {
  const seeds = results.config.seeds.length;
  const m = results.machine;
  const allPlots = await Promise.all(results.models.map((model) => modelPlots(model, seeds)));
  const sections = results.models.map((model, i) => {
    const plots = allPlots[i] as ModelPlots;
    const head = TABLE_HEADERS.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
    const rows = tableRows(model).map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
    const grids = model.optimizers.map((o) => `<li>${escapeHtml(o.label)}: ${o.grid.map((g) =>
      `${g.learningRate} → ${g.validationLoss === null ? 'diverged' : g.validationLoss.toFixed(4)}`).join(', ')}; chosen ${o.learningRate}</li>`).join('\n');
    return `<section>
<h2>${escapeHtml(model.title)}</h2>
<p>${escapeHtml(modelFootnote(model, seeds))}</p>
<p>Data: ${escapeHtml(model.data.source)}; ${model.data.trainExamples} training, ${model.data.validationExamples} validation, ${model.data.testExamples} test examples (${escapeHtml(model.data.unit)}).</p>
<table><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table>
<div class="plots">${plots.byStep}${plots.byTime}${plots.grid}</div>
<details><summary>Learning-rate grid (validation loss after ${model.gridSteps} steps)</summary><ul>
${grids}
</ul></details>
</section>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>muon-tfjs bench report</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1340px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
td:first-child,th:first-child,td:nth-child(2){text-align:left}.plots svg{margin:0 8px 8px 0;border:1px solid #ddd}
code{background:#f4f4f4;padding:1px 4px}
</style></head><body>
<h1>muon-tfjs bench</h1>
<p>Command: <code>${escapeHtml(results.command)}</code> — ${escapeHtml(results.createdAt)}, ${results.totalSeconds.toFixed(0)} s in total.</p>
<p>Machine: ${escapeHtml(m.cpu)}, ${m.cores} cores, ${m.memoryGiB} GiB; Node ${escapeHtml(m.node)} (${escapeHtml(m.platform)}); backend ${escapeHtml(m.backend)}${m.simd === null ? '' : m.simd ? ', SIMD' : ', no SIMD'}.</p>
<p>Each optimizer's learning rate was chosen from its grid by ${escapeHtml(results.config.lrSelection)}; the Muon hybrid's AdamW group uses AdamW's chosen lr. "Steps to target" counts steps until the smoothed training loss first reaches the target; "× SGD time" is wall time relative to SGD with momentum; "Opt. step share" is the fraction of training time spent in <code>optimizer.applyGradients</code>.</p>
${sections}
</body></html>
`;
}

/** Markdown summary (tables and plot links), ready to paste into docs. */
export function summaryMarkdown(results: BenchResults): string {
  const seeds = results.config.seeds.length;
  return results.models.map((model) => `### ${model.title}

${formatMarkdownTable(model)}

${modelFootnote(model, seeds)}

![${model.title}: loss vs step](${model.id}-loss-vs-step.svg) ![${model.title}: loss vs wall clock](${model.id}-loss-vs-time.svg) ![${model.title}: learning-rate grids](${model.id}-lr-grid.svg)
`).join('\n');
}

/** Writes results.json, per-model SVG charts (loss vs step, vs time, lr grids), summary.md and report.html into `dir`; returns the paths. */
export async function writeOutputs(results: BenchResults, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const write = (name: string, text: string): void => {
    const path = join(dir, name);
    writeFileSync(path, text);
    written.push(path);
  };
  write('results.json', resultsJson(results));
  for (const model of results.models) {
    const plots = await modelPlots(model, results.config.seeds.length);
    write(`${model.id}-loss-vs-step.svg`, plots.byStep);
    write(`${model.id}-loss-vs-time.svg`, plots.byTime);
    write(`${model.id}-lr-grid.svg`, plots.grid);
  }
  write('summary.md', summaryMarkdown(results));
  write('report.html', await reportHtml(results));
  return written;
}
