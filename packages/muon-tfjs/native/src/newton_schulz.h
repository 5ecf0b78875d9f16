// Newton–Schulz orthogonalization of planned matrices: the engine behind the addon's `orthogonalize`
// and `muonStep` exports (bindings.cc), plain C++ over products.h (OpenBLAS, and oneDNN where it
// was found at build time), testable without Node (native/test/engine_test.cc).
//
// Each matrix is row-major float32, `rows × cols`, and comes with its plan, decided in TypeScript
// (planOrthogonalization in src/math/planOrthogonalization.ts, the library's one cost model): the
// algorithm, the side to iterate on (XXᵀ, or XᵀX when `transposed`, through transpose flags or
// strides, so tall matrices are never copied into a transpose) and its flop count. This engine
// executes plans; it decides nothing.
//
// Two algorithms compute the same map X ↦ p_k(…p_1(X)) (p_t(X) = a_t X + b_t (XXᵀ)X + c_t (XXᵀ)²X):
//  - plain:  per iteration A = XXᵀ, A², X ← (a I + b A + c A²) X.
//  - Gram:   R = XXᵀ once, then only m×m work: Z = aI + bR + cR², Q ← QZ, R ← Z R Z, with a
//            restart (X ← QX, R ← XXᵀ, Q ← I) after the iterations listed in `restartAfter`, and
//            one final multiply X ← QX (Zhang, Amsel, Chen, Dao 2026, Dao-AILab/gram-newton-schulz).
// Over OpenBLAS the symmetric products XXᵀ and R² = RRᵀ use ssyrk (half the flops of sgemm), which
// the planner knows as this kernel's capability (info().symmetricProductsAtHalfCost).
//
// Precision: in bfloat16 every product rounds its two operands to bfloat16 and accumulates in
// float32 (products.h); everything between products stays float32.
#pragma once

#include <vector>

#include "engine.h"
#include "products.h"

namespace muon {

// The algorithm codes of a plan (NATIVE_ALGORITHM_CODES in src/kernels/nativeAddon.ts).
enum class Algorithm { kPlain = 0, kGram = 1 };

// How the input is normalized before the first iteration (NATIVE_NORMALIZATION_CODES in
// src/kernels/nativeAddon.ts; `NewtonSchulzNormalization` in src/math/coefficients.ts):
// X / (normalizationScale·‖X‖_F + eps), or AOL's row rescaling (rescaleAol in newton_schulz.cc).
enum class Normalization { kFrobenius = 0, kAol = 1 };

// One iteration's polynomial p(X) = a X + b (XXᵀ)X + c (XXᵀ)²X.
struct Quintic {
  double a, b, c;
};

// The resolved Newton–Schulz schedule (resolveNewtonSchulz in TypeScript): one polynomial per
// iteration (at least one), the normalization, the Gram restarts (iteration counts after which the
// Gram algorithm restarts) and the arithmetic of the products.
struct Schedule {
  std::vector<Quintic> iterations;
  double normalizationScale, eps;
  Normalization normalization;
  std::vector<int> restartAfter;
  Precision precision;
};

// One matrix: `rows × cols` read from `in`, its orthogonalization written to `out` (the same size,
// not overlapping `in`), with its plan.
struct PlannedMatrix {
  const float* in;
  float* out;
  int rows, cols;
  Algorithm algorithm;
  bool transposed;  // iterate on XᵀX
  double flops;     // the planned cost, by which the threads are balanced
};

// Orthogonalizes every matrix with `engine`'s threads and pool, reordering `matrices` (largest
// first). Scheduling: OpenBLAS (and oneDNN) split one product over their threads, which pays off for
// large products only (measured here, sgemm m³: 110 GFLOP/s on 1 thread and 118 on 2 at m = 128,
// 153 and 262 at 768). So a matrix costing more than its share of the remaining work runs alone on
// all threads; the rest run concurrently, one matrix per thread, with single-threaded products, on
// the pool, whose threads keep their own scratch. Every matrix goes through the same arithmetic in
// either case up to BLAS's summation order. The team of a product run alone is the engine's choice
// for this call (Engine::threadsForCall: fewer while other processes keep the CPUs busy); the
// matrices that run one per thread do so on all the engine's threads, busy machine or not, since
// no thread waits for another there (engine.lastCall.sideBySide records how many did). Throws
// std::runtime_error with the first failure (e.g. bfloat16 where it cannot run); outputs are then
// partly written.
void orthogonalizeAll(Engine& engine, std::vector<PlannedMatrix>& matrices, const Schedule& schedule);

// The same on `threads` threads, chosen by the caller (the fused step, which chose once for its call).
void orthogonalizeAll(Engine& engine, std::vector<PlannedMatrix>& matrices, const Schedule& schedule, int threads);

}  // namespace muon
