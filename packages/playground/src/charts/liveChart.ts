import uPlot from 'uplot';

/**
 * A uPlot chart that fills its container's width and follows it when the page is resized. The
 * data is replaced wholesale by {@link LiveChart.set}; uPlot redraws in one pass (it is built for
 * streaming series of this size).
 */
export class LiveChart {
  readonly plot: uPlot;
  readonly #observer: ResizeObserver;

  constructor(container: HTMLElement, options: Omit<uPlot.Options, 'width'>, data: uPlot.AlignedData) {
    const width = (): number => Math.max(240, container.clientWidth);
    this.plot = new uPlot({ ...options, width: width() }, data, container);
    this.#observer = new ResizeObserver(() => this.plot.setSize({ width: width(), height: options.height }));
    this.#observer.observe(container);
  }

  set(data: uPlot.AlignedData): void {
    this.plot.setData(data);
  }

  destroy(): void {
    this.#observer.disconnect();
    this.plot.destroy();
  }
}

/** The axis font and grid colour shared by every chart. */
export const AXIS: uPlot.Axis = { stroke: '#444', grid: { stroke: '#eee' }, ticks: { stroke: '#ddd' } };

/** Tick labels for log axes: plain numbers down to 0.01, powers of ten below (uPlot's default rounds them to 0). */
export const LOG_VALUES: uPlot.Axis.Values = (_u, splits) =>
  splits.map((v) => (v === null || v === undefined ? '' : v >= 0.01 ? String(Number(v.toPrecision(2))) : `1e${Math.round(Math.log10(v))}`));
