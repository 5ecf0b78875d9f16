// See fused_adam_step.h.
//
// It computes exactly the arithmetic of the composed transformation
//   chain(scaleByAdam, addDecayedWeights, scaleByLearningRate) then p + update
// (src/optimizers/adamw.ts and TransformOptimizer), operation by operation and in the same order:
//   m' = m·β₁ + g·(1−β₁)                 scaleByAdam: tf.add(tf.mul(m, β₁), tf.mul(g, 1 − β₁))
//   v' = v·β₂ + (g·g)·(1−β₂)             tf.add(tf.mul(v, β₂), tf.mul(tf.square(g), 1 − β₂))
//   u  = (m'/c₁) / (√(v'/c₂) + ε)        tf.div(tf.div(m, c₁), tf.add(tf.sqrt(tf.div(v, c₂)), ε))
//   u  = u + (p·mask)·wd                 addDecayedWeights (mask = [u·p ≥ 0] when cautious, else p)
//   p' = p + u·(−lr)                     scaleByLearningRate, then the adapter's p + update
// with every scalar rounded to float32 first, as TF.js does with a JavaScript number, and no fused
// multiply-add (binding.gyp passes -ffp-contract=off; the pragma says it to clang). Each +, ×, ÷
// and √ is then the correctly rounded float32 result, as on every TF.js CPU backend (the cpu
// backend computes in float64 and rounds: innocuous for one operation, 53 ≥ 2·24 + 2). The
// result is the composed step's, bit for bit (fusedAdamStep.test.ts).
//
// All-or-nothing: it writes only into the caller's new… buffers (fresh tensors the caller commits
// after reading the returned flags); the flags are the adapter's finiteness check, done during the
// one pass that computes the values instead of as extra passes over them.
#include "fused_adam_step.h"

#include <cmath>

#include "non_finite.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

namespace muon {
namespace {

// The float32 scalars of one step, as TF.js rounds each JavaScript number it is given.
struct Scalars {
  float beta1, oneMinusBeta1, beta2, oneMinusBeta2, correction1, correction2, epsilon, negativeLearningRate, weightDecay;
};

// One variable's pass over `size` elements. The buffers never overlap (fused_adam_step.h): as
// restrict-qualified parameters the compiler vectorizes the loop without run-time alias checks
// (GCC 12 did not, with restrict locals copied from the struct); sqrt vectorizes because the addon
// is built with -fno-math-errno.
template <bool kDecays, bool kCautious>
uint8_t elementsPass(const float* __restrict param, const float* __restrict grad, const float* __restrict firstMoment, const float* __restrict secondMoment,
                     float* __restrict newParam, float* __restrict newFirstMoment, float* __restrict newSecondMoment, size_t size, float beta1,
                     float oneMinusBeta1, float beta2, float oneMinusBeta2, float correction1, float correction2, float epsilon,
                     float negativeLearningRate, float weightDecay) {
  uint32_t badGradient = 0, badFirst = 0, badSecond = 0, badParam = 0;
  for (size_t k = 0; k < size; ++k) {
    const float g = grad[k];
    const float p = param[k];
    const float m = firstMoment[k] * beta1 + g * oneMinusBeta1;
    const float second = secondMoment[k] * beta2 + (g * g) * oneMinusBeta2;
    float u = (m / correction1) / (std::sqrt(second / correction2) + epsilon);
    if (kDecays) {
      const float decay = kCautious ? p * static_cast<float>(u * p >= 0.0f) : p;
      u = u + decay * weightDecay;
    }
    const float next = p + u * negativeLearningRate;
    newFirstMoment[k] = m;
    newSecondMoment[k] = second;
    newParam[k] = next;
    badGradient |= nonFiniteBits(g);
    badFirst |= nonFiniteBits(m);
    badSecond |= nonFiniteBits(second);
    badParam |= nonFiniteBits(next);
  }
  return (badGradient != 0 ? kAdamNonFiniteGradient : 0) | (badFirst != 0 ? kAdamNonFiniteFirstMoment : 0) |
         (badSecond != 0 ? kAdamNonFiniteSecondMoment : 0) | (badParam != 0 ? kAdamNonFiniteParam : 0);
}

template <bool kDecays, bool kCautious>
uint8_t variablePass(const AdamStepVariable& v, const Scalars& s) {
  return elementsPass<kDecays, kCautious>(v.param, v.grad, v.firstMoment, v.secondMoment, v.newParam, v.newFirstMoment, v.newSecondMoment, v.size, s.beta1,
                                          s.oneMinusBeta1, s.beta2, s.oneMinusBeta2, s.correction1, s.correction2, s.epsilon, s.negativeLearningRate,
                                          s.weightDecay);
}

}  // namespace

std::vector<uint8_t> adamStep(const std::vector<AdamStepVariable>& variables, const AdamStepSettings& settings) {
  const Scalars s{static_cast<float>(settings.beta1),
                  static_cast<float>(1.0 - settings.beta1),
                  static_cast<float>(settings.beta2),
                  static_cast<float>(1.0 - settings.beta2),
                  static_cast<float>(settings.correction1),
                  static_cast<float>(settings.correction2),
                  static_cast<float>(settings.epsilon),
                  static_cast<float>(-settings.learningRate),
                  static_cast<float>(settings.weightDecay)};
  const bool decays = settings.weightDecay != 0.0;  // addDecayedWeights skips a decay of exactly 0
  std::vector<uint8_t> flags(variables.size(), 0);
  for (size_t i = 0; i < variables.size(); ++i) {
    const AdamStepVariable& v = variables[i];
    flags[i] = !decays ? variablePass<false, false>(v, s) : settings.cautious ? variablePass<true, true>(v, s) : variablePass<true, false>(v, s);
  }
  return flags;
}

}  // namespace muon
