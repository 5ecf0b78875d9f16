import { loadNativeAddon } from '../kernels/nativeAddon.js';
import { gramSingularValues } from '../math/gramSingularValues.js';

/** Where {@link gramSingularValuesOn} computes: the native addon (dsyrk + LAPACK dsyevd) or JavaScript. */
export type GramSpectrumEngine = 'native' | 'javascript';

/**
 * The min(rows, cols) singular values, descending, of the row-major rows×cols float64 matrix M,
 * as square roots of the eigenvalues of its smaller Gram matrix (MMᵀ or MᵀM). In Node with the
 * native addon built, dsyrk and LAPACK's dsyevd; elsewhere (browsers, no addon) `gramSingularValues`
 * in JavaScript. `spectrumOf` on 768×3072 costs about 0.1 s of CPU the first way and 1.0 s the
 * second (`npm run bench:spectra`). Both are backward stable: each σᵢ² carries an absolute error of
 * order k·ε·σ₁², as `spectrumOf` documents; eigenvalues that round-off pushes below zero give σ = 0.
 */
export function gramSingularValuesOn(data: Float64Array, rows: number, cols: number, engine: GramSpectrumEngine = fastestEngine()): Float64Array {
  if (engine === 'javascript') return gramSingularValues(data, rows, cols);
  const status = loadNativeAddon();
  if (!status.available) throw new Error(`gramSingularValuesOn: the native engine is unavailable (${status.reason})`);
  return status.addon.gramEigenvalues(data, rows, cols).map((lambda) => Math.sqrt(Math.max(lambda, 0)));
}

function fastestEngine(): GramSpectrumEngine {
  return loadNativeAddon().available ? 'native' : 'javascript';
}
