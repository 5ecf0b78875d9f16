/**
 * Eigenvalues of a real symmetric matrix in float64, without eigenvectors: Householder reduction
 * to tridiagonal form, then implicit symmetric QR steps with Wilkinson shifts (Golub & Van Loan,
 * Matrix Computations, 4th ed., Algorithms 8.3.1 and 8.3.2, §8.3.5 for the deflation test).
 *
 * Both stages are backward stable: the computed eigenvalues are the exact eigenvalues of A + E with
 * ‖E‖₂ ≤ c·n·ε·‖A‖₂ (ε = 2⁻⁵²), so each eigenvalue carries an absolute error of that order
 * (Weyl's inequality). Skipping the eigenvectors is what makes this fast: about (2/3)n³
 * multiply-adds for the reduction and O(n²) for the QR steps, where ml-matrix's
 * `EigenvalueDecomposition` always accumulates the vectors (several times slower at n = 768).
 *
 * `lower` holds A row-major (n×n); only its lower triangle (j ≤ i) is read, and it is overwritten
 * (it is the workspace). Returns the n eigenvalues in descending order.
 */
export function symmetricEigenvalues(lower: Float64Array, n: number): Float64Array {
  if (lower.length !== n * n) {
    throw new Error(`symmetricEigenvalues: expected ${n}×${n} = ${n * n} entries, got ${lower.length}`);
  }
  const diagonal = new Float64Array(n);
  const offDiagonal = new Float64Array(n); // offDiagonal[i] couples i and i + 1; the last is unused
  tridiagonalize(lower, n, diagonal, offDiagonal);
  tridiagonalEigenvalues(diagonal, offDiagonal);
  return diagonal.sort().reverse();
}

/**
 * Householder tridiagonalization on the lower triangle: for each column k, H = I − τvvᵀ maps
 * A[k+1.., k] onto a multiple of e₁, and the trailing block B becomes HBH = B − vwᵀ − wvᵀ with
 * p = τBv, w = p − (τ/2)(pᵀv)v (Golub & Van Loan, Algorithm 8.3.1).
 */
function tridiagonalize(a: Float64Array, n: number, diagonal: Float64Array, offDiagonal: Float64Array): void {
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 1; k++) {
    diagonal[k] = a[k * n + k] as number;
    const start = k + 1;
    const head = a[start * n + k] as number;
    v[start] = head;
    let tail2 = 0; // summed apart from head² so that a tiny tail is not lost to cancellation
    for (let i = start + 1; i < n; i++) {
      const x = a[i * n + k] as number;
      v[i] = x;
      tail2 += x * x;
    }
    const norm2 = head * head + tail2;
    if (tail2 === 0) {
      // Already tridiagonal in this column: nothing to annihilate.
      offDiagonal[k] = head;
      continue;
    }
    // α takes the sign opposite to v₀ so that v₀ − α does not cancel.
    const alpha = head > 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2);
    v[start] = head - alpha;
    const tau = 2 / (tail2 + (head - alpha) ** 2);
    offDiagonal[k] = alpha;
    // p = τ·B·v from the lower triangle only: each stored B_ij (j < i) contributes to p_i and p_j.
    p.fill(0, start, n);
    for (let i = start; i < n; i++) {
      const row = i * n;
      const vi = v[i] as number;
      let sum = 0;
      for (let j = start; j < i; j++) {
        const bij = a[row + j] as number;
        sum += bij * (v[j] as number);
        p[j] = (p[j] as number) + bij * vi;
      }
      p[i] = (p[i] as number) + sum + (a[row + i] as number) * vi;
    }
    let pv = 0;
    for (let i = start; i < n; i++) {
      p[i] = tau * (p[i] as number);
      pv += (p[i] as number) * (v[i] as number);
    }
    const half = (tau / 2) * pv;
    for (let i = start; i < n; i++) p[i] = (p[i] as number) - half * (v[i] as number); // p is now w
    for (let i = start; i < n; i++) {
      const row = i * n;
      const vi = v[i] as number;
      const wi = p[i] as number;
      for (let j = start; j <= i; j++) {
        a[row + j] = (a[row + j] as number) - vi * (p[j] as number) - wi * (v[j] as number);
      }
    }
  }
  diagonal[n - 1] = a[(n - 1) * n + (n - 1)] as number;
}

/**
 * Eigenvalues of the symmetric tridiagonal matrix (diagonal, offDiagonal), in place in `diagonal`:
 * implicit QR steps with the Wilkinson shift of the trailing 2×2 block, chasing the bulge with
 * Givens rotations (Golub & Van Loan, Algorithm 8.3.2), deflating wherever
 * |e_i| ≤ ε(|d_i| + |d_{i+1}|). Convergence is cubic in practice; 30 steps per eigenvalue is a
 * generous cap that only a NaN input would reach.
 */
function tridiagonalEigenvalues(d: Float64Array, e: Float64Array): void {
  const n = d.length;
  const eps = Number.EPSILON;
  // ‖T‖∞ ≥ ‖T‖₂, fixed by the orthogonal QR steps: setting |e_i| ≤ ε‖T‖ to zero moves every
  // eigenvalue by at most ε‖T‖, inside the backward error the reduction already has. Without this
  // absolute test, a cluster of near-zero eigenvalues beside large ones (a Gram matrix whose σ fall
  // to 1e-9·σ₁, met on a transformer's attention momentum) can stall with e_i at the round-off of
  // the large ones, which the relative test alone never accepts.
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(d[i] as number) + Math.abs(e[i] as number) + (i > 0 ? Math.abs(e[i - 1] as number) : 0));
  const absolute = eps * norm;
  let m = n - 1;
  let steps = 0;
  while (m > 0) {
    for (let i = 0; i < m; i++) {
      const ei = Math.abs(e[i] as number);
      if (ei <= absolute || ei <= eps * (Math.abs(d[i] as number) + Math.abs(d[i + 1] as number))) e[i] = 0;
    }
    if (e[m - 1] === 0) {
      m--;
      steps = 0;
      continue;
    }
    if (++steps > 30) {
      throw new Error(`symmetricEigenvalues: the QR iteration did not converge (is the input finite?)`);
    }
    let l = m - 1;
    while (l > 0 && e[l - 1] !== 0) l--;
    // Wilkinson shift: the eigenvalue of the trailing 2×2 block nearer to d_m.
    const delta = ((d[m - 1] as number) - (d[m] as number)) / 2;
    const b = e[m - 1] as number;
    const shift = (d[m] as number) - (b * b) / (delta + (delta >= 0 ? 1 : -1) * Math.hypot(delta, b));
    let x = (d[l] as number) - shift;
    let z = e[l] as number;
    for (let k = l; k < m; k++) {
      // The rotation on (k, k+1) with first column ∝ (x, z) zeroes z (the bulge, or starts the chase).
      const r = Math.hypot(x, z);
      const c = r === 0 ? 1 : x / r;
      const s = r === 0 ? 0 : -z / r;
      if (k > l) e[k - 1] = r;
      const dk = d[k] as number;
      const ek = e[k] as number;
      const dk1 = d[k + 1] as number;
      d[k] = c * c * dk - 2 * c * s * ek + s * s * dk1;
      d[k + 1] = s * s * dk + 2 * c * s * ek + c * c * dk1;
      e[k] = c * s * (dk - dk1) + (c * c - s * s) * ek;
      if (k < m - 1) {
        x = e[k] as number;
        z = -s * (e[k + 1] as number);
        e[k + 1] = c * (e[k + 1] as number);
      }
    }
  }
}
