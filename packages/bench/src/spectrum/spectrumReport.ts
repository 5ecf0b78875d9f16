import type { BlockPosition, LayerType } from './layerRole.js';
import { LAYER_TYPES } from './layerRole.js';
import type { ExponentFit } from './spectrumExponents.js';
import type { Plot } from './spectrumPlots.js';
import { QUANTILE_KEYS, type SpectrumRunResult } from './spectrumRun.js';

/** Everything `report.html` shows. */
export interface SpectrumReport {
  readonly command: string;
  readonly createdAt: string;
  readonly totalSeconds: number;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly node: string; readonly backend: string };
  readonly runs: readonly SpectrumRunResult[];
  readonly fits: readonly ExponentFit[];
  /** The plots, rendered to SVG. */
  readonly plots: readonly (Plot & { readonly svg: string })[];
}

const POSITIONS: readonly BlockPosition[] = ['first', 'middle', 'final'];

function alphaCell(fit: ExponentFit | undefined): string {
  if (fit === undefined) return '—';
  const se = Number.isFinite(fit.fit.standardError) ? ` ± ${fit.fit.standardError.toFixed(2)}` : '';
  return `${fit.fit.alpha.toFixed(2)}${se}`;
}

/** Rows of the exponent table: block, layer type, α of q50 and q90 (± standard error), points, paper. */
export function exponentRows(fits: readonly ExponentFit[]): string[][] {
  const rows: string[][] = [];
  for (const position of POSITIONS) {
    for (const type of LAYER_TYPES) {
      const find = (q: string): ExponentFit | undefined => fits.find((f) => f.position === position && f.type === type && f.quantile === q);
      const q50 = find('q50');
      if (q50 === undefined) continue;
      rows.push([position, type, alphaCell(q50), alphaCell(find('q10')), alphaCell(find('q90')), String(q50.fit.points), q50.paper.toFixed(2) + (position === 'final' ? '' : ' (≈)')]);
    }
  }
  return rows;
}

const HEADERS = ['block', 'matrix', 'α (q50)', 'α (q10)', 'α (q90)', 'models', 'paper α'];

/** The exponent table as aligned text (printed by the command). */
export function exponentTable(fits: readonly ExponentFit[]): string {
  const rows = [HEADERS, ...exponentRows(fits)];
  const widths = HEADERS.map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length)));
  const line = (r: string[]): string => r.map((cell, c) => cell.padEnd(widths[c] as number)).join('  ');
  return [
    'σ_q ∝ M^(−α): stabilized momentum quantiles against trainable parameters M (least squares on log–log, ± standard error)',
    line(rows[0] as string[]),
    ...rows.slice(1).map(line),
    'paper: arXiv 2606.04058; final block from the figures (via a public reproduction), other depths ≈ 0.25 from its abstract',
  ].join('\n');
}

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const table = (headers: readonly string[], rows: readonly (readonly string[])[]): string =>
  `<table><thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>\n${rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n')}\n</tbody></table>`;

function runRows(runs: readonly SpectrumRunResult[]): string[][] {
  const mean = (xs: readonly number[]): number => xs.reduce((a, v) => a + v, 0) / Math.max(1, xs.length);
  return runs.map((r) => {
    const tail = r.losses.slice(-Math.max(1, Math.round(r.losses.length / 10)));
    return [String(r.config.width), String(r.config.depth), String(r.heads), r.parameters.toLocaleString('en-US'), String(r.config.steps),
      r.losses[0]?.toFixed(3) ?? '—', mean(tail).toFixed(3), r.trainSeconds.toFixed(0), `${r.trackerSeconds.toFixed(1)} (${((100 * r.trackerSeconds) / r.trainSeconds).toFixed(1)}%)`];
  });
}

function stabilizedRows(runs: readonly SpectrumRunResult[]): string[][] {
  return runs.flatMap((r) => r.layers.map((l) => [
    `${r.config.width}×${r.config.depth}`, `${l.type} b${l.block}`, `${l.shape[0]}×${l.shape[1]}`,
    ...QUANTILE_KEYS.map((q) => l.stabilized[q].toExponential(2)), l.topEnergy.toFixed(3),
    `${l.output.min.toFixed(3)}–${l.output.max.toFixed(3)}`, l.output.polarDistance.toFixed(3),
  ]));
}

/** A self-contained HTML page: settings, runs, the exponent table, every plot inline. */
export function spectrumReportHtml(report: SpectrumReport): string {
  const { runs, fits, plots, machine } = report;
  const config = runs[0]?.config;
  const group = (prefix: string): string => plots.filter((p) => p.file.startsWith(prefix)).map((p) => p.svg).join('\n');
  const largest = runs.reduce<SpectrumRunResult | undefined>((a, b) => (a === undefined || b.parameters > a.parameters ? b : a), undefined);
  const types: readonly LayerType[] = LAYER_TYPES;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>muon-tfjs spectrum report</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1400px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
td:first-child,th:first-child,td:nth-child(2){text-align:left}.plots svg{margin:0 8px 8px 0;border:1px solid #ddd;vertical-align:top}
code{background:#f4f4f4;padding:1px 4px}
</style></head><body>
<h1>muon-tfjs spectrum: Muon's singular-value quantiles against model size</h1>
<p>Command: <code>${escapeHtml(report.command)}</code> — ${escapeHtml(report.createdAt)}, ${report.totalSeconds.toFixed(0)} s in total.
Machine: ${escapeHtml(machine.cpu)}, ${machine.cores} cores; Node ${escapeHtml(machine.node)}; backend ${escapeHtml(machine.backend)}.</p>
<p>Character transformer on Moby Dick, batch ${config?.batchSize ?? '?'} × context ${config?.sequenceLength ?? '?'}, seed ${config?.seed ?? '?'}; Muon + AdamW
(Muon lr 0.01, momentum 0.95, Nesterov; AdamW lr 0.002, betas (0.9, 0.95); weight decay 0.01; constant rates).
The quantiles are those of arXiv 2606.04058: σ at descending rank ⌈q·r⌉ of the Frobenius-normalized momentum M/‖M‖_F (q90 is near the bottom).
Stabilized value = mean over the tracked steps after the burn-in (${config?.burnIn ?? '?'} of ${config?.steps ?? '?'} steps, tracked every ${config?.every ?? '?'}); the paper averages steps 1300–1500.</p>
<h2>Exponents</h2>
${table(HEADERS, exponentRows(fits))}
<p>M = trainable parameters of each model (widths and depths pooled); ± is the least-squares standard error (one seed: a scale of the uncertainty, not a calibrated interval).
Paper: final block from its figures as extracted by a public reproduction; other depths ≈ 0.25 from its abstract (${types.length} matrix types).</p>
<div class="plots">${group('power-law-')}</div>
<h2>Runs</h2>
${table(['width', 'depth', 'heads', 'parameters', 'steps', 'first loss', 'last 10% loss', 'train s', 'tracker s'], runRows(runs))}
<h2>Quantiles against step (width ${largest?.config.width ?? '?'}, depth ${largest?.config.depth ?? '?'})</h2>
<div class="plots">${group('quantiles-')}</div>
<h2>σ before and after Newton–Schulz</h2>
<p>The normalized Newton–Schulz input (the Nesterov look-ahead) and the output's σ at the last tracked step: a skewed spectrum made nearly uniform, except for the directions below the polynomial's working range.</p>
<div class="plots">${group('histogram-')}</div>
<h2>Coefficient presets and where the layers sit</h2>
<div class="plots">${group('ns-polynomials')}</div>
<details><summary>Stabilized quantiles of every matrix</summary>
${table(['model', 'matrix', 'shape', ...QUANTILE_KEYS, 'σ₁²', 'NS output σ', '‖O − polar‖/√r'], stabilizedRows(runs))}
</details>
</body></html>
`;
}
