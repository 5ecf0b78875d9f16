import { describe, expect, it } from 'vitest';
import { LAYER_TYPES } from './layerRole.js';
import { PAPER_EXPONENTS, spectrumExponents } from './spectrumExponents.js';
import type { LayerTrace, SpectrumRunConfig, SpectrumRunResult } from './spectrumRun.js';

/** A run whose stabilized quantiles follow σ_q = 0.1·(M/1e5)^(−α) exactly, α by position. */
function syntheticRun(width: number, depth: number, alphaOf: (block: number) => number): SpectrumRunResult {
  const parameters = 12 * width * width * depth;
  const config: SpectrumRunConfig = { width, depth, steps: 10, burnIn: 5, every: 5, seed: 1, batchSize: 4, sequenceLength: 8 };
  const layers: LayerTrace[] = [];
  for (let block = 1; block <= depth; block++) {
    const sigma = 0.1 * (parameters / 1e5) ** -alphaOf(block);
    const q = { q10: 2 * sigma, q25: 1.5 * sigma, q50: sigma, q75: sigma / 2, q90: sigma / 4 };
    for (const type of LAYER_TYPES) {
      layers.push({
        type, block, variable: `block${block}_${type}`, shape: [width, width], steps: [10], momentum: [q], stabilized: q,
        topEnergy: 0.1, output: { min: 0.7, max: 1.1, polarDistance: 0.2 }, lastInputSigma: [], lastOutputSigma: [],
      });
    }
  }
  return { config, heads: 1, parameters, losses: [1], trainSeconds: 1, trackerSeconds: 0, layers };
}

describe('spectrumExponents', () => {
  it('recovers the exponents of each block position, pooling widths and depths', () => {
    const alphaOf = (depth: number) => (block: number): number => (block === depth ? 0.9 : block === 1 ? 0.25 : 0.4);
    const runs = [32, 64, 128].flatMap((w) => [2, 4].map((d) => syntheticRun(w, d, alphaOf(d))));
    const fits = spectrumExponents(runs);
    const at = (position: string, quantile: string): number[] => fits.filter((f) => f.position === position && f.quantile === quantile).map((f) => f.fit.alpha);
    for (const alpha of at('first', 'q50')) expect(alpha).toBeCloseTo(0.25, 10);
    for (const alpha of at('final', 'q90')) expect(alpha).toBeCloseTo(0.9, 10);
    // Middle blocks exist only at depth 4 (block 2): three sizes, still a fit.
    expect(at('middle', 'q50')).toHaveLength(LAYER_TYPES.length);
    for (const alpha of at('middle', 'q50')) expect(alpha).toBeCloseTo(0.4, 10);
    const finalDown = fits.find((f) => f.position === 'final' && f.type === 'MLP-down' && f.quantile === 'q50');
    expect(finalDown?.paper).toBe(PAPER_EXPONENTS.final['MLP-down']);
    expect(finalDown?.fit.points).toBe(6);
  });

  it('leaves out a position seen at a single model size', () => {
    const fits = spectrumExponents([syntheticRun(32, 4, () => 0.3), syntheticRun(64, 2, () => 0.3)]);
    expect(fits.filter((f) => f.position === 'middle')).toHaveLength(0);
    expect(fits.filter((f) => f.position === 'first').length).toBeGreaterThan(0);
  });
});
