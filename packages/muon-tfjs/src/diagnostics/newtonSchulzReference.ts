import { Matrix, SVD } from 'ml-matrix';
import type { NewtonSchulzSchedule } from '../math/newtonSchulzSchedule.js';
import type { Float64Matrix } from './polarFactor.js';

/**
 * The AOL rescaling of G in float64 (Prach & Lampert, arXiv 2208.03160; the normalization of
 * Turbo-Muon, `NewtonSchulzNormalization` `'aol'`): on the Gram side A = GGᵀ (GᵀG when G is tall),
 * s_i = 1/max(√(Σ_j |A_ij|), eps), and diag(s)·G (tall: G·diag(s)). The reference the kernels'
 * float32 rescaling is checked against, and what Turbo-Muon's iteration orthogonalizes: its
 * result approximates polar(aolRescaled(G)), not polar(G).
 */
export function aolRescaled(g: Float64Matrix, eps: number): Float64Matrix {
  const tall = g.rows > g.cols;
  const m = tall ? g.cols : g.rows;
  const len = tall ? g.rows : g.cols;
  const at = (i: number, t: number): number => (tall ? (g.data[t * g.cols + i] as number) : (g.data[i * g.cols + t] as number));
  const rowSums = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    for (let j = i; j < m; j++) {
      let dot = 0;
      for (let t = 0; t < len; t++) dot += at(i, t) * at(j, t);
      rowSums[i] = (rowSums[i] as number) + Math.abs(dot);
      if (j !== i) rowSums[j] = (rowSums[j] as number) + Math.abs(dot);
    }
  }
  const s = rowSums.map((sum) => 1 / Math.max(Math.sqrt(sum), eps));
  const data = g.data.map((value, k) => value * (s[tall ? k % g.cols : Math.floor(k / g.cols)] as number));
  return { rows: g.rows, cols: g.cols, data };
}

/**
 * What a Newton–Schulz schedule computes in exact arithmetic, in float64: the input normalized as
 * the schedule says (X/(c·‖X‖_F + eps), or {@link aolRescaled}), N = U·S·Vᵀ by SVD, and
 * U·p(S)·Vᵀ with p the composition of the schedule's quintics. The reference of the orthogonalizer
 * contract: a kernel differs from it by its float32 round-off only. O(mn·min(m, n)) in plain
 * JavaScript; meant for matrices up to a few hundred on a side.
 */
export function newtonSchulzReference(g: Float64Matrix, schedule: NewtonSchulzSchedule): Float64Matrix {
  let normalized: Float64Matrix;
  if (schedule.normalization === 'aol') {
    normalized = aolRescaled(g, schedule.eps);
  } else {
    const norm = Math.sqrt(g.data.reduce((sum, x) => sum + x * x, 0));
    normalized = { ...g, data: g.data.map((x) => x / (schedule.normalizationScale * norm + schedule.eps)) };
  }
  const svd = new SVD(new Matrix(Array.from({ length: g.rows }, (_, i) => Array.from(normalized.data.subarray(i * g.cols, (i + 1) * g.cols)))), {
    autoTranspose: true,
  });
  const mapped = svd.diagonal.map((sigma) => {
    let x = sigma;
    for (const [a, b, c] of schedule.iterations) x = x * (a + x * x * (b + c * x * x));
    return x;
  });
  const k = mapped.length;
  const u = svd.leftSingularVectors.subMatrix(0, g.rows - 1, 0, k - 1);
  const v = svd.rightSingularVectors.subMatrix(0, g.cols - 1, 0, k - 1);
  const product = u.mulRowVector(mapped).mmul(v.transpose());
  return { rows: g.rows, cols: g.cols, data: Float64Array.from(product.to1DArray()) };
}
