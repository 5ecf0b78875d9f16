import { type MatrixView, batchedMatrixShape } from './matrixView.js';

/**
 * How Muon sees a convolution kernel `[...spatial, in, out]` (rank ≥ 3; TF.js is input-first):
 *
 * - `flatten`: one `[kh·kw·in, out]` matrix (the `[fanIn, fanOut]` view of `matrixView`), as
 *   KellerJordan/Muon ("flatten their last 3 dimensions"), the CIFAR-10 airbench speedrun
 *   (`g.reshape(len(g), -1)` of a PyTorch `(out, in, kh, kw)` filter) and timm's default
 *   `conv_mode="flatten"` do.
 * - `perTap`: each spatial tap's `[in, out]` matrix is orthogonalized on its own, with its own
 *   shape scale, and the kernel's update is divided by √taps: timm's `conv_mode="batched"` with
 *   `normalize_spatial=True` (huggingface/pytorch-image-models `timm/optim/muon.py`). Each tap maps
 *   the input channels at one offset to the output channels; the division keeps the kernel's
 *   update at the Frobenius norm of one orthogonal `[in, out]` matrix, not √taps times it.
 */
export type ConvOrthogonalization = 'flatten' | 'perTap';

export const CONV_ORTHOGONALIZATIONS: readonly ConvOrthogonalization[] = ['flatten', 'perTap'];

/**
 * The per-tap view of a conv kernel `[...spatial, in, out]`: its taps are the batch of `[in, out]`
 * matrices (reduction axis −2, output axis −1), and the update is divided by √taps.
 */
export function perTapView(shape: readonly number[]): MatrixView {
  const taps = batchedMatrixShape(shape, { reductionAxes: [-2], outputAxes: [-1] });
  return { ...taps, updateScale: perTapScale(taps.batch) };
}

/** The factor on a per-tap update of `taps` taps: 1/√taps (timm's `normalize_spatial`). */
export function perTapScale(taps: number): number {
  return 1 / Math.sqrt(taps);
}
