import uPlot from 'uplot';
import { OPTIMIZER_STYLE } from '../createOptimizer.js';
import type { Run } from '../sideBySideTrainer.js';
import { AXIS, LiveChart } from './liveChart.js';

/** Weight of the newest batch loss in the drawn training curve (an EMA over about 10 steps). */
const SMOOTHING = 0.1;

/**
 * Training loss (smoothed, solid) and held-out loss (dots joined by dashes) of every run against
 * the step, on a log scale.
 */
export function lossChart(container: HTMLElement, runs: readonly Run[]): { update(runs: readonly Run[]): void; destroy(): void } {
  const series: uPlot.Series[] = [{ label: 'step' }];
  for (const run of runs) {
    const { label, color } = OPTIMIZER_STYLE[run.id];
    series.push({ label: `${label} train`, stroke: color, width: 2, spanGaps: true, points: { show: false } });
    series.push({ label: `${label} held-out`, stroke: color, width: 1.5, dash: [6, 4], spanGaps: true, points: { show: true, size: 6, fill: color } });
  }
  const chart = new LiveChart(container, {
    height: 260,
    series,
    scales: { x: { time: false }, y: { distr: 3 } },
    axes: [{ ...AXIS, label: 'step' }, { ...AXIS, label: 'cross-entropy (nats)' }],
    legend: { live: false },
  }, [[], ...series.slice(1).map(() => [])]);
  return {
    update(current) {
      const steps = Math.max(0, ...current.map((r) => r.losses.length));
      const x = Array.from({ length: steps }, (_, i) => i + 1);
      const columns: (number | null)[][] = [];
      for (const run of current) {
        let ema = run.losses[0] ?? 0;
        columns.push(run.losses.map((l) => (ema = ema + SMOOTHING * (l - ema))));
        const heldOut: (number | null)[] = new Array<number | null>(steps).fill(null);
        for (const [step, loss] of run.heldOut) if (step >= 1 && step <= steps) heldOut[step - 1] = loss;
        columns.push(heldOut);
      }
      chart.set([x, ...columns] as uPlot.AlignedData);
    },
    destroy: () => chart.destroy(),
  };
}
