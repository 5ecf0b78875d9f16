import type * as tf from '@tensorflow/tfjs-core';
import { matrixShape } from '../math/matrixView.js';
import { type Float64Matrix, singularValues as svdSingularValues } from './polarFactor.js';
import { symmetricEigenvalues } from './symmetricEigenvalues.js';

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
   * `'gram'` (default): eigenvalues of the smaller Gram matrix, fast (768×3072 in about a second of
   * single-threaded JavaScript); singular values below about √ε·σ₁ ≈ 1.5e-8·σ₁ are lost (see
   * {@link spectrumOf}). `'svd'`: ml-matrix's SVD of M itself, accurate to a few ε·σ₁ for every σ
   * but 15–25× slower (768×768: about 25 s); for when the bottom of the spectrum matters.
   */
  readonly method?: 'gram' | 'svd';
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
 * multiply-adds for the Gram matrix plus (2/3)k³ for the eigenvalues.
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
    method === 'svd' ? svdSingularValues({ rows, cols, data: normalized }) : gramSingularValues(normalized, rows, cols);
  return describe(sigma);
}

/** Singular values (descending) of the row-major rows×cols matrix through its smaller Gram side. */
function gramSingularValues(data: Float64Array, rows: number, cols: number): Float64Array {
  // For a tall matrix, MᵀM's entries are dot products of columns: transpose once so that every
  // dot product below runs over contiguous memory.
  const k = Math.min(rows, cols);
  const length = Math.max(rows, cols);
  const vectors = rows <= cols ? data : transpose(data, rows, cols);
  const lambda = symmetricEigenvalues(lowerGram(vectors, k, length), k);
  return lambda.map((l) => Math.sqrt(Math.max(l, 0)));
}

function transpose(data: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(data.length);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j] as number;
  }
  return out;
}

/** Rows per register block of {@link lowerGram}, and dot-product length per cache tile. */
const BLOCK = 4;
const TILE = 512;

/**
 * The lower triangle of V·Vᵀ for the k×length row-major V, as a k×k row-major array (entries
 * above the diagonal are unspecified). Rows are taken four by four: a 4×4 block of dot products per
 * pass, so that each loaded value feeds four multiply-adds (about 1.5× the 2×2 kernel's speed in
 * V8), over tiles of 512 columns so that the eight rows of a block stay in the L1/L2 cache (another
 * 10%). V is zero-padded to a multiple of 4 rows; padding rows only add zero blocks.
 */
function lowerGram(v: Float64Array, k: number, length: number): Float64Array {
  const padded = Math.ceil(k / BLOCK) * BLOCK;
  let rows = v;
  if (padded !== k) {
    rows = new Float64Array(padded * length);
    rows.set(v.subarray(0, k * length));
  }
  const g = new Float64Array(padded * padded);
  for (let t0 = 0; t0 < length; t0 += TILE) {
    const t1 = Math.min(length, t0 + TILE);
    for (let i = 0; i < padded; i += BLOCK) {
      const [r0, r1, r2, r3] = [i * length, (i + 1) * length, (i + 2) * length, (i + 3) * length];
      for (let j = 0; j <= i; j += BLOCK) {
        const [c0, c1, c2, c3] = [j * length, (j + 1) * length, (j + 2) * length, (j + 3) * length];
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        for (let t = t0; t < t1; t++) {
          const x0 = rows[r0 + t] as number;
          const x1 = rows[r1 + t] as number;
          const x2 = rows[r2 + t] as number;
          const x3 = rows[r3 + t] as number;
          const y0 = rows[c0 + t] as number;
          const y1 = rows[c1 + t] as number;
          const y2 = rows[c2 + t] as number;
          const y3 = rows[c3 + t] as number;
          s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
          s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
          s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
          s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
        }
        const block = [s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33];
        for (let a = 0; a < BLOCK; a++) {
          for (let b = 0; b < BLOCK; b++) {
            const at = (i + a) * padded + j + b;
            g[at] = (g[at] as number) + (block[a * BLOCK + b] as number);
          }
        }
      }
    }
  }
  if (padded === k) return g;
  const out = new Float64Array(k * k);
  for (let i = 0; i < k; i++) out.set(g.subarray(i * padded, i * padded + k), i * k);
  return out;
}

function describe(sigma: Float64Array): Spectrum {
  const r = sigma.length;
  const top = sigma[0] as number;
  // ⌈P·r/100⌉ − 1 in integers: q·r in floating point can land just above an integer (0.1·30 =
  // 3.0000000000000004) and ceil would then skip a rank.
  const at = (percent: number): number => sigma[Math.ceil((percent * r) / 100) - 1] as number;
  const quantiles = {
    q10: at(QUANTILE_PERCENTS.q10),
    q25: at(QUANTILE_PERCENTS.q25),
    q50: at(QUANTILE_PERCENTS.q50),
    q75: at(QUANTILE_PERCENTS.q75),
    q90: at(QUANTILE_PERCENTS.q90),
  };
  // ‖M/‖M‖_F‖_F = 1 exactly by construction, so the ratios need only σ₁.
  return { singularValues: sigma, quantiles, stableRank: 1 / (top * top), topEnergy: top * top };
}
