import { describe, expect, it } from 'vitest';
import { renderVegaLite } from './renderVegaLite.js';
import { targetChartSpec } from './targetChart.js';

const bars = [
  { label: 'Muon', color: '#d62728', steps: 60, seconds: 9.5 },
  { label: 'AdamW', color: '#1f77b4', steps: 100, seconds: 7.25 },
  { label: 'SGD', color: '#7f7f7f', steps: null, seconds: null },
];

describe('the steps/time-to-target chart', () => {
  it('has a bar per reached optimizer in each panel and names the others', async () => {
    const spec = targetChartSpec('Target', 'AdamW\'s final loss', bars) as unknown as { data: { values: { optimizer: string; measure: string; value: number }[] } };
    expect(spec.data.values).toEqual([
      { optimizer: 'Muon', measure: 'steps to target', value: 60 },
      { optimizer: 'Muon', measure: 'seconds of training to target', value: 9.5 },
      { optimizer: 'AdamW', measure: 'steps to target', value: 100 },
      { optimizer: 'AdamW', measure: 'seconds of training to target', value: 7.25 },
    ]);
    const svg = await renderVegaLite(targetChartSpec('Target', 'AdamW\'s final loss', bars));
    expect(svg.match(/aria-roledescription="bar"/g)).toHaveLength(4);
    expect(svg).toContain('not reached: SGD');
    expect(svg).toContain('>seconds of training to target</text>');
  });
});
