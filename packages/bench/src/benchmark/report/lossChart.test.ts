import { describe, expect, it } from 'vitest';
import { lossChartSpec } from './lossChart.js';
import { renderVegaLite } from './renderVegaLite.js';

const series = [
  { label: 'A', color: '#d62728', x: [1, 2, 3, 4], y: [2.3, 0.9, 0.5, 0.3] },
  { label: 'B', color: '#1f77b4', x: [1, 2, 3, 4], y: [2.3, 1.2, 0.6, 0.4] },
];

describe('the loss chart', () => {
  it('fits its log range to the curves with a margin, and labels ticks across it', () => {
    const spec = lossChartSpec({ title: 't', xLabel: 'step', yLabel: 'loss', series }) as unknown as {
      encoding: { y: { scale: { domain: [number, number] }; axis: { values: number[] } } };
    };
    const [lo, hi] = spec.encoding.y.scale.domain;
    // Margin: 4 % of the log range log10(2.3/0.3) = 0.885 on each side, i.e. a factor 10^0.0354 = 1.085.
    expect(lo).toBeCloseTo(0.3 / 10 ** (0.04 * Math.log10(2.3 / 0.3)), 12);
    expect(hi).toBeCloseTo(2.3 * 10 ** (0.04 * Math.log10(2.3 / 0.3)), 12);
    expect(lo).toBeLessThan(0.3);
    expect(hi).toBeGreaterThan(2.3);
    // [0.2765, 2.496]: every tick of the 1–1.5–2–2.5–3–…–8 set inside it
    expect(spec.encoding.y.axis.values).toEqual([0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1, 1.5, 2]);
  });

  it('renders to a standalone SVG with one line per series and its legend', async () => {
    const svg = await renderVegaLite(lossChartSpec({ title: 'Loss', xLabel: 'step', yLabel: 'loss', series }));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(2);
    expect(svg).toContain('>A</text>');
    expect(svg).toContain('>0.4</text>'); // a tick label between the powers of ten
    expect(svg).not.toMatch(/<script|href="http/);
  });
});
