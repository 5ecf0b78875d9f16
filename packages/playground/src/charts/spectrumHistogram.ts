import uPlot from 'uplot';
import { AXIS, LOG_VALUES, LiveChart } from './liveChart.js';
import type { Spectrum } from 'muon-tfjs/diagnostics';

/** How one histogram series is drawn. */
export interface HistogramSeries {
  readonly label: string;
  readonly color: string;
}

const BINS = 24;
/** The histogram spans σ/σ₁ ∈ [1e-4, 1] in equal steps of log σ; smaller values count in the first bin. */
const DECADES = 4;

/**
 * The histogram of σ/σ₁ (each singular value over the largest, so every series lies in [0, 1]
 * whatever its scale) on a log axis, since a momentum's spectrum spans decades, as the share of
 * directions per bin, one stepped outline per series.
 */
export function spectrumHistogram(container: HTMLElement, labels: readonly HistogramSeries[]): { update(spectra: readonly (Spectrum | undefined)[]): void; destroy(): void } {
  // Left bin edges and the right end: a stepped line holds each bin's share from its left edge to the next.
  const x = Array.from({ length: BINS + 1 }, (_, i) => 10 ** (-DECADES + (DECADES * i) / BINS));
  const stepped = uPlot.paths.stepped?.({ align: 1 });
  const chart = new LiveChart(container, {
    height: 240,
    series: [
      { label: 'σ/σ₁' },
      ...labels.map((s): uPlot.Series => ({ label: s.label, stroke: s.color, fill: `${s.color}22`, width: 2, ...(stepped && { paths: stepped }), points: { show: false } })),
    ],
    scales: { x: { time: false, distr: 3, range: [10 ** -DECADES, 1] }, y: { range: (_u, _min, max) => [0, Math.max(max, 0.05)] } },
    axes: [{ ...AXIS, label: 'σ / σ₁ (log)', values: LOG_VALUES }, { ...AXIS, label: 'share of directions' }],
    legend: { live: false },
  }, [x, ...labels.map(() => x.map(() => null))]);
  return {
    update(spectra) {
      const columns = spectra.map((spectrum) => {
        if (spectrum === undefined) return x.map(() => null);
        const counts = new Array<number>(BINS).fill(0);
        const top = spectrum.singularValues[0] ?? 0;
        for (const s of spectrum.singularValues) {
          const relative = top > 0 ? s / top : 0;
          const bin = Math.min(BINS - 1, Math.max(0, Math.floor(((Math.log10(relative) + DECADES) / DECADES) * BINS)));
          counts[bin] = (counts[bin] as number) + 1;
        }
        return [...counts.map((c) => c / spectrum.singularValues.length), 0];
      });
      chart.set([x, ...columns] as uPlot.AlignedData);
    },
    destroy: () => chart.destroy(),
  };
}
