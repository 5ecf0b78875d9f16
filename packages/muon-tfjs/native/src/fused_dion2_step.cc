// See fused_dion2_step.h.
//
// It computes exactly the arithmetic of the composed transformation
//   chain(scaleByDion2, scaleByShape, addDecayedWeights, scaleByLearningRate) then p + update
// (src/optimizers/dion2.ts, src/math/submatrixSelection.ts and TransformOptimizer), operation by
// operation and in the same order, on the slice view (the matrix's rows, or its columns, which the
// composed step reaches through a transpose):
//   M' = M + G                          tf.add(momentum, g)
//   ‖slice‖₁ = Σ |M'|, in slice order   tf.sum(tf.abs(view), 1): float32 accumulation on wasm,
//                                       float64 rounded to float32 on cpu (normsInFloat64)
//   S = the k slices of largest norm    tf.topk: decreasing norm, equal norms by increasing index
//   O = NS(M'_S), rows in S's order     tf.gather, then the same engine, plans and precision as
//                                       the `orthogonalize` export
//   M'_S ← M'_S·f, f = (μ−1) + 1        scaleRows: a row factor 1 + (μ−1)·[selected], both float32
//   u = O on S, 0 elsewhere             tf.scatterND into zeros
//   p' = p + (u·s + decay(p)·wd)·(−lr)  updatePass (step_passes.h)
// with every scalar rounded to float32 first, as TF.js does with a JavaScript number, and no fused
// multiply-add (binding.gyp passes -ffp-contract=off; the pragma of step_passes.h says it to clang).
// The unselected slices' momentum is multiplied by exactly 1 in the composed step: left as is here.
//
// The norms of finite gradients are never NaN (M' then holds at most ±Inf, from an overflow, and a
// sum of |x| is NaN only from a NaN), so the selection's order is a strict total order, as tf.topk's.
// A variable whose gradient is not finite is only flagged: its step is refused whatever else it
// holds, and its NaN norms would have no order.
//
// All-or-nothing: it writes only into the caller's `newParam`s and `newMomentum`s (fresh tensors the
// caller commits after reading the returned flags) and the engine's scratch.
#include "fused_dion2_step.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "non_finite.h"

namespace muon {
namespace {

// M' = M + G into newMomentum, and the L1 norm of every slice (rows, or columns) into `norms`,
// accumulated in `Accumulator` (float or double) in the composed step's order. Returns the
// non-finite flags of the gradient and of M'.
template <typename Accumulator>
uint8_t accumulatePass(const Dion2StepVariable& v, std::vector<float>& norms) {
  const size_t rows = static_cast<size_t>(v.rows), cols = static_cast<size_t>(v.cols);
  const float* __restrict grad = v.grad;
  const float* __restrict momentum = v.momentum;
  float* __restrict next = v.newMomentum;
  uint32_t badGradient = 0, badMomentum = 0;
  // One element: M' written, its flags folded in; returns M'. Each side's loop below keeps its own
  // summation order, the columns' vectorizing across columns.
  const auto element = [&](size_t k) {
    const float g = grad[k];
    const float m = momentum[k] + g;
    next[k] = m;
    badGradient |= nonFiniteBits(g);
    badMomentum |= nonFiniteBits(m);
    return m;
  };
  if (v.selectsColumns) {
    std::vector<Accumulator> sums(cols, Accumulator{0});
    for (size_t i = 0; i < rows; ++i) {
      for (size_t c = 0; c < cols; ++c) sums[c] += std::fabs(element(i * cols + c));
    }
    for (size_t c = 0; c < cols; ++c) norms[c] = static_cast<float>(sums[c]);
  } else {
    for (size_t i = 0; i < rows; ++i) {
      Accumulator sum = 0;
      for (size_t c = 0; c < cols; ++c) sum += std::fabs(element(i * cols + c));
      norms[i] = static_cast<float>(sum);
    }
  }
  return (badGradient != 0 ? kNonFiniteGradient : 0) | (badMomentum != 0 ? kNonFiniteMomentum : 0);
}

// The k slices of largest norm, in tf.topk's order: decreasing norm, equal norms by increasing index.
std::vector<int> largestSlices(const std::vector<float>& norms, int k) {
  std::vector<int> order(norms.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) { return norms[a] == norms[b] ? a < b : norms[a] > norms[b]; });
  order.resize(static_cast<size_t>(k));
  return order;
}

}  // namespace

std::vector<uint8_t> dion2Step(Engine& engine, const std::vector<Dion2StepVariable>& variables, const Dion2StepSettings& settings) {
  // The row factor of the selected slices, as scaleRows builds it: tf.fill(μ − 1) then + 1, float32.
  const float feedback = static_cast<float>(static_cast<float>(settings.errorFeedbackDecay - 1.0) + 1.0f);
  const UpdateScalars update = updateScalars(settings.learningRate, settings.weightDecay, settings.cautious);
  const int threads = engine.threadsForCall();
  const size_t count = variables.size();
  std::vector<uint8_t> flags(count, 0);
  std::vector<std::vector<int>> selections(count);
  // Per variable: the selected submatrix (k × the other side), then its orthogonalization.
  std::vector<std::vector<float>>& scratch = engine.selectedSlices;
  if (scratch.size() < 2 * count) scratch.resize(2 * count);
  std::vector<PlannedMatrix> matrices;
  matrices.reserve(count);
  std::vector<float> norms;
  for (size_t i = 0; i < count; ++i) {
    const Dion2StepVariable& v = variables[i];
    const size_t rows = static_cast<size_t>(v.rows), cols = static_cast<size_t>(v.cols);
    norms.assign(v.selectsColumns ? cols : rows, 0.0f);
    flags[i] = settings.normsInFloat64 ? accumulatePass<double>(v, norms) : accumulatePass<float>(v, norms);
    if ((flags[i] & kNonFiniteGradient) != 0) continue;
    selections[i] = largestSlices(norms, v.selected);
    const std::vector<int>& selected = selections[i];
    const size_t k = selected.size(), length = v.selectsColumns ? rows : cols;
    std::vector<float>& submatrix = scratch[2 * i];
    std::vector<float>& orthogonalized = scratch[2 * i + 1];
    if (submatrix.size() < k * length) submatrix.resize(k * length);
    if (orthogonalized.size() < k * length) orthogonalized.resize(k * length);
    // tf.gather of the view's rows at the selected indices, in their order.
    for (size_t j = 0; j < k; ++j) {
      const size_t slice = static_cast<size_t>(selected[j]);
      float* row = submatrix.data() + j * length;
      if (v.selectsColumns) {
        for (size_t r = 0; r < rows; ++r) row[r] = v.newMomentum[r * cols + slice];
      } else {
        std::copy_n(v.newMomentum + slice * cols, cols, row);
      }
    }
    matrices.push_back({submatrix.data(), orthogonalized.data(), static_cast<int>(k), static_cast<int>(length), v.algorithm, v.transposed, v.flops});
  }
  orthogonalizeAll(engine, matrices, settings.schedule, threads);
  for (size_t i = 0; i < count; ++i) {
    const Dion2StepVariable& v = variables[i];
    if ((flags[i] & kNonFiniteGradient) != 0) continue;
    const size_t rows = static_cast<size_t>(v.rows), cols = static_cast<size_t>(v.cols), size = rows * cols;
    const std::vector<int>& selected = selections[i];
    const float* orthogonalized = scratch[2 * i + 1].data();
    const size_t length = v.selectsColumns ? rows : cols;
    // The error feedback on the selected slices, and O scattered into zeros, where updatePass reads it.
    std::fill_n(v.newParam, size, 0.0f);
    for (size_t j = 0; j < selected.size(); ++j) {
      const size_t slice = static_cast<size_t>(selected[j]);
      const float* row = orthogonalized + j * length;
      if (v.selectsColumns) {
        for (size_t r = 0; r < rows; ++r) {
          v.newMomentum[r * cols + slice] *= feedback;
          v.newParam[r * cols + slice] = row[r];
        }
      } else {
        float* momentum = v.newMomentum + slice * cols;
        for (size_t c = 0; c < cols; ++c) momentum[c] *= feedback;
        std::copy_n(row, cols, v.newParam + slice * cols);
      }
    }
    const float shapeScale = static_cast<float>(v.shapeScale);
    flags[i] = flags[i] | inChunks(size, threads, [&](size_t begin, size_t end) { return updatePass(v.param, v.newParam, begin, end, shapeScale, update); });
  }
  return flags;
}

}  // namespace muon
