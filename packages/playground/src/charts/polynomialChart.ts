import type uPlot from 'uplot';
import { composedPolynomial, type CoefficientSchedule } from 'muon-tfjs';
import type { Spectrum } from 'muon-tfjs/diagnostics';
import { AXIS, LOG_VALUES, LiveChart } from './liveChart.js';

const GRID = Array.from({ length: 241 }, (_, i) => 10 ** (-4 + (4 * i) / 240));
const QUANTILES = ['q10', 'q25', 'q50', 'q75', 'q90'] as const;

/**
 * The composed Newton–Schulz polynomial σ ↦ p(σ) of a schedule on σ ∈ [1e-4, 1] (log axis: the
 * momentum's normalized singular values sit around 1/√r and below), the ideal map σ ↦ 1 for
 * σ > 0, and the layer's momentum quantiles marked on the curve.
 */
export function polynomialChart(container: HTMLElement): { update(schedule: CoefficientSchedule, momentum: Spectrum | undefined): void; destroy(): void } {
  const chart = new LiveChart(container, {
    height: 240,
    series: [
      { label: 'σ' },
      { label: 'p(σ)', stroke: '#0877bd', width: 2, points: { show: false } },
      { label: 'sign(σ) = 1', stroke: '#999', dash: [4, 4], width: 1, points: { show: false } },
      { label: 'layer quantiles', stroke: '#d62728', width: 0, points: { show: true, size: 9, fill: '#d62728' } },
    ],
    scales: { x: { time: false, distr: 3 }, y: { range: [0, 1.3] } },
    axes: [{ ...AXIS, label: 'σ of the normalized momentum (log)', values: LOG_VALUES }, { ...AXIS, label: 'p(σ)' }],
    legend: { live: false },
  }, [GRID, GRID.map(() => null), GRID.map(() => 1), GRID.map(() => null)]);
  return {
    update(schedule, momentum) {
      const marks = momentum === undefined ? [] : QUANTILES.map((q) => momentum.quantiles[q]).filter((s) => s > (GRID[0] as number));
      const x = [...new Set([...GRID, ...marks])].sort((a, b) => a - b);
      const markSet = new Set(marks);
      const p = x.map((s) => composedPolynomial(schedule, s));
      chart.set([x, p, x.map(() => 1), x.map((s, i) => (markSet.has(s) ? (p[i] as number) : null))] as uPlot.AlignedData);
    },
    destroy: () => chart.destroy(),
  };
}
