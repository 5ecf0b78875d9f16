// The float64 Gram-side eigenvalues behind spectrumOf (src/diagnostics/spectrumOf.ts). Plain C++
// over OpenBLAS's dsyrk and LAPACK's dsyevd; the addon's `gramEigenvalues` export is in bindings.cc.
#pragma once

#include <vector>

namespace muon {

// The k = min(rows, cols) eigenvalues of the smaller Gram matrix of the row-major rows×cols
// matrix `data`, descending, computed with OpenBLAS on `threads` threads (its bits depend on the
// count, so it is held for the call: OpenBlasThreads). Throws std::runtime_error when LAPACK fails.
std::vector<double> gramEigenvalues(const double* data, int rows, int cols, int threads);

}  // namespace muon
