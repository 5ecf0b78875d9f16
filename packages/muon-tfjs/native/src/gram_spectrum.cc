// Eigenvalues of a matrix's smaller Gram side in float64, for spectrumOf's singular values.
//
// G = MMᵀ (rows ≤ cols) or MᵀM (tall) by dsyrk, then the eigenvalues of G by LAPACK's dsyevd
// (eigenvalues only: Householder tridiagonalization, then dsterf). Both are backward stable, so
// the computed λᵢ carry an absolute error of order k·ε·‖M‖²₂, the same bound the TypeScript path
// (src/diagnostics/symmetricEigenvalues.ts) documents; only the speed differs (about 100×: BLAS-3
// blocking and AVX-512 instead of scalar JavaScript).
#include "gram_spectrum.h"

#include "addon_instance.h"
#include "products.h"

#include <cblas.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

// LAPACK's Fortran symbol (Debian's OpenBLAS bundles LAPACK, but not the LAPACKE header). The two
// trailing arguments are the hidden lengths gfortran passes for the CHARACTER arguments.
extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                        double* work, const int* lwork, int* iwork, const int* liwork, int* info, size_t jobzLength,
                        size_t uploLength);

Napi::Value GramEigenvalues(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[0].IsTypedArray() || !info[1].IsNumber() || !info[2].IsNumber()) {
    throw Napi::TypeError::New(env, "gramEigenvalues(data: Float64Array, rows, cols)");
  }
  Napi::TypedArray array = info[0].As<Napi::TypedArray>();
  if (array.TypedArrayType() != napi_float64_array) throw Napi::TypeError::New(env, "gramEigenvalues: data must be a Float64Array");
  Napi::Float64Array data = array.As<Napi::Float64Array>();
  const int rows = info[1].As<Napi::Number>().Int32Value();
  const int cols = info[2].As<Napi::Number>().Int32Value();
  if (rows < 1 || cols < 1 || data.ElementLength() != static_cast<size_t>(rows) * static_cast<size_t>(cols)) {
    throw Napi::RangeError::New(env, "gramEigenvalues: " + std::to_string(data.ElementLength()) + " entries do not make a " +
                                         std::to_string(rows) + "×" + std::to_string(cols) + " matrix");
  }
  const int k = std::min(rows, cols);
  std::vector<double> gram(static_cast<size_t>(k) * k);
  // dsyrk's and dsyevd's bits depend on OpenBLAS's process-wide thread count: hold it at this copy's.
  const muon::OpenBlasThreads openblas(muon_native::addonInstance(env).threads);
  // Row-major lower triangle of G; read by column-major LAPACK it is the upper triangle ('U').
  if (rows <= cols) {
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, k, cols, 1.0, data.Data(), cols, 0.0, gram.data(), k);
  } else {
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, k, rows, 1.0, data.Data(), cols, 0.0, gram.data(), k);
  }
  const char jobz = 'N';
  const char uplo = 'U';
  std::vector<double> lambda(k);
  int status = 0;
  int query = -1;
  double workSize = 0;
  int iworkSize = 0;
  dsyevd_(&jobz, &uplo, &k, gram.data(), &k, lambda.data(), &workSize, &query, &iworkSize, &query, &status, 1, 1);
  if (status != 0) throw Napi::Error::New(env, "gramEigenvalues: dsyevd workspace query failed with info " + std::to_string(status));
  const int lwork = static_cast<int>(workSize);
  const int liwork = iworkSize;
  std::vector<double> work(std::max(lwork, 1));
  std::vector<int> iwork(std::max(liwork, 1));
  dsyevd_(&jobz, &uplo, &k, gram.data(), &k, lambda.data(), work.data(), &lwork, iwork.data(), &liwork, &status, 1, 1);
  if (status != 0) throw Napi::Error::New(env, "gramEigenvalues: dsyevd failed with info " + std::to_string(status));
  // dsyevd returns them ascending.
  Napi::Float64Array result = Napi::Float64Array::New(env, k);
  for (int i = 0; i < k; ++i) result[i] = lambda[k - 1 - i];
  return result;
}
