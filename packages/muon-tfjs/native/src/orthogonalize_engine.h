// The one entry into muon_native.cc's Newton–Schulz engine that other files of the addon use
// (fused_muon_step.cc): orthogonalize a set of planned matrices, exactly as the `orthogonalize`
// export does (same plans, same thread scheduling, same arithmetic).
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "addon_instance.h"
#include "products.h"

namespace muon_native {

// One matrix: row-major float32 `rows × cols` read from `in`, its orthogonalization written to
// `out` (not overlapping `in`), with the plan decided in TypeScript (planOrthogonalization).
struct PlannedMatrix {
  const float* in;
  float* out;
  int rows, cols;
  int algorithm;  // NATIVE_ALGORITHM_CODES: 0 plain, 1 Gram
  bool transposed;
  double flops;
};

// How the input is normalized before the first iteration (NATIVE_NORMALIZATION_CODES in
// src/kernels/nativeAddon.ts; `NewtonSchulzNormalization` in src/math/coefficients.ts).
enum class Normalization { kFrobenius = 0, kAol = 1 };

// The resolved Newton–Schulz schedule: (a, b, c) per iteration, the normalization, the Gram
// restarts and the arithmetic of the products (products.h; checked by `precisionArgument`).
struct EngineSchedule {
  std::vector<double> coefficients;
  double normalizationScale, eps;
  std::vector<int> restartAfter;
  muon::Precision precision;
  Normalization normalization;
};

// The optional `normalization` argument of `orthogonalize` and `muonStep`: Frobenius when
// undefined; a TypeError for a non-number, a RangeError for an unknown code.
Normalization normalizationArgument(const Napi::Value& value, const std::string& caller);

// The optional `precision` argument of `orthogonalize` and `muonStep` (NATIVE_PRECISION_CODES in
// src/kernels/nativeAddon.ts): float32 when undefined; otherwise a TypeError for a non-number, a
// RangeError for an unknown code, an Error saying why for a precision that cannot run here
// (bfloat16 without oneDNN or without bfloat16 dot products). Callers read it before writing
// anything, so a refused call leaves every output untouched.
muon::Precision precisionArgument(const Napi::Value& value, const std::string& caller);

// Orthogonalizes every matrix with `addon`'s threads and pool; returns an error message, empty on success.
std::string orthogonalizePlanned(AddonInstance& addon, std::vector<PlannedMatrix>& matrices, const EngineSchedule& schedule);

// The `muonStep` export (fused_muon_step.cc).
Napi::Value MuonStep(const Napi::CallbackInfo& info);

}  // namespace muon_native
