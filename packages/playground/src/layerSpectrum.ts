import type * as tf from '@tensorflow/tfjs-core';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { matrixShape } from 'muon-tfjs';

/** Singular-value quantiles counted from the top, as in the spectra issue (q90 is near the bottom). */
export interface SpectrumQuantiles {
  readonly q10: number;
  readonly q25: number;
  readonly q50: number;
  readonly q75: number;
  readonly q90: number;
}

/** The spectrum of a Frobenius-normalized weight-shaped tensor. */
export interface Spectrum {
  /** Singular values of M/‖M‖_F, descending, min(fanIn, fanOut) of them (so Σσ² = 1). */
  readonly singularValues: Float64Array;
  readonly quantiles: SpectrumQuantiles;
  /** ‖M‖²_F / σ₁²: how many directions carry the energy (1 for rank one, r for an orthogonal M). */
  readonly stableRank: number;
  /** σ₁² / ‖M‖²_F: the share of the energy in the top direction. */
  readonly topEnergy: number;
}

const QUANTILES = { q10: 0.1, q25: 0.25, q50: 0.5, q75: 0.75, q90: 0.9 } as const;

/**
 * The exact singular values, in float64, of a weight-shaped tensor viewed as the `[fanIn, fanOut]`
 * matrix Muon orthogonalizes (Conv2D `[kh, kw, in, out]` → `[kh·kw·in, out]`), normalized by its
 * Frobenius norm, with the summary numbers the playground plots. It has the return shape of the
 * library's planned `spectrumOf` (issue 15), so that function can replace this one unchanged.
 *
 * Computed through the smaller Gram side: the eigenvalues λ of MᵀM (or MMᵀ) are σ², so a
 * 784×256 kernel costs one 256×256 symmetric eigendecomposition instead of an SVD. Squaring
 * loses the relative accuracy of singular values below about √ε·σ₁ ≈ 1e-8·σ₁ (float64), far
 * below anything the histograms resolve; negative round-off eigenvalues are clamped to 0.
 * A zero tensor has no direction: its singular values are all 0 and its ratios NaN.
 *
 * @example
 * const s = layerSpectrum(tf.eye(4)); // singularValues [0.5, 0.5, 0.5, 0.5], stableRank 4
 */
export function layerSpectrum(tensor: tf.Tensor): Spectrum {
  const { fanIn, fanOut } = matrixShape(tensor.shape);
  const values = tensor.dataSync();
  const m = new Matrix(fanIn, fanOut);
  let energy = 0;
  for (let i = 0; i < fanIn; i++) {
    for (let j = 0; j < fanOut; j++) {
      const v = values[i * fanOut + j] as number;
      m.set(i, j, v);
      energy += v * v;
    }
  }
  const gram = fanIn >= fanOut ? m.transpose().mmul(m) : m.mmul(m.transpose());
  const eigenvalues = new EigenvalueDecomposition(gram, { assumeSymmetric: true }).realEigenvalues;
  const scale = energy > 0 ? 1 / energy : 0;
  const singularValues = Float64Array.from(eigenvalues, (l) => Math.sqrt(Math.max(l, 0) * scale)).sort().reverse();
  const r = singularValues.length;
  const at = (q: number): number => singularValues[Math.ceil(q * r) - 1] as number;
  const top = (singularValues[0] as number) ** 2;
  const total = energy > 0 ? 1 : 0;
  return {
    singularValues,
    quantiles: { q10: at(QUANTILES.q10), q25: at(QUANTILES.q25), q50: at(QUANTILES.q50), q75: at(QUANTILES.q75), q90: at(QUANTILES.q90) },
    stableRank: total / top,
    topEnergy: top / total,
  };
}
