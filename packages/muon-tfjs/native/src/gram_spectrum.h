// The float64 Gram-side eigenvalues behind spectrumOf (src/diagnostics/spectrumOf.ts).
#pragma once
#include <napi.h>

// gramEigenvalues(data: Float64Array, rows, cols): the k = min(rows, cols) eigenvalues of the
// smaller Gram matrix of the row-major rows×cols matrix, descending, as a new Float64Array.
Napi::Value GramEigenvalues(const Napi::CallbackInfo& info);
