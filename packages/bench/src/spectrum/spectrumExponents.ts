import { blockPositions, type BlockPosition, LAYER_TYPES, type LayerType } from './layerRole.js';
import { powerLawFit, type PowerLawFit } from './powerLawFit.js';
import { QUANTILE_KEYS, type Quantiles, type SpectrumRunResult } from './spectrumRun.js';

/**
 * The paper's exponents (arXiv 2606.04058, σ_q ∝ M^(−α)) as our reference notes give them: final
 * block from a public reproduction's extraction of the paper's figures (explore-muon
 * paper_claims_check, finding 1; MLP-down and MLP-up as the reproduction relabels them); the other
 * depths from the abstract ("layers up to mid-late depth scale as about M^−0.25").
 */
export const PAPER_EXPONENTS: Record<BlockPosition, Record<LayerType, number>> = {
  first: { Q: 0.25, K: 0.25, V: 0.25, O: 0.25, 'MLP-up': 0.25, 'MLP-down': 0.25 },
  middle: { Q: 0.25, K: 0.25, V: 0.25, O: 0.25, 'MLP-up': 0.25, 'MLP-down': 0.25 },
  final: { Q: 0.46, K: 0.38, V: 0.58, O: 0.66, 'MLP-up': 0.52, 'MLP-down': 0.96 },
};

/** One fitted law: a layer type at a block position, one quantile, over the runs' model sizes. */
export interface ExponentFit {
  readonly type: LayerType;
  readonly position: BlockPosition;
  readonly quantile: keyof Quantiles;
  readonly fit: PowerLawFit;
  /** The (M, stabilized σ_q) points fitted. */
  readonly sizes: number[];
  readonly sigmas: number[];
  readonly paper: number;
}

/**
 * Fits σ_q ∝ M^(−α) for every layer type, block position and quantile over the runs (M = the
 * model's trainable parameters, σ_q its stabilized momentum quantile), pooling widths and depths;
 * a combination seen at fewer than two distinct sizes is left out.
 */
export function spectrumExponents(runs: readonly SpectrumRunResult[]): ExponentFit[] {
  const fits: ExponentFit[] = [];
  for (const position of ['first', 'middle', 'final'] as const) {
    for (const type of LAYER_TYPES) {
      const layers = runs.flatMap((run) => run.layers
        .filter((l) => l.type === type && blockPositions(l.block, run.config.depth).includes(position))
        .map((l) => ({ size: run.parameters, stabilized: l.stabilized })));
      if (new Set(layers.map((l) => l.size)).size < 2) continue;
      for (const quantile of QUANTILE_KEYS) {
        const sizes = layers.map((l) => l.size);
        const sigmas = layers.map((l) => l.stabilized[quantile]);
        fits.push({ type, position, quantile, fit: powerLawFit(sizes, sigmas), sizes, sigmas, paper: PAPER_EXPONENTS[position][type] });
      }
    }
  }
  return fits;
}
