// The passes the fused matrix steps share (fused_muon_step.cc, fused_dion2_step.cc): their flags,
// the final update p' = p + (O·s + decay(p)·wd)·(−lr), and how a memory-bound pass is split over
// threads. Plain C++.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <system_error>
#include <thread>
#include <vector>

#include "non_finite.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

namespace muon {

// Bits of the flags a fused matrix step returns per variable (FUSED_STEP_FLAGS in
// src/kernels/nativeAddon.ts).
constexpr uint8_t kNonFiniteGradient = 1;
constexpr uint8_t kNonFiniteMomentum = 2;
constexpr uint8_t kNonFiniteParam = 4;

// The update's float32 scalars, as TF.js rounds each JavaScript number into a scalar tensor.
struct UpdateScalars {
  float negativeLearningRate;
  bool decays;  // addDecayedWeights skips a decay of exactly 0
  float weightDecay;
  bool cautious;  // decay only where the update and the parameter agree in sign
};

inline UpdateScalars updateScalars(double learningRate, double weightDecay, bool cautious) {
  return {static_cast<float>(-learningRate), weightDecay != 0.0, static_cast<float>(weightDecay), cautious};
}

// p' = p + (O·s + decay(p)·wd)·(−lr) over elements [begin, end), s the float32 shape scale: the
// composed chain scaleByShape, addDecayedWeights (decay(p) = p·[u·p ≥ 0] when cautious, else p),
// scaleByLearningRate, then the adapter's p + update, operation by operation. Reads O from
// `newParam` (where the step wrote it) and overwrites it; the two never overlap, which the restrict
// qualifiers tell the compiler so that it vectorizes the loop. Returns kNonFiniteParam when some p'
// is NaN or ±Inf.
inline uint8_t updatePass(const float* __restrict param, float* __restrict newParam, size_t begin, size_t end, float shapeScale, const UpdateScalars& s) {
  uint32_t bad = 0;
  for (size_t k = begin; k < end; ++k) {
    const float p = param[k];
    float u = newParam[k] * shapeScale;
    if (s.decays) {
      const float decay = s.cautious ? p * (u * p >= 0.0f ? 1.0f : 0.0f) : p;
      u = u + decay * s.weightDecay;
    }
    const float next = p + u * s.negativeLearningRate;
    newParam[k] = next;
    bad |= nonFiniteBits(next);
  }
  return bad != 0 ? kNonFiniteParam : 0;
}

// Runs `pass(begin, end)` over [0, size) in contiguous chunks, one per thread of `threadCount`
// (these passes are memory-bound: a second core's bandwidth halves them), and ORs their flags.
// Small arrays run on the caller alone, where starting a thread would cost more than it saves.
template <typename Pass>
uint8_t inChunks(size_t size, int threadCount, const Pass& pass) {
  constexpr size_t kMinimumChunk = size_t{1} << 20;
  const size_t threads = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(threadCount), size / kMinimumChunk));
  if (threads == 1) return pass(0, size);
  std::vector<uint8_t> flags(threads, 0);
  std::vector<std::thread> helpers;
  const size_t chunk = (size + threads - 1) / threads;
  for (size_t t = 1; t < threads; ++t) {
    auto work = [&, t] { flags[t] = pass(t * chunk, std::min(size, (t + 1) * chunk)); };
    try {
      helpers.emplace_back(work);
    } catch (const std::system_error&) {
      work();  // no thread to be had: the caller does this chunk too
    }
  }
  flags[0] = pass(0, std::min(size, chunk));
  for (std::thread& helper : helpers) helper.join();
  uint8_t all = 0;
  for (uint8_t f : flags) all |= f;
  return all;
}

}  // namespace muon
