import type { TopLevelSpec } from 'vega-lite';
import { logTicks } from './logTicks.js';

/** One curve of a chart. */
export interface ChartSeries {
  label: string;
  color: string;
  x: readonly number[];
  y: readonly number[];
}

/** Options of {@link lossChartSpec}. */
export interface LossChartOptions {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: readonly ChartSeries[];
  width?: number;
  height?: number;
}

/** Points kept per curve: enough for a smooth line at 640 px, small enough for an inline SVG. */
const MAX_POINTS = 400;

/**
 * A Vega-Lite line chart of losses on a log scale whose y range and ticks follow the curves: the
 * range spans exactly the plotted values, labelled across it ({@link logTicks}) rather than at
 * powers of ten only, and both scales are padded so that no curve touches the frame.
 */
export function lossChartSpec(options: LossChartOptions): TopLevelSpec {
  const { series, width = 560, height = 320 } = options;
  const values = series.flatMap((s) => {
    const stride = Math.max(1, Math.ceil(s.x.length / MAX_POINTS));
    return s.x.flatMap((x, i) => {
      const y = s.y[i] as number;
      const kept = i % stride === 0 || i === s.x.length - 1;
      return kept && Number.isFinite(x) && Number.isFinite(y) && y > 0 ? [{ optimizer: s.label, x, y }] : [];
    });
  });
  const ys = values.map((v) => v.y);
  const lo = ys.length > 0 ? Math.min(...ys) : 0.1;
  const hi = ys.length > 0 ? Math.max(...ys) : 1;
  // 4 % of the log range above and below: room between the extreme curves and the frame.
  const margin = Math.max(Math.log10(hi / lo), 0.02) * 0.04;
  const domain = [lo / 10 ** margin, hi * 10 ** margin];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: options.title, ...(options.subtitle !== undefined && { subtitle: options.subtitle }), anchor: 'start' },
    width,
    height,
    background: 'white',
    data: { values },
    mark: { type: 'line', strokeWidth: 1.6, interpolate: 'monotone' },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: options.xLabel, scale: { nice: false, zero: true, padding: 6 }, axis: { grid: true, tickCount: 8 } },
      y: {
        field: 'y',
        type: 'quantitative',
        title: options.yLabel,
        scale: { type: 'log', domain, nice: false },
        axis: { values: logTicks(domain[0] as number, domain[1] as number), format: '~r', grid: true },
      },
      color: {
        field: 'optimizer',
        type: 'nominal',
        title: null,
        scale: { domain: series.map((s) => s.label), range: series.map((s) => s.color) },
        legend: { orient: 'top-right', fillColor: 'white', padding: 6, strokeColor: '#ccc' },
      },
    },
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelLimit: 260 } },
  };
}
