import type { TopLevelSpec } from 'vega-lite';

/** One optimizer's cost to reach the target loss (means over the seeds that reached it). */
export interface TargetBar {
  label: string;
  color: string;
  /** null: no seed reached the target. */
  steps: number | null;
  seconds: number | null;
}

/**
 * Steps to the target loss and seconds of training to it, side by side, one bar per optimizer:
 * an optimizer can need fewer steps and still more time (a costlier step). Optimizers that never
 * reached the target have no bar and are named in the subtitle.
 */
export function targetChartSpec(title: string, subtitle: string, bars: readonly TargetBar[]): TopLevelSpec {
  const reached = bars.filter((b) => b.steps !== null && b.seconds !== null);
  const missing = bars.filter((b) => b.steps === null || b.seconds === null).map((b) => b.label);
  const values = reached.flatMap((b) => [
    { optimizer: b.label, measure: 'steps to target', value: b.steps },
    { optimizer: b.label, measure: 'seconds of training to target', value: b.seconds },
  ]);
  const note = missing.length > 0 ? `${subtitle}; not reached: ${missing.join(', ')}` : subtitle;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle: note, anchor: 'start' },
    background: 'white',
    data: { values },
    facet: { column: { field: 'measure', type: 'nominal', title: null, sort: ['steps to target', 'seconds of training to target'] } },
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 260,
      height: { step: 22 },
      mark: { type: 'bar' },
      encoding: {
        y: { field: 'optimizer', type: 'nominal', title: null, sort: bars.map((b) => b.label) },
        x: { field: 'value', type: 'quantitative', title: null, axis: { grid: true } },
        color: { field: 'optimizer', type: 'nominal', legend: null, scale: { domain: bars.map((b) => b.label), range: bars.map((b) => b.color) } },
      },
    },
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 } },
  };
}
