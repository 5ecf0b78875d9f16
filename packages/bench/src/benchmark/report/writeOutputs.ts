import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResults, ModelResult } from '../results/results.js';
import { ADAMW_HALF_FACTOR } from '../protocol/optimizers.js';
import { movingAverage, smoothingWindow } from '../protocol/stats.js';
import { gridSearchSpec } from './gridChart.js';
import { lossChartSpec, type ChartSeries } from './lossChart.js';
import { renderVegaLite } from './renderVegaLite.js';
import { targetChartSpec } from './targetChart.js';
import { formatMarkdownTable, modelFootnote, seedsCaption, tableRows, TABLE_HEADERS } from './table.js';
import { busyMachineWarning, machineLine } from './machineLine.js';
import { verdictSentence } from './verdict.js';

const COLORS: Record<string, string> = { muon: '#d62728', adamw: '#1f77b4', sgd: '#7f7f7f', lion: '#2ca02c', normuon: '#ff7f0e', sophia: '#9467bd', 'muon-auto': '#17becf', dion2: '#e377c2', 'muon-bf16': '#8c564b', 'muon-ns3-bf16': '#bcbd22', 'muon-turbo-bf16': '#393b79', 'muon-bf16-momentum': '#e7969c' };

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

/** One grid chart: the searches of every optimizer over one hyper-parameter. */
export interface GridPlot {
  /** `learningRate`, or another tuned hyper-parameter (`rho`). */
  parameter: string;
  /** File name stem: `lr` for the learning rate, else the parameter. */
  stem: string;
  svg: string;
}

/** The SVG charts of one model. */
export interface ModelPlots {
  byStep: string;
  byTime: string;
  /** Validation loss over each optimizer's grids, the choice ringed: one chart per tuned hyper-parameter. */
  grids: GridPlot[];
  /** Steps and seconds of training to the target loss, per optimizer. */
  target: string;
}

const PARAMETER_TITLES: Record<string, string> = { learningRate: 'peak learning rate', rho: 'ρ', [ADAMW_HALF_FACTOR.name]: "AdamW half's peak rate ÷ AdamW's" };

/**
 * The SVG charts of one model (Vega-Lite, rendered in Node): training loss against steps and
 * against seconds of training, on a log scale fitted to the curves, and the grid searches.
 */
export async function modelPlots(model: ModelResult, seeds: number): Promise<ModelPlots> {
  const c = curves(model);
  const subtitle = `smoothed over ${smoothingWindow(model.steps)} steps, ${seedsCaption(model)}`;
  const series = (x: 'steps' | 'times'): ChartSeries[] => c.map((s) => ({ label: s.label, color: s.color, x: s[x], y: s.loss }));
  const gridPlot = async (parameter: string): Promise<GridPlot> => {
    const searched = model.optimizers.flatMap((o) => {
      const search = o.searches.find((s) => s.parameter === parameter);
      return search === undefined ? [] : [{ o, search }];
    });
    const gridSeries = searched.map(({ o, search }) => ({ label: o.label, color: COLORS[o.kind] ?? '#8c564b', points: search.points, chosen: search.chosen }));
    const diverged = searched.flatMap(({ o, search }) => search.points.filter((g) => g.validationLoss === null).map((g) => `${o.label} ${g.value}`));
    const extended = searched.flatMap(({ o, search }) => (search.extensions > 0 ? [`${o.label} +${search.extensions}${search.capped ? ' (cap hit)' : ''}`] : []));
    const fixed = searched.flatMap(({ o, search }) => (Object.keys(search.fixed).length > 0 && parameter !== 'learningRate'
      ? [`${o.label} at ${Object.entries(search.fixed).map(([k, v]) => `${k === 'learningRate' ? 'lr' : k} ${v}`).join(', ')}`]
      : []));
    const note = [
      `validation loss after ${model.tuneSteps}-step runs, seed ${model.optimizers[0]?.runs[0]?.seed ?? 1}; ringed: the value chosen`,
      ...(fixed.length > 0 ? [fixed.join('; ')] : []),
      ...(extended.length > 0 ? [`grids extended past an edge: ${extended.join(', ')}`] : []),
      ...(diverged.length > 0 ? [`diverged, not shown: ${diverged.join(', ')}`] : []),
    ];
    const title = PARAMETER_TITLES[parameter] ?? parameter;
    const svg = await renderVegaLite(gridSearchSpec(`${model.title}: ${title} grids`, note.join('; '), title, gridSeries));
    return { parameter, stem: gridStem(parameter), svg };
  };
  const bars = model.optimizers.map((o) => ({
    label: o.label,
    color: COLORS[o.kind] ?? '#8c564b',
    steps: o.summary.reachedTarget > 0 ? o.summary.stepsToTarget.mean : null,
    seconds: o.summary.reachedTarget > 0 ? o.summary.secondsToTarget.mean : null,
  }));
  const targetNote = `target ${model.targetLoss.toFixed(4)} = ${model.targetRule}; ${seeds === 1 ? `seed ${model.optimizers[0]?.runs[0]?.seed ?? 1}` : `mean over the seeds that reached it (of ${seeds})`}`;
  const [byStep, byTime, target, ...grids] = await Promise.all([
    renderVegaLite(lossChartSpec({ title: `${model.title}: training loss vs step`, subtitle, xLabel: 'step', yLabel: 'training loss', series: series('steps') })),
    renderVegaLite(lossChartSpec({ title: `${model.title}: training loss vs time`, subtitle, xLabel: 'seconds of training steps', yLabel: 'training loss', series: series('times') })),
    renderVegaLite(targetChartSpec(`${model.title}: cost to reach the target`, targetNote, bars)),
    ...tunedParameters(model).map(gridPlot),
  ]);
  return { byStep: byStep as string, byTime: byTime as string, target: target as string, grids: grids as GridPlot[] };
}

/**
 * Marks a chart to be drawn at its own width (at most the page's): the target and grid charts,
 * whose width follows their subtitles; the loss charts share a row, two at half the width each.
 */
const atNaturalSize = (svg: string): string => svg.replace('class="marks"', 'class="marks wide"');

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** JSON without NaN/Infinity (written as null). */
export function resultsJson(results: BenchResults): string {
  return JSON.stringify(results, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1) + '\n';
}

/**
 * What a reader needs before the tables, as sentences: the verdict on every model that compares
 * Muon with AdamW, the warning when the machine was busy, and the learning rates an earlier search
 * chose (`--chosen-lr`), which this run did not search.
 */
export function headline(results: BenchResults): { verdicts: string[]; warning: string | null; givenRates: string | null } {
  const given = results.models.flatMap((model) => model.optimizers
    .filter((o) => !o.searches.some((s) => s.parameter === 'learningRate'))
    .map((o) => `${o.label} ${o.learningRate}${results.models.length > 1 ? ` (${model.title})` : ''}`));
  const warning = busyMachineWarning(results.machine);
  return {
    verdicts: results.models.flatMap((model) => verdictSentence(model, warning !== null) ?? []),
    warning,
    givenRates: given.length === 0 ? null : `Learning rates given by --chosen-lr (chosen by an earlier search, not searched in this run): ${given.join(', ')}.`,
  };
}

/** A self-contained HTML report: tables, inline SVG plots, lr grids, machine and settings. */
export async function reportHtml(results: BenchResults): Promise<string> {
  const seeds = results.config.seeds.length;
  const m = results.machine;
  const top = headline(results);
  const allPlots = await Promise.all(results.models.map((model) => modelPlots(model, seeds)));
  const sections = results.models.map((model, i) => {
    const plots = allPlots[i] as ModelPlots;
    const head = TABLE_HEADERS.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
    const rows = tableRows(model).map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
    const grids = model.optimizers.flatMap((o) => o.searches.map((s) => `<li>${escapeHtml(o.label)}, ${escapeHtml(PARAMETER_TITLES[s.parameter] ?? s.parameter)}: ${s.points.map((g) =>
      `${g.value}${g.extension ? ' (extension)' : ''} → ${g.validationLoss === null ? 'diverged' : g.validationLoss.toFixed(4)}`).join(', ')}; chosen ${s.chosen}${s.capped ? ' (at an edge: extension cap hit)' : ''}</li>`)).join('\n');
    return `<section>
<h2>${escapeHtml(model.title)}</h2>
<p>${escapeHtml(modelFootnote(model, seeds))}</p>
<p>Data: ${escapeHtml(model.data.source)}; ${model.data.trainExamples} training, ${model.data.validationExamples} validation, ${model.data.testExamples} test examples (${escapeHtml(model.data.unit)}).</p>
<div class="table"><table><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table></div>
<div class="plots">${plots.byStep}${plots.byTime}</div>
<div class="plots">${[plots.target, ...plots.grids.map((g) => g.svg)].map(atNaturalSize).join('')}</div>
<details><summary>Grids (validation loss after ${model.tuneSteps}-step runs)</summary><ul>
${grids}
</ul></details>
</section>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>muon-tfjs bench report</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1240px;margin:1.5em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
td:first-child,th:first-child,td:nth-child(2){text-align:left}.table{overflow-x:auto}
.plots{display:flex;flex-wrap:wrap;align-items:flex-start;gap:8px;margin-bottom:8px}.plots svg{box-sizing:border-box;flex:0 1 calc(50% - 4px);min-width:480px;height:auto;border:1px solid #ddd}
.plots svg.wide{flex-basis:auto;min-width:0;max-width:100%}
.verdict{font-size:1.1em;border-left:4px solid #1f77b4;padding:4px 12px;background:#f3f7fb}
.busy{border-left:4px solid #d62728;padding:4px 12px;background:#fdf1f1}
code{background:#f4f4f4;padding:1px 4px;overflow-wrap:anywhere}
</style></head><body>
<h1>muon-tfjs bench (${escapeHtml(results.config.mode)})</h1>
${top.verdicts.map((v) => `<p class="verdict">${escapeHtml(v)}</p>`).join('\n')}
${top.warning === null ? '' : `<p class="busy">${escapeHtml(top.warning)}</p>`}
${top.givenRates === null ? '' : `<p>${escapeHtml(top.givenRates)}</p>`}
<p>Command: <code>${escapeHtml(results.command)}</code> — ${escapeHtml(results.createdAt)}, ${results.totalSeconds.toFixed(0)} s in total (${results.totalCpuSeconds.toFixed(0)} s of CPU).</p>
<p>Machine: ${escapeHtml(machineLine(m))}.</p>
<p>Each optimizer's peak learning rate (then, at that rate, Sophia's ρ and a hybrid's AdamW half's rate as a factor of AdamW's chosen rate) was chosen by ${escapeHtml(results.config.lrSelection)}. "Steps to target" counts steps until the smoothed training loss first reaches the target, "Time to target" the seconds of training steps until then; "Wall s" is the seconds of training steps of the whole run (evaluation excluded); "Opt. step share" is the fraction of that time spent in <code>optimizer.applyGradients</code> (and Sophia's Hessian estimate).</p>
${sections}
</body></html>
`;
}

/** Markdown summary (verdicts, warning, machine, tables and plot links), ready to paste into docs. */
export function summaryMarkdown(results: BenchResults): string {
  const seeds = results.config.seeds.length;
  const top = headline(results);
  const head = [
    ...top.verdicts.map((v) => `**Verdict.** ${v}`),
    ...(top.warning === null ? [] : [`**Warning.** ${top.warning}`]),
    ...(top.givenRates === null ? [] : [top.givenRates]),
    `Command: \`${results.command}\` (${results.config.mode}), ${results.createdAt}, ${results.totalSeconds.toFixed(0)} s (${results.totalCpuSeconds.toFixed(0)} s of CPU). Machine: ${machineLine(results.machine)}.`,
  ].join('\n\n');
  return `${head}\n\n` + results.models.map((model) => `### ${model.title}

${formatMarkdownTable(model)}

${modelFootnote(model, seeds)}

![${model.title}: loss vs step](${model.id}-loss-vs-step.svg) ![${model.title}: loss vs time](${model.id}-loss-vs-time.svg) ![${model.title}: steps and time to target](${model.id}-target.svg) ${tunedParameters(model).map((p) => `![${model.title}: ${PARAMETER_TITLES[p] ?? p} grids](${model.id}-${gridStem(p)}-grid.svg)`).join(' ')}
`).join('\n');
}

/** The hyper-parameters searched on a model: `learningRate`, then any other (`rho`). */
function tunedParameters(model: ModelResult): string[] {
  return [...new Set(model.optimizers.flatMap((o) => o.searches.map((s) => s.parameter)))];
}

/** A grid chart's file name stem: `lr` for the learning rate, else the parameter's name. */
function gridStem(parameter: string): string {
  return parameter === 'learningRate' ? 'lr' : parameter;
}

/** Writes results.json, per-model SVG charts (loss vs step, vs time, steps/time to target, grids), summary.md and report.html into `dir`; returns the paths. */
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
    write(`${model.id}-target.svg`, plots.target);
    for (const g of plots.grids) write(`${model.id}-${g.stem}-grid.svg`, g.svg);
  }
  write('summary.md', summaryMarkdown(results));
  write('report.html', await reportHtml(results));
  return written;
}
