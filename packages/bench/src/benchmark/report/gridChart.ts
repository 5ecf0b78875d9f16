import type { TopLevelSpec } from 'vega-lite';
import type { ChartSeries } from './lossChart.js';
import { logTicks } from './logTicks.js';

/** One optimizer's grid over one hyper-parameter: the points tried and the one chosen. */
export interface GridSeries extends Omit<ChartSeries, 'x' | 'y'> {
  points: readonly { readonly value: number; readonly validationLoss: number | null }[];
  chosen: number;
}

/**
 * The grids of one model over one hyper-parameter as a Vega-Lite chart: validation loss against
 * the value (both log scales) for every optimizer, the chosen value ringed, so that a reader sees
 * whether a choice sits at a grid edge. Diverged points (no loss) are left out and said so.
 * @param parameter the x axis title ("learning rate", "ρ")
 */
export function gridSearchSpec(title: string, subtitle: string, parameter: string, series: readonly GridSeries[]): TopLevelSpec {
  const values = series.flatMap((s) =>
    s.points.flatMap((p) => (p.validationLoss !== null && p.validationLoss > 0 ? [{ optimizer: s.label, lr: p.value, loss: p.validationLoss, chosen: p.value === s.chosen }] : [])),
  );
  const span = (xs: number[], fallback: [number, number]): [number, number] => {
    if (xs.length === 0) return fallback;
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    // 6 % of the log range on each side keeps the end points off the frame.
    const margin = 10 ** (Math.max(Math.log10(hi / lo), 0.05) * 0.06);
    return [lo / margin, hi * margin];
  };
  const x = span(values.map((v) => v.lr), [1e-4, 1]);
  const y = span(values.map((v) => v.loss), [0.1, 1]);
  const color = { field: 'optimizer', type: 'nominal', title: null, scale: { domain: series.map((s) => s.label), range: series.map((s) => s.color) } } as const;
  const axes = {
    x: { field: 'lr', type: 'quantitative', title: parameter, scale: { type: 'log', domain: x, nice: false }, axis: { values: logTicks(x[0], x[1]), format: '~g', grid: true, labelOverlap: false } },
    y: { field: 'loss', type: 'quantitative', title: 'validation loss', scale: { type: 'log', domain: y, nice: false }, axis: { values: logTicks(y[0], y[1]), format: '~r', grid: true } },
  } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle, anchor: 'start' },
    width: 560,
    height: 320,
    background: 'white',
    data: { values },
    layer: [
      { mark: { type: 'line', point: true, strokeWidth: 1.4 }, encoding: { ...axes, color: { ...color, legend: { orient: 'top-right', fillColor: 'white', padding: 6, strokeColor: '#ccc' } } } },
      { transform: [{ filter: 'datum.chosen' }], mark: { type: 'point', size: 180, strokeWidth: 2, filled: false }, encoding: { ...axes, color } },
    ],
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelLimit: 260 } },
  };
}
