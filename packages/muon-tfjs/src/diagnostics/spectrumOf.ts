import type * as tf from '@tensorflow/tfjs-core';
import { descendingQuantile } from '../math/gramSingularValues.js';
import { matrixShape } from '../math/matrixView.js';
import { type Float64Matrix, singularValues as svdSingularValues } from './polarFactor.js';
import { type GramSpectrumEngine, gramSingularValuesOn } from './gramSingularValuesOn.js';

/**
 * The descending-rank quantiles of "Spectral Scaling Laws of Muon" (Magakyan, Parrilo, Ozdaglar,
 * arXiv 2606.04058): `qP` is σ[⌈P·r/100⌉ − 1] of the descending singular values, r = min(m, n), so
 * `q10` sits near the top of the spectrum and `q90` near the bottom (90% of the directions have
 * σ ≥ q90).
 */
export interface SpectrumQuantiles {
  readonly q10: number;
  readonly q25: number;
  readonly q50: number;
  readonly q75: number;
  readonly q90: number;
}

/** What `spectrumOf` reports about one weight or momentum matrix M (all of M/‖M‖_F). */
export interface Spectrum {
  /** The r = min(fanIn, fanOut) singular values of M/‖M‖_F, descending (Σσᵢ² = 1). */
  readonly singularValues: Float64Array;
  /** Descending-rank quantiles of `singularValues` (see {@link SpectrumQuantiles}). */
  readonly quantiles: SpectrumQuantiles;
  /** ‖M‖²_F / σ₁²: between 1 (rank one) and r (all σ equal). */
  readonly stableRank: number;
  /** σ₁² / ‖M‖²_F = 1/stableRank: the share of the energy in the top direction. */
  readonly topEnergy: number;
}

/** Options of {@link spectrumOf}. */
export interface SpectrumOptions {
  /**
   * `'gram'` (default): eigenvalues of the smaller Gram matrix, fast (768×3072: about 0.1 s of
   * CPU with the native addon, 1 s in JavaScript); singular values below about
   * √ε·σ₁ ≈ 1.5e-8·σ₁ are lost (see {@link spectrumOf}). `'svd'`: ml-matrix's SVD of M itself,
   * accurate to a few ε·σ₁ for every σ but far slower (768×768: about 25 s); for when the bottom
   * of the spectrum matters.
   */
  readonly method?: 'gram' | 'svd';
  /**
   * Where the `'gram'` method computes: `'native'` (Node with the addon built: dsyrk and LAPACK's
   * dsyevd) or `'javascript'` (everywhere). Default: native when available. Same bound either way.
   */
  readonly engine?: GramSpectrumEngine;
}

const QUANTILE_PERCENTS = { q10: 10, q25: 25, q50: 50, q75: 75, q90: 90 } as const;

/**
 * The exact singular-value spectrum, in float64, of the Frobenius-normalized matrix M/‖M‖_F, where
 * a kernel is seen as the `[fanIn, fanOut]` matrix Muon orthogonalizes (`matrixShape`: Conv2D
 * `[kh, kw, in, out]` → `[kh·kw·in, out]`). Muon's Newton–Schulz iteration acts on exactly these
 * normalized σ, so `quantiles.q90` against a schedule's working range says whether 90% of the
 * directions get orthogonalized (see `chooseSchedule`).
 *
 * Accuracy of the default `'gram'` method: the eigenvalues λᵢ = σᵢ² of the smaller Gram matrix
 * (MᵀM or MMᵀ, k×k with k = min(m, n)) are computed in float64 with an absolute error of order
 * k·ε·σ₁² (ε = 2⁻⁵², the Gram product and the backward-stable eigensolver alike), so
 * |σ̂ᵢ − σᵢ| ≲ k·ε·σ₁²/σᵢ: full relative accuracy for σᵢ ≫ √(kε)·σ₁, and none below about
 * √ε·σ₁ ≈ 1.5e-8·σ₁, where σᵢ² drowns in σ₁²'s round-off. Eigenvalues that round-off pushes below
 * zero are clamped to 0: their true value is within that same error of zero, so σ = 0 is as
 * accurate as any other answer. Newton–Schulz maps every σ below about 1e-4 to nearly 0 anyway
 * (`composedPolynomial`), so the lost range never changes a schedule decision. Cost: k²·max(m, n)
 * multiply-adds for the Gram matrix plus (2/3)k³ for the eigenvalues, in the native addon where it
 * is built (see {@link SpectrumOptions.engine}).
 *
 * A float32 tensor's entries are exact in float64, so the spectrum is that of the values the
 * optimizer holds. Refused, naming the shape: rank < 2, a non-finite entry, and the zero matrix
 * (M/‖M‖_F is undefined; a tracker should skip such a step rather than log made-up numbers).
 *
 * @example
 * ```ts
 * import { spectrumOf } from 'muon-tfjs/diagnostics';
 * const { quantiles, stableRank } = spectrumOf(kernel); // kernel: a Dense [256, 1024] tf.Tensor
 * console.log(quantiles.q90, stableRank);               // a Gaussian kernel: about 0.039 and 117
 * ```
 */
export function spectrumOf(matrix: tf.Tensor | Float64Matrix, options: SpectrumOptions = {}): Spectrum {
  const method = options.method ?? 'gram';
  if (method !== 'gram' && method !== 'svd') {
    throw new Error(`spectrumOf: options.method must be 'gram' or 'svd', got ${JSON.stringify(method)}`);
  }
  if (options.engine !== undefined && options.engine !== 'native' && options.engine !== 'javascript') {
    throw new Error(`spectrumOf: options.engine must be 'native' or 'javascript', got ${JSON.stringify(options.engine)}`);
  }
  const isFloat64 = matrix.data instanceof Float64Array;
  const shape = isFloat64 ? [(matrix as Float64Matrix).rows, (matrix as Float64Matrix).cols] : (matrix as tf.Tensor).shape;
  if (shape.length < 2) {
    throw new Error(`spectrumOf: a tensor of shape [${shape.join(', ')}] has rank ${shape.length}; a spectrum needs a matrix or kernel of rank ≥ 2`);
  }
  const { fanIn: rows, fanOut: cols } = matrixShape(shape);
  const values = isFloat64 ? (matrix as Float64Matrix).data : (matrix as tf.Tensor).dataSync();
  if (values.length !== rows * cols) {
    throw new Error(`spectrumOf: a ${rows}×${cols} matrix needs ${rows * cols} entries, got ${values.length}`);
  }
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] as number;
    if (!Number.isFinite(x)) {
      throw new Error(`spectrumOf: the [${shape.join(', ')}] tensor has a non-finite entry (${x}) at flat index ${i}`);
    }
    sumSquares += x * x;
  }
  if (sumSquares === 0) {
    throw new Error(`spectrumOf: the [${shape.join(', ')}] tensor is zero, so its Frobenius-normalized spectrum is undefined`);
  }
  const scale = 1 / Math.sqrt(sumSquares);
  const normalized = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) normalized[i] = (values[i] as number) * scale;
  const sigma =
    method === 'svd' ? svdSingularValues({ rows, cols, data: normalized }) : gramSingularValuesOn(normalized, rows, cols, options.engine);
  return describe(sigma);
}

function describe(sigma: Float64Array): Spectrum {
  const top = sigma[0] as number;
  const quantiles = {
    q10: descendingQuantile(sigma, QUANTILE_PERCENTS.q10),
    q25: descendingQuantile(sigma, QUANTILE_PERCENTS.q25),
    q50: descendingQuantile(sigma, QUANTILE_PERCENTS.q50),
    q75: descendingQuantile(sigma, QUANTILE_PERCENTS.q75),
    q90: descendingQuantile(sigma, QUANTILE_PERCENTS.q90),
  };
  // ‖M/‖M‖_F‖_F = 1 exactly by construction, so the ratios need only σ₁.
  return { singularValues: sigma, quantiles, stableRank: 1 / (top * top), topEnergy: top * top };
}
