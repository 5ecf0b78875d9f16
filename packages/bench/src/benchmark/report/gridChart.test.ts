import { describe, expect, it } from 'vitest';
import { gridSearchSpec } from './gridChart.js';
import { renderVegaLite } from './renderVegaLite.js';

const series = [
  { label: 'AdamW', color: '#1f77b4', chosen: 3e-3, points: [{ value: 1e-3, validationLoss: 0.8 }, { value: 3e-3, validationLoss: 0.55 }, { value: 1e-2, validationLoss: null }] },
  { label: 'Muon', color: '#d62728', chosen: 0.1, points: [{ value: 0.05, validationLoss: 0.6 }, { value: 0.1, validationLoss: 0.36 }] },
];

describe('the learning-rate grid chart', () => {
  it('plots every finite grid point on log scales, rings the choice and leaves diverged points out', () => {
    const spec = gridSearchSpec('Grids', 'note', 'learning rate', series) as unknown as { data: { values: { optimizer: string; lr: number; chosen: boolean }[] } };
    expect(spec.data.values.map((v) => [v.optimizer, v.lr, v.chosen])).toEqual([
      ['AdamW', 1e-3, false],
      ['AdamW', 3e-3, true],
      ['Muon', 0.05, false],
      ['Muon', 0.1, true],
    ]);
  });

  it('renders to SVG with one line per optimizer and a ring per choice', async () => {
    const svg = await renderVegaLite(gridSearchSpec('Grids', 'note', 'learning rate', series));
    expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(2);
    // 4 finite grid points on the lines, plus the ring layer's 2 (one per optimizer's choice).
    expect(svg.match(/aria-roledescription="point"/g)).toHaveLength(6);
    expect(svg).toContain('>0.001</text>');
  });
});
