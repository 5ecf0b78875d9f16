import { perTapView } from '../math/convTaps.js';
import type { GradientTransformation } from './gradientTransformation.js';
import { splitMatrices } from './splitMatrices.js';

/**
 * Runs `inner` on each spatial tap of every conv kernel `[...spatial, in, out]` (rank ≥ 3) as if
 * each `[in, out]` tap were a parameter of its own, and scales the kernel's update by 1/√taps
 * (`ConvOrthogonalization` 'perTap'): the matrix view {@link perTapView}. Matrices (rank 2) pass
 * through whole. Tap t is the t-th `[in, out]` slice of the kernel in row-major order of its
 * spatial axes.
 */
export function splitTaps(inner: GradientTransformation): GradientTransformation {
  return splitMatrices((_name, shape) => (shape.length < 3 ? undefined : perTapView(shape)), inner);
}
