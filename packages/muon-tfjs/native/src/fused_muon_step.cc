// See fused_muon_step.h.
//
// It computes exactly the arithmetic of the composed transformation
//   chain(scaleByMuon, scaleByShape, addDecayedWeights, scaleByLearningRate) then p + update
// (src/optimizers/muon.ts and TransformOptimizer), operation by operation and in the same order:
//   m' = m·β + g·(1−β)                  scaleByMuon: tf.add(tf.mul(m, β), tf.mul(g, 1 − β))
//   x  = g·(1−β) + m'·β  (Nesterov) or m'
//   O  = NS(x)                           the same engine, plans and precision (float32 or bfloat16
//                                        products) as the `orthogonalize` export
//   u  = O·s                             scaleByShape
//   u  = u + (p·mask)·wd                 addDecayedWeights (mask = [u·p ≥ 0] when cautious, else p)
//   p' = p + u·(−lr)                     scaleByLearningRate, then the adapter's p + update
// with every scalar rounded to float32 first, as TF.js does with a JavaScript number. No fused
// multiply-add (binding.gyp passes -ffp-contract=off; the pragma below says it to clang too, which
// would otherwise contract a·b + c on arm64), so each product and sum is rounded like TF.js's
// float32 ops. (TF.js's cpu backend computes in float64 and rounds to float32; for one +, −, × of
// float32 numbers that is the float32 result, since 53 ≥ 2·24 + 2: double rounding is innocuous,
// Figueroa 1995.)
//
// Under `momentumDtype: 'bfloat16'` the composition is storeInBfloat16 around it: m is unpacked
// (exactly: a bfloat16 is the top half of a float32), the chain above runs on the float32 m', and
// m' is packed rounded to nearest even afterwards. So the momentum pass reads the packed words,
// computes the same float32 m', hands Newton–Schulz that unrounded m' (or the look-ahead made from
// it), and writes m' rounded with bfloat16Storage.ts's integer formula (bfloat16_storage.h): the
// same bits as the composition's, the stored momentum's included.
//
// All-or-nothing: it writes only into the caller's `newParam`s and `newMomentum`s (or
// `newPackedMomentum`s: fresh tensors the caller commits after reading the returned flags) and its
// own scratch; the parameters and momenta it is given are only read. The flags say, per variable,
// whether the gradient, the new momentum and the new parameter are finite: the adapter's finiteness
// check, done here during the passes that compute the values instead of as extra TF.js ops over them.
#include "fused_muon_step.h"

#include <algorithm>

#include "bfloat16_storage.h"
#include "non_finite.h"
#include "step_passes.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

namespace muon {
namespace {

// Momentum EMA over elements [begin, end) and, with Nesterov, the look-ahead into `lookAhead`, in
// one pass. Returns the non-finite flags of the gradient and of the new momentum.
template <bool kNesterov>
uint8_t momentumPass(const StepVariable& v, size_t begin, size_t end, float beta, float oneMinusBeta, float* lookAhead) {
  uint32_t badGradient = 0, badMomentum = 0;
  for (size_t k = begin; k < end; ++k) {
    const float g = v.grad[k];
    const float m = v.momentum[k] * beta + g * oneMinusBeta;
    v.newMomentum[k] = m;
    if (kNesterov) lookAhead[k] = g * oneMinusBeta + m * beta;
    badGradient |= nonFiniteBits(g);
    badMomentum |= nonFiniteBits(m);
  }
  return (badGradient != 0 ? kNonFiniteGradient : 0) | (badMomentum != 0 ? kNonFiniteMomentum : 0);
}

// The same over the packed bfloat16 momentum, words [beginWord, endWord) of a variable of `size`
// elements: each word's low half is element 2k, its high half 2k+1. Writes the float32 m' (or,
// with Nesterov, the look-ahead made from it) into `x`, which Newton–Schulz reads, and m' rounded
// to bfloat16 into newPackedMomentum; the momentum flag is the rounded value's, as stored.
template <bool kNesterov>
uint8_t packedMomentumPass(const StepVariable& v, size_t size, size_t beginWord, size_t endWord, float beta, float oneMinusBeta, float* x) {
  uint32_t badGradient = 0, badMomentum = 0;
  // Element k from the stored bfloat16 `half`: returns m' rounded to bfloat16.
  auto element = [&](size_t k, uint32_t half) {
    const float g = v.grad[k];
    const float m = bfloat16Value(half) * beta + g * oneMinusBeta;
    x[k] = kNesterov ? g * oneMinusBeta + m * beta : m;
    const uint32_t rounded = roundToBfloat16(m);
    badGradient |= nonFiniteBits(g);
    badMomentum |= nonFiniteBfloat16(rounded);
    return rounded;
  };
  const size_t fullWords = std::min(endWord, size / 2);
  for (size_t w = beginWord; w < fullWords; ++w) {
    const uint32_t word = v.packedMomentum[w];
    const uint32_t low = element(2 * w, word & 0xffffu);
    const uint32_t high = element(2 * w + 1, word >> 16);
    v.newPackedMomentum[w] = low | (high << 16);
  }
  // An odd size: the last word holds one value in its low half; its high half stays +0.
  if (size % 2 == 1 && beginWord <= size / 2 && endWord > size / 2) v.newPackedMomentum[size / 2] = element(size - 1, v.packedMomentum[size / 2] & 0xffffu);
  return (badGradient != 0 ? kNonFiniteGradient : 0) | (badMomentum != 0 ? kNonFiniteMomentum : 0);
}

}  // namespace

std::vector<uint8_t> muonStep(Engine& engine, const std::vector<StepVariable>& variables, const MuonStepSettings& settings) {
  // Scalars as TF.js rounds a JavaScript number into a float32 scalar tensor.
  const float beta = static_cast<float>(settings.beta);
  const float oneMinusBeta = static_cast<float>(1.0 - settings.beta);
  const bool nesterov = settings.nesterov;
  const bool packed = settings.momentumDtype == MomentumDtype::kBfloat16;
  // Newton–Schulz's float32 input: the look-ahead, or the bfloat16 step's unrounded m', in scratch;
  // else the new momentum itself.
  const bool inScratch = nesterov || packed;
  const UpdateScalars update = updateScalars(settings.learningRate, settings.weightDecay, settings.cautious);

  const int threads = engine.threadsForCall();
  const size_t count = variables.size();
  std::vector<std::vector<float>>& scratch = engine.lookAhead;
  if (inScratch && scratch.size() < count) scratch.resize(count);
  std::vector<uint8_t> flags(count, 0);
  std::vector<PlannedMatrix> matrices;
  matrices.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const StepVariable& v = variables[i];
    const size_t size = static_cast<size_t>(v.rows) * v.cols;
    float* x = nullptr;
    if (inScratch) {
      if (scratch[i].size() < size) scratch[i].resize(size);
      x = scratch[i].data();
    }
    if (packed) {
      flags[i] = inChunks((size + 1) / 2, threads, [&](size_t begin, size_t end) {
        return nesterov ? packedMomentumPass<true>(v, size, begin, end, beta, oneMinusBeta, x) : packedMomentumPass<false>(v, size, begin, end, beta, oneMinusBeta, x);
      });
    } else {
      flags[i] = inChunks(size, threads, [&](size_t begin, size_t end) {
        return nesterov ? momentumPass<true>(v, begin, end, beta, oneMinusBeta, x) : momentumPass<false>(v, begin, end, beta, oneMinusBeta, nullptr);
      });
    }
    // Newton–Schulz writes O into newParam, which the update pass then turns into p' in place.
    matrices.push_back({inScratch ? x : v.newMomentum, v.newParam, v.rows, v.cols, v.algorithm, v.transposed, v.flops});
  }
  orthogonalizeAll(engine, matrices, settings.schedule, threads);
  for (size_t i = 0; i < count; ++i) {
    const StepVariable& v = variables[i];
    const size_t size = static_cast<size_t>(v.rows) * v.cols;
    const float shapeScale = static_cast<float>(v.shapeScale);
    flags[i] = flags[i] | inChunks(size, threads, [&](size_t begin, size_t end) { return updatePass(v.param, v.newParam, begin, end, shapeScale, update); });
  }
  return flags;
}

}  // namespace muon
