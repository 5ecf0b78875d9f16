// A whole Muon step in one call: momentum EMA, Nesterov look-ahead, Newton–Schulz (newton_schulz.h),
// shape scale, weight decay and the parameter update, for every Muon variable of an optimizer
// step. Plain C++; the addon's `muonStep` export (bindings.cc) validates JavaScript's arguments
// into these structs and calls muonStep. fused_muon_step.cc says which arithmetic it reproduces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine.h"
#include "newton_schulz.h"
#include "step_passes.h"

namespace muon {

// How the step's momenta are stored (NATIVE_MOMENTUM_DTYPE_CODES in src/kernels/nativeAddon.ts):
// float32, or bfloat16 packed two per 32-bit word (bfloat16_storage.h), Muon's
// `momentumDtype: 'bfloat16'` slot.
enum class MomentumDtype { kFloat32 = 0, kBfloat16 = 1 };

// One variable of the step: row-major `rows × cols` buffers of the same size. The parameter,
// gradient and momentum are only read; the new values go into `newParam` and `newMomentum`, which
// overlap none of them. Under MomentumDtype::kBfloat16 the momentum is read from `packedMomentum`
// and written to `newPackedMomentum` instead, ceil(rows·cols / 2) words each, and `momentum` and
// `newMomentum` are unused.
struct StepVariable {
  const float* param;
  const float* grad;
  const float* momentum;
  float* newParam;
  float* newMomentum;
  int rows, cols;
  Algorithm algorithm;  // the plan, as for orthogonalizeAll
  bool transposed;
  double flops;
  double shapeScale;  // scaleByShape's factor for this matrix
  const uint32_t* packedMomentum = nullptr;
  uint32_t* newPackedMomentum = nullptr;
};

// The step's settings, the same for every variable: Newton–Schulz's schedule and the
// hyper-parameters of this step (the learning rate and weight decay already evaluated for it).
struct MuonStepSettings {
  Schedule schedule;
  double beta;        // momentum
  bool nesterov;      // orthogonalize the look-ahead g·(1−β) + m'·β instead of m'
  double learningRate;
  double weightDecay;  // this step's decoupled decay; exactly 0 skips the decay term
  bool cautious;       // decay only where the update and the parameter agree in sign
  MomentumDtype momentumDtype = MomentumDtype::kFloat32;
};

// Computes the step of every variable into its newParam and newMomentum (or newPackedMomentum), and
// returns per variable the kNonFinite… bits of its gradient, new momentum (as stored: in bfloat16,
// the rounded value, which may overflow to ±Inf from a finite float32) and new parameter. Throws std::runtime_error
// when Newton–Schulz fails (e.g. bfloat16 where it cannot run); the outputs are then partly written.
std::vector<uint8_t> muonStep(Engine& engine, const std::vector<StepVariable>& variables, const MuonStepSettings& settings);

}  // namespace muon
