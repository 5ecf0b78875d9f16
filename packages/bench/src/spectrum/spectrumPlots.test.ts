import { describe, expect, it } from 'vitest';
import { renderVegaLite } from '../benchmark/report/renderVegaLite.js';
import type { LayerType } from './layerRole.js';
import type { ExponentFit } from './spectrumExponents.js';
import { histogramPlots, polynomialPlot, powerLawPlots, quantilePlots } from './spectrumPlots.js';
import type { LayerTrace, Quantiles, SpectrumRunResult } from './spectrumRun.js';

const quantiles = (scale: number): Quantiles => ({ q10: 0.1 * scale, q25: 0.03 * scale, q50: 0.01 * scale, q75: 3e-3 * scale, q90: 1e-3 * scale });

function layer(type: LayerType, block: number): LayerTrace {
  return {
    type, block, variable: `block${block}_${type}`, shape: [16, 16], steps: [10, 20, 30], momentum: [quantiles(1), quantiles(1.5), quantiles(2)],
    stabilized: quantiles(2), topEnergy: 0.2, output: { min: 0.5, max: 1.1, polarDistance: 0.3 },
    // 16 input σ: 4 per decade from 1 down to 1e-4 (one below the histogram's 1e-5 floor); 16 output σ near 1.
    lastInputSigma: [...Array.from({ length: 15 }, (_, i) => 10 ** (-i / 4 + 0.1)), 1e-7], lastOutputSigma: Array.from({ length: 16 }, (_, i) => 0.8 + i * 0.02),
  };
}

const run: SpectrumRunResult = {
  config: { width: 32, depth: 2, steps: 30, burnIn: 15, every: 10, seed: 1, batchSize: 4, sequenceLength: 8 },
  heads: 1, parameters: 20_000, losses: [3, 2], trainSeconds: 1, trackerSeconds: 0.1,
  layers: [layer('Q', 1), layer('O', 2), layer('MLP-down', 2)],
};

describe('the spectrum plots (Vega-Lite)', () => {
  it('quantiles against step: one plot per layer and block position, five lines, the burn-in marked, log ticks across the data', async () => {
    const plots = quantilePlots(run);
    expect(plots.map((p) => p.file)).toEqual(['quantiles-q-first.svg', 'quantiles-o-final.svg', 'quantiles-mlp-down-final.svg']);
    const svg = await renderVegaLite((plots[0] as (typeof plots)[number]).spec);
    expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(5);
    expect(svg).toContain('>burn-in</text>');
    // Data from 1e-3 to 0.2 (under 3 decades): labels between the powers of ten, as decimals.
    expect(svg).toContain('>0.002</text>');
    expect(svg).toContain('>0.05</text>');
  });

  it('σ histograms: every singular value counted once per series (out-of-range ones in the end bins), said in the subtitle', async () => {
    const plots = histogramPlots(run);
    expect(plots.map((p) => p.file)).toEqual(['histogram-q-first.svg', 'histogram-o-final.svg', 'histogram-mlp-down-final.svg']);
    const spec = (plots[0] as (typeof plots)[number]).spec as unknown as { data: { values: { series: string; count: number }[] } };
    const total = (series: string): number => spec.data.values.filter((v) => v.series === series).reduce((sum, v) => sum + v.count, 0);
    expect([total('NS input / ‖·‖_F'), total('NS output')]).toEqual([16, 16]);
    const svg = await renderVegaLite((plots[0] as (typeof plots)[number]).spec);
    expect(svg).toContain('1 input σ below 1e-5 counted in the first bin');
    expect(svg).toContain('>0.001</text>');
  });

  it('the composed polynomials: one line per preset and one dashed rule per final-block layer, with its σ_q50 in the legend', async () => {
    const svg = await renderVegaLite(polynomialPlot(run).spec);
    expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(5);
    expect(svg).toContain('>O: σ_q50 = 0.020</text>');
    expect(svg).toContain('>jordan (5 steps)</text>');
    expect(svg).toContain('>0.0001</text>');
  });

  it('power laws: measured points and the fit per layer type, the α in the legend (no "± NaN" with 2 points)', async () => {
    const exponentFit = (type: LayerType, standardError: number): ExponentFit => ({
      type, position: 'final', quantile: 'q50', fit: { alpha: 0.5, standardError, logIntercept: Math.log(0.5), points: 2 },
      sizes: [1e4, 1e5], sigmas: [0.5 * 1e4 ** -0.5, 0.5 * 1e5 ** -0.5], paper: 0.96,
    } as ExponentFit);
    const plots = powerLawPlots([exponentFit('O', 0.05), exponentFit('MLP-down', Number.NaN)]);
    expect(plots.map((p) => p.file)).toEqual(['power-law-final.svg']);
    const svg = await renderVegaLite((plots[0] as (typeof plots)[number]).spec);
    expect(svg).toContain('>O: α = 0.50 ± 0.05</text>');
    expect(svg).toContain('>MLP-down: α = 0.50 (2 points)</text>');
    expect(svg).not.toContain('NaN');
  });
});
