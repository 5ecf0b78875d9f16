// A whole Dion2 step in one call: M ← M + G, the selection of the α-fraction of slices with the
// largest L1 norm, Newton–Schulz of the selected submatrix (newton_schulz.h), the error feedback,
// shape scale, weight decay and the parameter update, for every Dion2 variable of an optimizer
// step. Plain C++; the addon's `dion2Step` export (bindings.cc) validates JavaScript's arguments
// into these structs and calls dion2Step. fused_dion2_step.cc says which arithmetic it reproduces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine.h"
#include "newton_schulz.h"
#include "step_passes.h"

namespace muon {

// One variable of the step: row-major `rows × cols` buffers (its [fanIn, fanOut] view) of the same
// size. The parameter, gradient and momentum are only read; the new values go into `newParam` and
// `newMomentum`, which overlap none of them.
struct Dion2StepVariable {
  const float* param;
  const float* grad;
  const float* momentum;
  float* newParam;
  float* newMomentum;
  int rows, cols;
  bool selectsColumns;  // the slices are the columns (the shorter or equal side), else the rows
  int selected;         // k, 1 ≤ k ≤ the number of slices
  // The plan of the k × (the other side) submatrix, as for orthogonalizeAll.
  Algorithm algorithm;
  bool transposed;
  double flops;
  double shapeScale;  // scaleByShape's factor for the whole matrix
};

// The step's settings, the same for every variable.
struct Dion2StepSettings {
  Schedule schedule;
  double errorFeedbackDecay;  // μ: what the selected slices of the momentum are multiplied by
  // How TF.js's tf.sum, which the composed step's L1 norms use, accumulates on the backend whose
  // tensors these are: in float64 (the cpu backend's JavaScript loop) or in float32 (wasm's).
  bool normsInFloat64;
  double learningRate;
  double weightDecay;  // this step's decoupled decay; exactly 0 skips the decay term
  bool cautious;
};

// Computes the step of every variable into its newParam and newMomentum, and returns per variable
// the kNonFinite… bits (step_passes.h) of its gradient, new momentum and new parameter. Throws
// std::runtime_error when Newton–Schulz fails; the outputs are then partly written.
std::vector<uint8_t> dion2Step(Engine& engine, const std::vector<Dion2StepVariable>& variables, const Dion2StepSettings& settings);

}  // namespace muon
