import { symmetricEigenvalues } from './symmetricEigenvalues.js';

/**
 * The singular values of a row-major rows×cols float64 matrix, descending, as the square roots of
 * the eigenvalues of its smaller Gram matrix (k×k, k = min(rows, cols)), in float64:
 * k²·max(rows, cols) multiply-adds for the Gram matrix (its lower triangle: half that) plus about
 * (2/3)k³ for the eigenvalues. Each σᵢ² carries an absolute error of order k·ε·σ₁² (ε = 2⁻⁵²), so
 * σ below about 1.5e-8·σ₁ is lost; eigenvalues that round-off pushes below zero give σ = 0 (see
 * `spectrumOf`, which is this on M/‖M‖_F).
 */
export function gramSingularValues(data: Float64Array, rows: number, cols: number): Float64Array {
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

/**
 * The descending-rank quantile of "Spectral Scaling Laws of Muon" (arXiv 2606.04058): the value at
 * index ⌈percent·r/100⌉ − 1 of the descending list `sigma` (r = its length), so percent = 90 sits
 * near the bottom: 90% of the values are ≥ it.
 */
export function descendingQuantile(sigma: ArrayLike<number>, percent: number): number {
  if (!(percent > 0 && percent <= 100) || sigma.length === 0) {
    throw new Error(`descendingQuantile: need 0 < percent ≤ 100 and a non-empty list, got percent = ${percent} and ${sigma.length} values`);
  }
  // ⌈P·r/100⌉ − 1 in integers: q·r in floating point can land just above an integer (0.1·30 =
  // 3.0000000000000004) and ceil would then skip a rank.
  return sigma[Math.ceil((percent * sigma.length) / 100) - 1] as number;
}
