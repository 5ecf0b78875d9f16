import type { MatrixShape } from './matrixView.js';

/**
 * How Muon scales its orthogonalized update by the matrix shape. An orthogonalized m×n update has
 * RMS 1/√max(m, n) (Moonlight, arXiv 2502.16982, Lemma 1), so the step size in parameter space
 * depends on the shape unless it is corrected:
 *
 * - `original`: √max(1, fanOut/fanIn), KellerJordan/Muon and torch.optim.Muon's default (there
 *   written rows/cols of a PyTorch `(out, in)` weight).
 * - `matchAdamW`: 0.2·√max(fanIn, fanOut), Moonlight's RMS matching (eq. 4): the update RMS becomes
 *   0.2, like AdamW's, so AdamW's learning rate and weight decay can be reused.
 * - `spectral`: √(fanOut/fanIn), the spectral-norm scaling of microsoft/dion (no max(1, ·)).
 * - `none`: 1.
 */
export type LrAdjust = 'original' | 'matchAdamW' | 'spectral' | 'none';

export const LR_ADJUST_MODES: readonly LrAdjust[] = ['original', 'matchAdamW', 'spectral', 'none'];

/** Moonlight's target update RMS for `matchAdamW` ("AdamW's update RMS is usually around 0.2 to 0.4"). */
export const MATCH_ADAMW_RMS = 0.2;

/** The factor `s` in p ← p − lr·s·O for a matrix of the given shape. */
export function shapeScale({ fanIn, fanOut }: MatrixShape, mode: LrAdjust): number {
  switch (mode) {
    case 'original':
      return Math.sqrt(Math.max(1, fanOut / fanIn));
    case 'matchAdamW':
      return MATCH_ADAMW_RMS * Math.sqrt(Math.max(fanIn, fanOut));
    case 'spectral':
      return Math.sqrt(fanOut / fanIn);
    case 'none':
      return 1;
    default:
      throw new Error(`Unknown lrAdjust '${String(mode)}'; expected one of ${LR_ADJUST_MODES.join(', ')}`);
  }
}
