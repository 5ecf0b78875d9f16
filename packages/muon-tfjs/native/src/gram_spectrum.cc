// Eigenvalues of a matrix's smaller Gram side in float64, for spectrumOf's singular values.
//
// G = MMᵀ (rows ≤ cols) or MᵀM (tall) by dsyrk, then the eigenvalues of G by LAPACK's dsyevd
// (eigenvalues only: Householder tridiagonalization, then dsterf). Both are backward stable, so
// the computed λᵢ carry an absolute error of order k·ε·‖M‖²₂, the same bound the TypeScript path
// (src/diagnostics/symmetricEigenvalues.ts) documents; only the speed differs (about 100×: BLAS-3
// blocking and AVX-512 instead of scalar JavaScript).
#include "gram_spectrum.h"

#include "products.h"

#include <cblas.h>

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

// LAPACK's Fortran symbol (Debian's OpenBLAS bundles LAPACK, but not the LAPACKE header). The two
// trailing arguments are the hidden lengths gfortran passes for the CHARACTER arguments.
extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                        double* work, const int* lwork, int* iwork, const int* liwork, int* info, size_t jobzLength,
                        size_t uploLength);

std::vector<double> muon::gramEigenvalues(const double* data, int rows, int cols, int threads) {
  const int k = std::min(rows, cols);
  std::vector<double> gram(static_cast<size_t>(k) * k);
  // dsyrk's and dsyevd's bits depend on OpenBLAS's process-wide thread count: hold it at the caller's.
  const OpenBlasThreads openblas(threads);
  // Row-major lower triangle of G; read by column-major LAPACK it is the upper triangle ('U').
  if (rows <= cols) {
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, k, cols, 1.0, data, cols, 0.0, gram.data(), k);
  } else {
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, k, rows, 1.0, data, cols, 0.0, gram.data(), k);
  }
  const char jobz = 'N';
  const char uplo = 'U';
  std::vector<double> lambda(k);
  int status = 0;
  int query = -1;
  double workSize = 0;
  int iworkSize = 0;
  dsyevd_(&jobz, &uplo, &k, gram.data(), &k, lambda.data(), &workSize, &query, &iworkSize, &query, &status, 1, 1);
  if (status != 0) throw std::runtime_error("dsyevd workspace query failed with info " + std::to_string(status));
  const int lwork = static_cast<int>(workSize);
  const int liwork = iworkSize;
  std::vector<double> work(std::max(lwork, 1));
  std::vector<int> iwork(std::max(liwork, 1));
  dsyevd_(&jobz, &uplo, &k, gram.data(), &k, lambda.data(), work.data(), &lwork, iwork.data(), &liwork, &status, 1, 1);
  if (status != 0) throw std::runtime_error("dsyevd failed with info " + std::to_string(status));
  // dsyevd returns them ascending.
  std::reverse(lambda.begin(), lambda.end());
  return lambda;
}
