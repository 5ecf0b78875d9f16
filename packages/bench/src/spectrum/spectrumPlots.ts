import { COEFFICIENT_PRESETS, composedPolynomial, resolveCoefficients } from 'muon-tfjs';
import { svgLinePlot, type Series } from '../benchmark/svgPlot.js';
import { blockPositions, type BlockPosition, LAYER_TYPES, type LayerType } from './layerRole.js';
import type { ExponentFit } from './spectrumExponents.js';
import { type LayerTrace, QUANTILE_KEYS, type SpectrumRunResult } from './spectrumRun.js';

/** One colour per layer type (the same in every plot). */
export const TYPE_COLORS: Record<LayerType, string> = {
  Q: '#1f77b4', K: '#ff7f0e', V: '#2ca02c', O: '#d62728', 'MLP-up': '#9467bd', 'MLP-down': '#8c564b',
};
const QUANTILE_COLORS = ['#08306b', '#2171b5', '#6baed6', '#fd8d3c', '#d94801'];
const PRESET_COLORS = ['#000000', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#ff7f0e'];

/** A named SVG file of the spectrum report. */
export interface Plot {
  readonly file: string;
  readonly title: string;
  readonly svg: string;
}

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-');

/** The layers of a run at a block position, in the paper's type order. */
export function layersAt(run: SpectrumRunResult, position: BlockPosition): LayerTrace[] {
  return LAYER_TYPES.flatMap((type) => run.layers.filter((l) => l.type === type && blockPositions(l.block, run.config.depth).includes(position)));
}

/** Momentum quantiles against step, one plot per layer of the run (first, middle and final block). */
export function quantilePlots(run: SpectrumRunResult): Plot[] {
  const { width, depth, burnIn } = run.config;
  return (['first', 'middle', 'final'] as const).flatMap((position) => layersAt(run, position).map((layer) => {
    const title = `${layer.type}, ${position} block (block ${layer.block}), width ${width}, depth ${depth}`;
    const series: Series[] = QUANTILE_KEYS.map((q, i) => ({
      label: q, color: QUANTILE_COLORS[i] as string, x: layer.steps, y: layer.momentum.map((m) => m[q]),
    }));
    return {
      file: `quantiles-${slug(layer.type)}-${position}.svg`,
      title,
      svg: svgLinePlot({ title, xLabel: `step (stabilized values: mean over steps > ${burnIn})`, yLabel: 'σ of M/‖M‖_F', series, logY: true, width: 440, height: 300, legendWidth: 50 }),
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
 * the final block's O and MLP-down.
 */
export function histogramPlots(run: SpectrumRunResult): Plot[] {
  const picks = [
    ...layersAt(run, 'first').filter((l) => l.type === 'Q').map((l) => ['first', l] as const),
    ...layersAt(run, 'final').filter((l) => l.type === 'O' || l.type === 'MLP-down').map((l) => ['final', l] as const),
  ];
  const lo = -5;
  const hi = 0.5;
  const bins = 55;
  const centers = Array.from({ length: bins }, (_, i) => lo + ((i + 0.5) * (hi - lo)) / bins);
  return picks.map(([position, layer]) => {
    const title = `σ before and after Newton–Schulz: ${layer.type}, ${position} block, width ${run.config.width}`;
    return {
      file: `histogram-${slug(layer.type)}-${position}.svg`,
      title,
      svg: svgLinePlot({
        title,
        xLabel: `log10 σ (step ${layer.steps[layer.steps.length - 1]}, ${layer.lastInputSigma.length} singular values, bins of 0.1)`,
        yLabel: 'count',
        series: [
          { label: 'NS input / ‖·‖_F', color: '#1f77b4', x: centers, y: histogram(layer.lastInputSigma, lo, hi, bins) },
          { label: 'NS output', color: '#d62728', x: centers, y: histogram(layer.lastOutputSigma, lo, hi, bins) },
        ],
        width: 640,
        height: 320,
        legendWidth: 150,
      }),
    };
  });
}

/**
 * The composed polynomial p(σ) of every coefficient preset at its own step count, on a log σ
 * axis, with the stabilized median σ_q50 of the final block's layers of the largest run marked
 * as vertical lines (where p(σ_q50) is far below 1, half the directions are not orthogonalized).
 */
export function polynomialPlot(run: SpectrumRunResult): Plot {
  // 200 samples per decade: the composed polynomials oscillate fast near σ = 1 (degree 3⁵ = 243).
  const xs = Array.from({ length: 1001 }, (_, i) => -5 + i / 200);
  const presets: Series[] = COEFFICIENT_PRESETS.map((name, i) => {
    const schedule = resolveCoefficients(name);
    return { label: `${name} (${schedule.iterations.length})`, color: PRESET_COLORS[i % PRESET_COLORS.length] as string, x: xs, y: xs.map((x) => composedPolynomial(schedule, 10 ** x)) };
  });
  const marks: Series[] = layersAt(run, 'final').map((l) => ({
    label: `σ_q50 ${l.type}`, color: TYPE_COLORS[l.type], dashed: true, x: [Math.log10(l.stabilized.q50), Math.log10(l.stabilized.q50)], y: [0, 1.25],
  }));
  const title = `Composed NS polynomial p(σ) and the final block's σ_q50 (width ${run.config.width}, depth ${run.config.depth})`;
  return {
    file: 'ns-polynomials.svg',
    title,
    svg: svgLinePlot({ title, xLabel: 'log10 σ of the Frobenius-normalized input', yLabel: 'p(σ)', series: [...presets, ...marks], width: 900, height: 440, legendWidth: 170 }),
  };
}

/** Stabilized σ_q50 against model size with the fitted power law, one plot per block position. */
export function powerLawPlots(fits: readonly ExponentFit[]): Plot[] {
  return (['first', 'middle', 'final'] as const).flatMap((position) => {
    const here = fits.filter((f) => f.position === position && f.quantile === 'q50');
    if (here.length === 0) return [];
    const series = here.flatMap((f): Series[] => {
      const order = f.sizes.map((_, i) => i).sort((a, b) => (f.sizes[a] as number) - (f.sizes[b] as number));
      const x = order.map((i) => Math.log10(f.sizes[i] as number));
      const color = TYPE_COLORS[f.type];
      return [
        { label: `${f.type} measured`, color, markers: true, x, y: order.map((i) => f.sigmas[i] as number) },
        { label: `${f.type} fit α=${f.fit.alpha.toFixed(2)}`, color, dashed: true, x, y: x.map((lx) => Math.exp(f.fit.logIntercept - f.fit.alpha * lx * Math.LN10)) },
      ];
    });
    const title = `σ_q50 ∝ M^(−α), ${position} block`;
    return [{
      file: `power-law-${position}.svg`,
      title,
      svg: svgLinePlot({ title, xLabel: 'log10 M (trainable parameters)', yLabel: 'stabilized σ_q50', series, logY: true, width: 820, height: 440, legendWidth: 180 }),
    }];
  });
}
