import type uPlot from 'uplot';
import type { LayerSpectra } from '../sideBySideTrainer.js';
import { AXIS, LOG_VALUES, LiveChart } from './liveChart.js';

const QUANTILES = ['q10', 'q25', 'q50', 'q75', 'q90'] as const;
/** After Newton–Schulz the quantiles bunch together: the median and the bottom one say enough. */
const OUTPUT_QUANTILES = ['q50', 'q90'] as const;
/** Round-off level of a float32 momentum's rank-deficient directions: lower values are clipped. */
const FLOOR = 1e-8;
/** Darker for the top of the spectrum, lighter towards the bottom. */
const SHADES = ['#08306b', '#08519c', '#2171b5', '#6baed6', '#9ecae1'];

/**
 * The quantiles of the momentum's normalized singular values (counted from the top, as the
 * spectra issue does: q90 is near the bottom) against the step, on a log scale; dashed, the
 * median and q90 after Newton–Schulz. Values below 1e-8 (exact zeros of a rank-deficient
 * momentum, up to float32 round-off) are clipped.
 */
export function quantileChart(container: HTMLElement): { update(history: readonly LayerSpectra[]): void; destroy(): void } {
  const series: uPlot.Series[] = [{ label: 'step' }];
  QUANTILES.forEach((q, i) => series.push({ label: `momentum ${q}`, stroke: SHADES[i] as string, width: 2, points: { show: false } }));
  OUTPUT_QUANTILES.forEach((q) => series.push({ label: `NS output ${q}`, stroke: SHADES[QUANTILES.indexOf(q)] as string, width: 1.5, dash: [5, 4], points: { show: false } }));
  const chart = new LiveChart(container, {
    height: 240,
    series,
    scales: { x: { time: false }, y: { distr: 3, range: (_u, min, max) => [Math.max(min, FLOOR), Math.max(max, 1)] } },
    axes: [{ ...AXIS, label: 'step' }, { ...AXIS, label: 'σ of M/‖M‖_F (log)', values: LOG_VALUES, size: 56 }],
    legend: { live: false },
  }, [[], ...series.slice(1).map(() => [])]);
  return {
    update(history) {
      const withMomentum = history.filter((h) => h.momentum !== undefined);
      const x = withMomentum.map((h) => h.step);
      const columns = [
        ...QUANTILES.map((q) => withMomentum.map((h) => h.momentum?.quantiles[q] ?? null)),
        ...OUTPUT_QUANTILES.map((q) => withMomentum.map((h) => h.orthogonalized?.quantiles[q] ?? null)),
      ];
      chart.set([x, ...columns] as uPlot.AlignedData);
    },
    destroy: () => chart.destroy(),
  };
}
