// A whole AdamW step in one pass per variable: both moment EMAs, the bias-corrected direction,
// weight decay and the parameter update, for every AdamW variable of an optimizer step. Plain C++;
// the addon's `adamStep` export (bindings.cc) validates JavaScript's arguments into these structs.
// fused_adam_step.cc says which arithmetic it reproduces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace muon {

// Bits of the returned flags (ADAM_STEP_FLAGS in src/kernels/nativeAddon.ts).
constexpr uint8_t kAdamNonFiniteGradient = 1;
constexpr uint8_t kAdamNonFiniteFirstMoment = 2;
constexpr uint8_t kAdamNonFiniteSecondMoment = 4;
constexpr uint8_t kAdamNonFiniteParam = 8;

// One variable: buffers of `size` floats. The parameter, gradient and moments are only read; the
// new values go into the new… buffers, which overlap none of them.
struct AdamStepVariable {
  const float* param;
  const float* grad;
  const float* firstMoment;
  const float* secondMoment;
  float* newParam;
  float* newFirstMoment;
  float* newSecondMoment;
  size_t size;
};

// The step's hyper-parameters, the same for every variable, evaluated for this step: the bias
// corrections 1 − βᵗ, the learning rate and the decoupled decay (exactly 0 skips the decay term).
struct AdamStepSettings {
  double beta1;
  double beta2;
  double epsilon;
  double correction1;
  double correction2;
  double learningRate;
  double weightDecay;
  bool cautious;  // decay only where the direction and the parameter agree in sign
};

// Computes the step of every variable into its new… buffers and returns per variable the
// kAdamNonFinite… bits of its gradient, new moments and new parameter.
std::vector<uint8_t> adamStep(const std::vector<AdamStepVariable>& variables, const AdamStepSettings& settings);

}  // namespace muon
