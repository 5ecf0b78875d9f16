import { COEFFICIENT_PRESETS, composedPolynomial, DEFAULT_SCHEDULE_TARGET, resolveCoefficients } from 'muon-tfjs';
import type { TopLevelSpec } from 'vega-lite';
import { logTicks } from '../benchmark/report/logTicks.js';
import { blockPositions, type BlockPosition, LAYER_TYPES, type LayerType } from './layerRole.js';
import type { ExponentFit } from './spectrumExponents.js';
import { type LayerTrace, QUANTILE_KEYS, type SpectrumRunResult } from './spectrumRun.js';

/** One colour per layer type (the same in every plot). */
export const TYPE_COLORS: Record<LayerType, string> = {
  Q: '#1f77b4', K: '#ff7f0e', V: '#2ca02c', O: '#d62728', 'MLP-up': '#9467bd', 'MLP-down': '#8c564b',
};
/** q10 (top of the spectrum) dark blue to q90 (near the bottom) orange. */
const QUANTILE_COLORS = ['#08306b', '#2171b5', '#6baed6', '#fd8d3c', '#d94801'];
const PRESET_COLORS = ['#000000', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#ff7f0e'];

/** A plot of the spectrum report: its file name, title and Vega-Lite spec (rendered by `renderVegaLite`). */
export interface Plot {
  readonly file: string;
  readonly title: string;
  readonly spec: TopLevelSpec;
}

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-');

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const CONFIG = { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, labelLimit: 260 } } as const;
const LEGEND = { orient: 'right', title: null } as const;

/**
 * A log scale's domain over `values` with 4% of its log range as margin on each side (so no
 * curve touches the frame), and tick values that label the range itself ({@link logTicks}), with
 * a format that stays short: plain decimals over at most four decades, powers of ten beyond.
 */
function logAxis(values: readonly number[]): { domain: [number, number]; ticks: number[]; format: string } {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  const lo = positive.length > 0 ? Math.min(...positive) : 1e-3;
  const hi = positive.length > 0 ? Math.max(...positive) : 1;
  const margin = 10 ** (Math.max(Math.log10(hi / lo), 0.05) * 0.04);
  const domain: [number, number] = [lo / margin, hi * margin];
  const decades = Math.log10(domain[1] / domain[0]);
  // Over many decades, label the powers of ten only: intermediate labels would collide.
  const ticks = decades > 4 ? logTicks(domain[0], domain[1], 1).filter((t) => Number.isInteger(Math.log10(t))) : logTicks(domain[0], domain[1]);
  return { domain, ticks, format: decades > 4 ? '.0e' : '~g' };
}

/** The layers of a run at a block position, in the paper's type order. */
export function layersAt(run: SpectrumRunResult, position: BlockPosition): LayerTrace[] {
  return LAYER_TYPES.flatMap((type) => run.layers.filter((l) => l.type === type && blockPositions(l.block, run.config.depth).includes(position)));
}

/** Momentum quantiles against step, one plot per layer of the run (first, middle and final block), the burn-in marked. */
export function quantilePlots(run: SpectrumRunResult): Plot[] {
  const { width, depth, burnIn } = run.config;
  return (['first', 'middle', 'final'] as const).flatMap((position) => layersAt(run, position).map((layer): Plot => {
    const title = `${layer.type}, ${position} block (block ${layer.block}), width ${width}, depth ${depth}`;
    const values = QUANTILE_KEYS.flatMap((q) => layer.steps.map((step, i) => ({ quantile: q, step, sigma: (layer.momentum[i] as Record<string, number>)[q] as number })));
    const y = logAxis(values.map((v) => v.sigma));
    return {
      file: `quantiles-${slug(layer.type)}-${position}.svg`,
      title,
      spec: {
        $schema: SCHEMA,
        title: { text: title, subtitle: `momentum M/‖M‖_F; stabilized value = mean over the steps after the burn-in (${burnIn})`, anchor: 'start' },
        width: 420,
        height: 260,
        background: 'white',
        layer: [
          {
            data: { values },
            mark: { type: 'line', point: { size: 18 }, strokeWidth: 1.6 },
            encoding: {
              x: { field: 'step', type: 'quantitative', title: 'step', scale: { nice: false, zero: true }, axis: { grid: true, tickCount: 6 } },
              y: { field: 'sigma', type: 'quantitative', title: 'σ of M/‖M‖_F', scale: { type: 'log', domain: y.domain, nice: false }, axis: { values: y.ticks, format: y.format, grid: true } },
              color: { field: 'quantile', type: 'nominal', scale: { domain: [...QUANTILE_KEYS], range: QUANTILE_COLORS }, legend: LEGEND },
            },
          },
          {
            data: { values: [{ step: burnIn, label: 'burn-in' }] },
            layer: [
              { mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { x: { field: 'step', type: 'quantitative' } } },
              { mark: { type: 'text', align: 'left', dx: 3, dy: 2, baseline: 'top', y: 0, color: '#666', fontSize: 10 }, encoding: { x: { field: 'step', type: 'quantitative' }, text: { field: 'label' } } },
            ],
          },
        ],
        config: CONFIG,
      },
    };
  }));
}

/** Counts of log10 σ in `bins` equal bins over [lo, hi] (values outside are clamped to the end bins). */
function histogram(values: readonly number[], lo: number, hi: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    const at = Math.floor(((Math.log10(Math.max(v, 1e-30)) - lo) / (hi - lo)) * bins);
    const bin = Math.min(bins - 1, Math.max(0, at));
    counts[bin] = (counts[bin] as number) + 1;
  }
  return counts;
}

/**
 * Histograms of σ before Newton–Schulz (the normalized input, the Nesterov look-ahead) and after
 * it (the output's σ, ideally all 1), at the run's last tracked step, for the first block's Q and
 * the final block's O and MLP-down: bars over bins of 0.1 in log10 σ on a log σ axis.
 */
export function histogramPlots(run: SpectrumRunResult): Plot[] {
  const picks = [
    ...layersAt(run, 'first').filter((l) => l.type === 'Q').map((l) => ['first', l] as const),
    ...layersAt(run, 'final').filter((l) => l.type === 'O' || l.type === 'MLP-down').map((l) => ['final', l] as const),
  ];
  const lo = -5;
  const hi = 0.5;
  const bins = 55;
  return picks.map(([position, layer]): Plot => {
    const title = `σ before and after Newton–Schulz: ${layer.type}, ${position} block, width ${run.config.width}`;
    const series = [['NS input / ‖·‖_F', layer.lastInputSigma], ['NS output', layer.lastOutputSigma]] as const;
    const values = series.flatMap(([label, sigma]) => histogram(sigma, lo, hi, bins).flatMap((count, i) => (count === 0 ? [] : [{
      series: label, from: 10 ** (lo + (i * (hi - lo)) / bins), to: 10 ** (lo + ((i + 1) * (hi - lo)) / bins), count,
    }])));
    const below = layer.lastInputSigma.filter((s) => s < 10 ** lo).length;
    return {
      file: `histogram-${slug(layer.type)}-${position}.svg`,
      title,
      spec: {
        $schema: SCHEMA,
        title: {
          text: title,
          subtitle: `step ${layer.steps[layer.steps.length - 1]}, ${layer.lastInputSigma.length} singular values, bins of 0.1 in log10 σ${below > 0 ? `; ${below} input σ below 1e-5 counted in the first bin` : ''}`,
          anchor: 'start',
        },
        width: 560,
        height: 260,
        background: 'white',
        data: { values },
        mark: { type: 'rect', opacity: 0.7, stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: { field: 'from', type: 'quantitative', title: 'σ (log scale)', scale: { type: 'log', domain: [10 ** lo, 10 ** hi], nice: false }, axis: { values: [1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1], format: '~g', grid: true } },
          x2: { field: 'to' },
          y: { field: 'count', type: 'quantitative', title: 'singular values per bin', stack: null, axis: { grid: true, tickMinStep: 1 } },
          y2: { datum: 0 },
          color: { field: 'series', type: 'nominal', scale: { domain: series.map(([label]) => label), range: ['#1f77b4', '#d62728'] }, legend: LEGEND },
        },
        config: CONFIG,
      },
    };
  });
}

/**
 * The composed polynomial p(σ) of every Frobenius-normalized coefficient preset at its own step count, on a log σ
 * axis, with the stabilized median σ_q50 of the final block's layers of the largest run marked
 * as vertical lines (where p(σ_q50) is far below 1, half the directions are not orthogonalized)
 * and the chooser's threshold 0.68 as a horizontal one.
 */
export function polynomialPlot(run: SpectrumRunResult): Plot {
  // 200 samples per decade: the composed polynomials oscillate fast near σ = 1 (degree 3⁵ = 243).
  const exponents = Array.from({ length: 1001 }, (_, i) => -5 + i / 200);
  // Presets that normalize by AOL (turboMuon) act on diag(s)·X, whose σ depend on the whole matrix,
  // not on σ/‖X‖_F: they have no curve on this axis.
  const presets = COEFFICIENT_PRESETS.map((name) => ({ name, schedule: resolveCoefficients(name) }))
    .filter(({ schedule }) => schedule.normalization === 'frobenius')
    .map(({ name, schedule }) => ({ label: `${name} (${schedule.iterations.length} steps)`, schedule }));
  const curves = presets.flatMap(({ label, schedule }) => exponents.map((e) => ({ preset: label, sigma: 10 ** e, p: composedPolynomial(schedule, 10 ** e) })));
  const marks = layersAt(run, 'final').map((l) => ({ layer: `${l.type}: σ_q50 = ${l.stabilized.q50.toPrecision(2)}`, type: l.type, sigma: l.stabilized.q50 }));
  const title = `Composed Newton–Schulz polynomial p(σ) of each preset, and the final block's σ_q50`;
  const x = {
    field: 'sigma', type: 'quantitative' as const, title: 'σ of the Frobenius-normalized input (log scale)',
    scale: { type: 'log' as const, domain: [1e-5, 1], nice: false }, axis: { values: [1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1], format: '~g', grid: true },
  };
  return {
    file: 'ns-polynomials.svg',
    title,
    spec: {
      $schema: SCHEMA,
      title: { text: title, subtitle: `width ${run.config.width}, depth ${run.config.depth}; dotted: p = ${DEFAULT_SCHEDULE_TARGET.threshold}, the chooser's threshold`, anchor: 'start' },
      width: 640,
      height: 340,
      background: 'white',
      layer: [
        {
          data: { values: curves },
          mark: { type: 'line', strokeWidth: 1.5, clip: true },
          encoding: {
            x,
            y: { field: 'p', type: 'quantitative', title: 'p(σ)', scale: { domain: [0, 1.3], nice: false }, axis: { values: [0, 0.2, 0.4, 0.6, 0.8, 1, 1.2], grid: true } },
            color: { field: 'preset', type: 'nominal', title: 'preset', scale: { domain: presets.map((p) => p.label), range: PRESET_COLORS }, legend: { orient: 'right', title: 'preset' } },
          },
        },
        {
          data: { values: marks },
          mark: { type: 'rule', strokeDash: [6, 3], strokeWidth: 1.5 },
          encoding: {
            x,
            color: { field: 'layer', type: 'nominal', scale: { domain: marks.map((m) => m.layer), range: marks.map((m) => TYPE_COLORS[m.type]) }, legend: { orient: 'right', title: 'final block (dashed)' } },
          },
        },
        {
          data: { values: [{ p: DEFAULT_SCHEDULE_TARGET.threshold }] },
          mark: { type: 'rule', strokeDash: [2, 2], color: '#666' },
          encoding: { y: { field: 'p', type: 'quantitative' } },
        },
      ],
      resolve: { scale: { color: 'independent' } },
      config: CONFIG,
    },
  };
}

/** Stabilized σ_q50 against model size with the fitted power law, one plot per block position. */
export function powerLawPlots(fits: readonly ExponentFit[]): Plot[] {
  return (['first', 'middle', 'final'] as const).flatMap((position): Plot[] => {
    const here = fits.filter((f) => f.position === position && f.quantile === 'q50');
    if (here.length === 0) return [];
    // The standard error is NaN below 3 points: say so rather than print "± NaN".
    const label = (f: ExponentFit): string => `${f.type}: α = ${f.fit.alpha.toFixed(2)}${Number.isFinite(f.fit.standardError) ? ` ± ${f.fit.standardError.toFixed(2)}` : ' (2 points)'}`;
    const measured = here.flatMap((f) => f.sizes.map((size, i) => ({ layer: label(f), size, sigma: f.sigmas[i] as number })));
    const fitted = here.flatMap((f) => {
      const sizes = [Math.min(...f.sizes), Math.max(...f.sizes)];
      return sizes.map((size) => ({ layer: label(f), size, sigma: Math.exp(f.fit.logIntercept - f.fit.alpha * Math.log(size)) }));
    });
    const x = logAxis(measured.map((m) => m.size));
    const y = logAxis([...measured, ...fitted].map((m) => m.sigma));
    const encoding = {
      x: { field: 'size', type: 'quantitative', title: 'M, trainable parameters (log scale)', scale: { type: 'log', domain: x.domain, nice: false }, axis: { values: x.ticks, format: '~s', grid: true } },
      y: { field: 'sigma', type: 'quantitative', title: 'stabilized σ_q50 (log scale)', scale: { type: 'log', domain: y.domain, nice: false }, axis: { values: y.ticks, format: y.format, grid: true } },
      color: { field: 'layer', type: 'nominal', scale: { domain: here.map(label), range: here.map((f) => TYPE_COLORS[f.type]) }, legend: LEGEND },
    } as const;
    const title = `σ_q50 ∝ M^(−α), ${position} block`;
    return [{
      file: `power-law-${position}.svg`,
      title,
      spec: {
        $schema: SCHEMA,
        title: { text: title, subtitle: 'points: measured (one per model); dashed: least-squares fit on log–log, ± standard error', anchor: 'start' },
        width: 520,
        height: 320,
        background: 'white',
        layer: [
          { data: { values: measured }, mark: { type: 'point', filled: true, size: 40 }, encoding },
          { data: { values: fitted }, mark: { type: 'line', strokeDash: [6, 3], strokeWidth: 1.5 }, encoding },
        ],
        config: CONFIG,
      },
    }];
  });
}
