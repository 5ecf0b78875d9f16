// The engine's own test, without Node: Newton–Schulz, the fused step and the Gram spectrum
// (native/src, plain C++), checked against values derived by hand or computed in float64 here.
// Built and run by native/test/run.sh (over OpenBLAS alone, and over oneDNN where it links), which
// native/engine.test.ts runs in the test suite. Prints one line per check; exits 1 on any failure.
#include "bfloat16_storage.h"
#include "engine.h"
#include "fused_muon_step.h"
#include "gram_spectrum.h"
#include "newton_schulz.h"
#include "products.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <csignal>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

namespace {

using muon::Algorithm;
using muon::Normalization;
using muon::Precision;

int failures = 0;

void check(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

// Float32 unit roundoff.
constexpr double kUnit = 0x1p-24;

// Keller Jordan's quintic (muon.py), which does not converge to 1 (so the values it reaches test the
// polynomial arithmetic, not convergence), and the cubic p(s) = 1.5 s − 0.5 s³ of classic
// Newton–Schulz, which converges to 1 for every s in (0, √3).
constexpr muon::Quintic kJordan{3.4445, -4.7750, 2.0315};
constexpr muon::Quintic kCubic{1.5, -0.5, 0.0};

muon::Schedule schedule(const muon::Quintic& p, int iterations, Precision precision, Normalization normalization = Normalization::kFrobenius,
                        std::vector<int> restartAfter = {}) {
  return {std::vector<muon::Quintic>(iterations, p), 1.0, 1e-7, normalization, std::move(restartAfter), precision};
}

std::vector<float> gaussian(size_t count, unsigned seed) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(count);
  for (float& v : values) v = normal(random);
  return values;
}

// The diagonal matrix (rows × cols, row-major) with σ on its diagonal: its singular values are σ,
// and every iterate of Newton–Schulz stays diagonal, its entries s ↦ a s + b s³ + c s⁵.
std::vector<float> diagonal(int rows, int cols, const std::vector<double>& sigma) {
  std::vector<float> x(static_cast<size_t>(rows) * cols, 0.0f);
  for (size_t i = 0; i < sigma.size(); ++i) x[i * cols + i] = static_cast<float>(sigma[i]);
  return x;
}

// Each singular value through the schedule in float64, and a first-order bound on the float32
// engine's error. Every iterate of a diagonal matrix is diagonal, so each iteration computes, per
// entry, s² (XXᵀ), s⁴, b·s², c·s⁴, their sum, + a and the product with s (plain: ZX; Gram: the
// running product Q and R ← ZRZ, two more products): at most kRoundings float32 roundings, each
// bounded by u·|s|·(|a| + |b|s² + |c|s⁴) in the new s. An error δ entering an iteration leaves it
// as |p'(s)|·δ. The normalization adds one rounding to the start.
struct Expected {
  double value, bound;
};
constexpr double kRoundings = 9;
Expected scalarMap(double s, const muon::Schedule& sched) {
  double bound = 2 * kUnit * s;
  for (const muon::Quintic& p : sched.iterations) {
    const double s2 = s * s;
    const double derivative = p.a + 3 * p.b * s2 + 5 * p.c * s2 * s2;
    const double terms = std::fabs(s) * (std::fabs(p.a) + std::fabs(p.b) * s2 + std::fabs(p.c) * s2 * s2);
    s = p.a * s + p.b * s2 * s + p.c * s2 * s2 * s;
    bound = std::fabs(derivative) * bound + kRoundings * kUnit * terms;
  }
  return {s, bound};
}

// Orthogonalizes several diagonal matrices in one call (so that the pool runs some, on 2 threads)
// and compares each diagonal with the scalar map of its normalized singular values (AOL: every
// singular value rescaled to 1), every off-diagonal entry with 0.
void diagonalCase(const std::string& name, Precision precision, Algorithm algorithm, Normalization normalization, const muon::Quintic& p,
                  std::vector<int> restartAfter = {}) {
  const muon::Schedule sched = schedule(p, 5, precision, normalization, std::move(restartAfter));
  const std::vector<std::vector<double>> sigmas = {{3.0, 1.0, 0.25, 0.01}, {2.0, 2.0, 0.5}, {1e-3, 4.0, 1.0, 0.5, 0.1}, {7.0, 0.7}};
  // Wide and tall shapes, each on its smaller Gram side (tall ones transposed).
  const std::vector<std::pair<int, int>> shapes = {{4, 9}, {11, 3}, {5, 5}, {6, 2}};
  muon::Engine engine;
  engine.threads = 2;  // whatever the machine's load, so that the pool runs the smaller matrices
  engine.followsLoad = false;
  std::vector<std::vector<float>> inputs, outputs;
  std::vector<muon::PlannedMatrix> matrices;
  for (size_t i = 0; i < shapes.size(); ++i) {
    inputs.push_back(diagonal(shapes[i].first, shapes[i].second, sigmas[i]));
    outputs.emplace_back(inputs.back().size(), std::nanf(""));
  }
  for (size_t i = 0; i < shapes.size(); ++i) {
    const bool tall = shapes[i].first > shapes[i].second;
    matrices.push_back({inputs[i].data(), outputs[i].data(), shapes[i].first, shapes[i].second, algorithm, tall, 1.0 + static_cast<double>(i)});
  }
  muon::orthogonalizeAll(engine, matrices, sched);
  for (size_t i = 0; i < shapes.size(); ++i) {
    const auto [rows, cols] = shapes[i];
    double norm = 0;
    for (double s : sigmas[i]) norm += s * s;
    norm = std::sqrt(norm);
    double worst = 0;  // the largest error as a fraction of its bound
    bool offDiagonalZero = true;
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c) {
        const double got = outputs[i][static_cast<size_t>(r) * cols + c];
        if (r != c) {
          offDiagonalZero = offDiagonalZero && got == 0.0;
          continue;
        }
        const double start = normalization == Normalization::kAol ? 1.0 : sigmas[i][r] / (sched.normalizationScale * norm + sched.eps);
        const Expected expected = scalarMap(start, sched);
        worst = std::max(worst, std::fabs(got - expected.value) / expected.bound);
      }
    }
    char line[200];
    std::snprintf(line, sizeof line, "%s: %d×%d diagonal, within the float32 error bound (worst %.2f of it), off-diagonal exactly 0", name.c_str(), rows, cols, worst);
    check(worst <= 1.0 && offDiagonalZero, line);
  }
}

// The float64 polar factor U Vᵀ of a row-major rows × cols matrix (rows ≤ cols), by LAPACK's dgesvd.
extern "C" void dgesvd_(const char* jobu, const char* jobvt, const int* m, const int* n, double* a, const int* lda, double* s, double* u, const int* ldu,
                        double* vt, const int* ldvt, double* work, const int* lwork, int* info, size_t, size_t);
std::vector<double> polarFactor(const std::vector<float>& x, int rows, int cols) {
  // Row-major rows × cols is column-major cols × rows (Xᵀ): Xᵀ = V Σ Uᵀ, and (V Uᵀ)ᵀ = U Vᵀ.
  std::vector<double> a(x.begin(), x.end());
  const int m = cols, n = rows;
  std::vector<double> s(n), u(static_cast<size_t>(m) * n), vt(static_cast<size_t>(n) * n);
  int info = 0, lwork = -1;
  double size = 0;
  const char job = 'S';
  dgesvd_(&job, &job, &m, &n, a.data(), &m, s.data(), u.data(), &m, vt.data(), &n, &size, &lwork, &info, 1, 1);
  lwork = static_cast<int>(size);
  std::vector<double> work(lwork);
  dgesvd_(&job, &job, &m, &n, a.data(), &m, s.data(), u.data(), &m, vt.data(), &n, work.data(), &lwork, &info, 1, 1);
  if (info != 0) throw std::runtime_error("dgesvd failed");
  // Column-major (m × n) = u · vt; its column-major storage is the row-major rows × cols U Vᵀ.
  std::vector<double> polar(static_cast<size_t>(m) * n, 0.0);
  for (int j = 0; j < n; ++j)
    for (int k = 0; k < n; ++k)
      for (int i = 0; i < m; ++i) polar[static_cast<size_t>(j) * m + i] += u[static_cast<size_t>(k) * m + i] * vt[static_cast<size_t>(j) * n + k];
  return polar;
}

// A Gaussian 24 × 80 matrix through 30 iterations of the convergent cubic: the output must be
// orthogonal (XXᵀ = I) and equal to the float64 polar factor. After normalization its singular
// values lie in about [0.04, 0.2] (Marchenko–Pastur edges (√80 ± √24)/√(24·80)); the cubic
// multiplies them by up to 1.5 per iteration until they near 1 (≤ 9 iterations from 0.04), then
// converges quadratically, so 30 leave only rounding: float32 dot products of length 80 and
// fixed-point rounding, a few times √80·u ≈ 5e-7. Tolerance 2e-5 on every entry.
void convergenceCase(const std::string& name, Precision precision, Algorithm algorithm, bool transposed) {
  const int rows = transposed ? 80 : 24, cols = transposed ? 24 : 80;
  std::vector<float> x = gaussian(static_cast<size_t>(rows) * cols, 7);
  std::vector<float> out(x.size());
  muon::Engine engine;
  std::vector<muon::PlannedMatrix> matrices = {{x.data(), out.data(), rows, cols, algorithm, transposed, 1.0}};
  muon::orthogonalizeAll(engine, matrices, schedule(kCubic, 30, precision, Normalization::kFrobenius, {10, 20}));
  // Work on the wide orientation (24 × 80): transpose a tall result.
  std::vector<float> wide = out, input = x;
  if (transposed) {
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) {
        wide[static_cast<size_t>(c) * rows + r] = out[static_cast<size_t>(r) * cols + c];
        input[static_cast<size_t>(c) * rows + r] = x[static_cast<size_t>(r) * cols + c];
      }
  }
  const int m = 24, n = 80;
  double gramError = 0;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j) {
      double dot = 0;
      for (int k = 0; k < n; ++k) dot += static_cast<double>(wide[static_cast<size_t>(i) * n + k]) * wide[static_cast<size_t>(j) * n + k];
      gramError = std::max(gramError, std::fabs(dot - (i == j ? 1.0 : 0.0)));
    }
  const std::vector<double> polar = polarFactor(input, m, n);
  double polarError = 0;
  for (size_t i = 0; i < polar.size(); ++i) polarError = std::max(polarError, std::fabs(wide[i] - polar[i]));
  char line[200];
  std::snprintf(line, sizeof line, "%s: %d×%d Gaussian, max |XXᵀ − I| = %.1e, max |X − UVᵀ| = %.1e (≤ 2e-5)", name.c_str(), rows, cols, gramError, polarError);
  check(gramError <= 2e-5 && polarError <= 2e-5, line);
}

// The fused step against the composed arithmetic it promises (fused_muon_step.cc's header),
// written out here operation by operation in float32, with Newton–Schulz by the same engine call:
// equal bit for bit, flags included.
void fusedStepCase(const std::string& name, bool nesterov, double weightDecay, bool cautious) {
  const muon::Schedule sched = schedule(kJordan, 5, Precision::kFloat32OpenBlas, Normalization::kFrobenius);
  const std::vector<std::pair<int, int>> shapes = {{16, 40}, {48, 12}, {8, 8}};
  const muon::MuonStepSettings settings{sched, 0.95, nesterov, 0.02, weightDecay, cautious};
  const std::vector<double> shapeScales = {1.58, 0.5, 1.0};
  std::vector<std::vector<float>> params, grads, momenta, newParams, newMomenta;
  std::vector<muon::StepVariable> variables;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const size_t size = static_cast<size_t>(shapes[i].first) * shapes[i].second;
    params.push_back(gaussian(size, 100 + i));
    grads.push_back(gaussian(size, 200 + i));
    momenta.push_back(gaussian(size, 300 + i));
    newParams.emplace_back(size);
    newMomenta.emplace_back(size);
  }
  grads[2][5] = std::numeric_limits<float>::quiet_NaN();  // the third variable's gradient is not finite
  for (size_t i = 0; i < shapes.size(); ++i) {
    const bool tall = shapes[i].first > shapes[i].second;
    variables.push_back({params[i].data(), grads[i].data(), momenta[i].data(), newParams[i].data(), newMomenta[i].data(), shapes[i].first, shapes[i].second,
                         Algorithm::kPlain, tall, 1.0, shapeScales[i]});
  }
  // One thread: OpenBLAS's bits depend on its thread count, and the reference below runs each
  // matrix alone where the step may run some on the pool, single-threaded.
  muon::Engine engine;
  engine.threads = 1;
  engine.followsLoad = false;
  const std::vector<uint8_t> flags = muon::muonStep(engine, variables, settings);

  // Composed: m' = m·β + g·(1−β); x = g·(1−β) + m'·β (Nesterov) or m'; O = NS(x);
  // u = O·s; u = u + (p·mask)·wd; p' = p + u·(−lr); scalars rounded to float32 first.
  const float beta = static_cast<float>(settings.beta), oneMinusBeta = static_cast<float>(1.0 - settings.beta);
  const float negativeLearningRate = static_cast<float>(-settings.learningRate), wd = static_cast<float>(weightDecay);
  bool equal = true;
  std::vector<uint8_t> expectedFlags;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const size_t size = params[i].size();
    std::vector<float> momentum(size), lookAhead(size), orthogonalized(size), param(size);
    uint8_t flag = 0;
    for (size_t k = 0; k < size; ++k) {
      momentum[k] = momenta[i][k] * beta + grads[i][k] * oneMinusBeta;
      lookAhead[k] = nesterov ? grads[i][k] * oneMinusBeta + momentum[k] * beta : momentum[k];
      if (!std::isfinite(grads[i][k])) flag |= muon::kNonFiniteGradient;
      if (!std::isfinite(momentum[k])) flag |= muon::kNonFiniteMomentum;
    }
    std::vector<muon::PlannedMatrix> one = {{lookAhead.data(), orthogonalized.data(), shapes[i].first, shapes[i].second, Algorithm::kPlain, variables[i].transposed, 1.0}};
    muon::orthogonalizeAll(engine, one, sched);
    for (size_t k = 0; k < size; ++k) {
      const float p = params[i][k];
      float u = orthogonalized[k] * static_cast<float>(shapeScales[i]);
      if (weightDecay != 0) u = u + (cautious ? p * (u * p >= 0.0f ? 1.0f : 0.0f) : p) * wd;
      param[k] = p + u * negativeLearningRate;
      if (!std::isfinite(param[k])) flag |= muon::kNonFiniteParam;
    }
    expectedFlags.push_back(flag);
    equal = equal && std::memcmp(param.data(), newParams[i].data(), size * sizeof(float)) == 0 &&
            std::memcmp(momentum.data(), newMomenta[i].data(), size * sizeof(float)) == 0;
  }
  check(equal, name + ": new parameters and momenta equal the composed float32 arithmetic bit for bit");
  check(flags == expectedFlags && flags[2] == (muon::kNonFiniteGradient | muon::kNonFiniteMomentum | muon::kNonFiniteParam) && flags[0] == 0,
        name + ": flags a non-finite gradient and the values it makes, per variable");
}

// The bfloat16 nearest to `x`, ties to the even one, chosen by distance in double between the two
// bfloat16 values around x (not by the engine's integer formula): the value past the largest finite
// one counts as 2^128, so values from its midpoint up overflow to Inf, as IEEE rounding does. NaN:
// its sign and top payload bits with the quiet bit set, as bfloat16Storage.ts keeps it.
uint32_t referenceBfloat16(float x) {
  const uint32_t bits = muon::floatBits(x);
  if (std::isnan(x)) return (bits >> 16) | 0x0040u;
  if (std::isinf(x)) return bits >> 16;
  const uint32_t down = bits >> 16;  // toward zero
  const uint32_t up = down + 1;      // away from zero: the next binade, or Inf's pattern
  const auto value = [](uint32_t half) {
    const double magnitude = (half & 0x7f80u) == 0x7f80u ? std::ldexp(1.0, 128) : std::fabs(static_cast<double>(muon::bfloat16Value(half)));
    return (half & 0x8000u) != 0 ? -magnitude : magnitude;
  };
  const double toDown = std::fabs(static_cast<double>(x) - value(down)), toUp = std::fabs(value(up) - static_cast<double>(x));
  if (toDown != toUp) return toDown < toUp ? down : up;
  return (down & 1u) == 0 ? down : up;
}

// The packed bfloat16 momentum pass (momentumDtype bfloat16) against a reference written out here:
// unpack (bits << 16), the float32 EMA, the look-ahead or m' itself, unrounded, into the same
// Newton–Schulz call, the same update, and m' rounded by referenceBfloat16. Odd sizes (a last word
// half filled, whose stale high half must be ignored and written +0), every variable's new words
// and parameters bit for bit, the flags the stored value's. With β = 0 the new momentum is the
// gradient itself, which plants the cases of the rounding: ties to even both ways, just above and
// below a tie, the overflow of a finite float32 to Inf, a subnormal tie, −0, NaNs whose top bits
// alone would read as Inf.
void packedMomentumCase(const std::string& name, bool nesterov, double beta) {
  const muon::Schedule sched = schedule(kJordan, 5, Precision::kFloat32OpenBlas, Normalization::kFrobenius);
  const std::vector<std::pair<int, int>> shapes = {{5, 7}, {9, 3}, {4, 4}, {3, 3}};
  muon::MuonStepSettings settings{sched, beta, nesterov, 0.02, 0.1, false};
  settings.momentumDtype = muon::MomentumDtype::kBfloat16;
  std::vector<std::vector<float>> params, grads, newParams, unusedMomenta(shapes.size());
  std::vector<std::vector<uint32_t>> packed, newPacked;
  std::vector<muon::StepVariable> variables;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const size_t size = static_cast<size_t>(shapes[i].first) * shapes[i].second;
    params.push_back(gaussian(size, 400 + i));
    grads.push_back(gaussian(size, 500 + i));
    const std::vector<float> momentum = gaussian(size, 600 + i);
    std::vector<uint32_t> words((size + 1) / 2);
    for (size_t k = 0; k < size; ++k) words[k / 2] |= referenceBfloat16(momentum[k]) << (k % 2 == 0 ? 0 : 16);
    if (size % 2 == 1) words.back() |= 0xdead0000u;  // a stale high half: unread, and written +0
    packed.push_back(words);
    newPacked.emplace_back(words.size(), 0xffffffffu);
    newParams.emplace_back(size);
  }
  // Planted values in the first variable (35 elements), as bit patterns of the gradient.
  const std::vector<uint32_t> planted = {
      0x3f808000u,  // tie, kept part 0x3f80 even: stays 0x3f80
      0x3f818000u,  // tie, kept part 0x3f81 odd: up to 0x3f82
      0xbf818000u,  // the same, negative: 0xbf82
      0x3f808001u,  // just above a tie: 0x3f81
      0x3f807fffu,  // just below: 0x3f80
      0x7f7fffffu,  // the largest float32, finite: past bfloat16's midpoint, Inf 0x7f80
      0x7f7f7fffu,  // just below that midpoint: the largest bfloat16, 0x7f7f
      0x00008000u,  // a subnormal tie, kept part 0 even: +0
      0x00018000u,  // a subnormal tie, kept part 1 odd: 0x0002
      0x80000000u,  // −0 stays 0x8000 (its stored m is made negative below: m·0 is −0, and −0 + −0 = −0)
  };
  for (size_t k = 0; k < planted.size(); ++k) std::memcpy(&grads[0][k], &planted[k], sizeof(float));
  packed[0][4] = (packed[0][4] & 0xffffu) | (0xbf80u << 16);  // element 9's stored m: −1
  // NaNs in the third variable: a signalling NaN whose top 16 bits read as +Inf, and a negative one.
  const uint32_t nans[] = {0x7f800001u, 0xff800123u};
  std::memcpy(&grads[2][3], &nans[0], sizeof(float));
  std::memcpy(&grads[2][10], &nans[1], sizeof(float));
  for (size_t i = 0; i < shapes.size(); ++i) {
    muon::StepVariable v{params[i].data(), grads[i].data(), nullptr, newParams[i].data(), nullptr, shapes[i].first, shapes[i].second,
                         Algorithm::kPlain, shapes[i].first > shapes[i].second, 1.0, 1.0};
    v.packedMomentum = packed[i].data();
    v.newPackedMomentum = newPacked[i].data();
    variables.push_back(v);
  }
  muon::Engine engine;
  engine.threads = 1;
  engine.followsLoad = false;
  const std::vector<uint8_t> flags = muon::muonStep(engine, variables, settings);

  const float b = static_cast<float>(beta), oneMinusBeta = static_cast<float>(1.0 - beta);
  const float negativeLearningRate = static_cast<float>(-settings.learningRate), wd = static_cast<float>(settings.weightDecay);
  bool equal = true;
  std::vector<uint8_t> expectedFlags;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const size_t size = params[i].size();
    std::vector<float> x(size), orthogonalized(size), param(size);
    std::vector<uint32_t> words((size + 1) / 2, 0);
    uint8_t flag = 0;
    for (size_t k = 0; k < size; ++k) {
      const uint32_t stored = k % 2 == 0 ? packed[i][k / 2] & 0xffffu : packed[i][k / 2] >> 16;
      const float m = muon::bfloat16Value(stored) * b + grads[i][k] * oneMinusBeta;
      x[k] = nesterov ? grads[i][k] * oneMinusBeta + m * b : m;
      const uint32_t rounded = referenceBfloat16(m);
      words[k / 2] |= rounded << (k % 2 == 0 ? 0 : 16);
      if (!std::isfinite(grads[i][k])) flag |= muon::kNonFiniteGradient;
      if (!std::isfinite(muon::bfloat16Value(rounded))) flag |= muon::kNonFiniteMomentum;
    }
    std::vector<muon::PlannedMatrix> one = {{x.data(), orthogonalized.data(), shapes[i].first, shapes[i].second, Algorithm::kPlain, variables[i].transposed, 1.0}};
    muon::orthogonalizeAll(engine, one, sched);
    for (size_t k = 0; k < size; ++k) {
      const float p = params[i][k];
      const float u = orthogonalized[k] * 1.0f + p * wd;
      param[k] = p + u * negativeLearningRate;
      if (!std::isfinite(param[k])) flag |= muon::kNonFiniteParam;
    }
    expectedFlags.push_back(flag);
    equal = equal && std::memcmp(param.data(), newParams[i].data(), size * sizeof(float)) == 0 && words == newPacked[i];
  }
  check(equal, name + ": new parameters and packed momenta equal the reference (unpack, float32 step on the unrounded m', round to nearest even) bit for bit, odd sizes included");
  check(flags == expectedFlags && (flags[2] & muon::kNonFiniteGradient) != 0 && (flags[1] & muon::kNonFiniteMomentum) == 0 && (flags[3] == 0),
        name + ": flags the gradient and the momentum as stored, per variable");
  if (beta == 0.0) {
    // m' = g exactly (m·0 + g·1): the planted values' stored bits, written out by hand.
    const std::vector<uint32_t> expected = {0x3f80, 0x3f82, 0xbf82, 0x3f81, 0x3f80, 0x7f80, 0x7f7f, 0x0000, 0x0002, 0x8000};
    bool planted = true;
    for (size_t k = 0; k < expected.size(); ++k) {
      const uint32_t got = (newPacked[0][k / 2] >> (k % 2 == 0 ? 0 : 16)) & 0xffffu;
      planted = planted && got == expected[k];
    }
    const uint32_t nanLow = newPacked[2][1] >> 16, nanHigh = newPacked[2][5] & 0xffffu;  // elements 3 and 10
    check(planted && nanLow == 0x7fc0u && nanHigh == 0xffc0u && (flags[0] & muon::kNonFiniteMomentum) != 0 && (newPacked[0].back() >> 16) == 0,
          name + ": ties to even both ways, above and below a tie, overflow to Inf, subnormal ties, −0, quiet NaNs; the half-filled word's high half +0");
  }
}

// The packed pass split over threads (inChunks splits words, 2^20 at least per thread): a 1 × n
// variable of 2^22 + 1 elements, odd, on 2 threads, its words equal to the reference's (the
// parameters are not compared: OpenBLAS's bits depend on its thread count).
void packedChunksCase() {
  const size_t size = (size_t{1} << 22) + 1;
  const std::vector<float> grad = gaussian(size, 700), param = gaussian(size, 701), momentum = gaussian(size, 702);
  std::vector<uint32_t> packed((size + 1) / 2, 0), newPacked(packed.size(), 0xffffffffu), expected(packed.size(), 0);
  for (size_t k = 0; k < size; ++k) packed[k / 2] |= referenceBfloat16(momentum[k]) << (k % 2 == 0 ? 0 : 16);
  std::vector<float> newParam(size);
  muon::StepVariable v{param.data(), grad.data(), nullptr, newParam.data(), nullptr, 1, static_cast<int>(size), Algorithm::kPlain, false, 1.0, 1.0};
  v.packedMomentum = packed.data();
  v.newPackedMomentum = newPacked.data();
  muon::MuonStepSettings settings{schedule(kJordan, 5, Precision::kFloat32OpenBlas), 0.9, true, 0.02, 0.0, false};
  settings.momentumDtype = muon::MomentumDtype::kBfloat16;
  muon::Engine engine;
  engine.threads = 2;
  engine.followsLoad = false;
  const std::vector<uint8_t> flags = muon::muonStep(engine, {v}, settings);
  const float b = 0.9f, oneMinusBeta = static_cast<float>(1.0 - 0.9);
  for (size_t k = 0; k < size; ++k) {
    const uint32_t stored = k % 2 == 0 ? packed[k / 2] & 0xffffu : packed[k / 2] >> 16;
    expected[k / 2] |= referenceBfloat16(muon::bfloat16Value(stored) * b + grad[k] * oneMinusBeta) << (k % 2 == 0 ? 0 : 16);
  }
  check(newPacked == expected && flags == std::vector<uint8_t>{0}, "muonStep, bfloat16 momentum on 2 threads: a 1×4194305 variable's packed words equal the reference's");
}

// A busy machine leaves the products a team of 1 (orthogonalizeAll's `threads`), while whole
// matrices still run side by side on all the engine's threads: one large matrix that outweighs the
// others' share and three small ones, at 1 of 2 threads, must run on 2 threads at once and give the
// same bits as an engine of one thread (every product single-threaded in both), in every precision.
void sideBySideCase(Precision precision, const std::string& label) {
  const std::vector<std::pair<int, int>> shapes = {{96, 160}, {24, 40}, {40, 24}, {16, 16}};
  const muon::Schedule sched = schedule(kJordan, 5, precision);
  std::vector<std::vector<float>> inputs, sideBySide, oneThread;
  for (size_t i = 0; i < shapes.size(); ++i) {
    inputs.push_back(gaussian(static_cast<size_t>(shapes[i].first) * shapes[i].second, 40 + static_cast<unsigned>(i)));
    sideBySide.emplace_back(inputs.back().size(), std::nanf(""));
    oneThread.emplace_back(inputs.back().size(), std::nanf(""));
  }
  const auto plans = [&](std::vector<std::vector<float>>& outputs) {
    std::vector<muon::PlannedMatrix> matrices;
    for (size_t i = 0; i < shapes.size(); ++i) {
      const auto [rows, cols] = shapes[i];
      const int m = std::min(rows, cols), n = std::max(rows, cols);
      matrices.push_back({inputs[i].data(), outputs[i].data(), rows, cols, Algorithm::kPlain, rows > cols, 5.0 * (4.0 * m * m * n + 2.0 * m * m * m)});
    }
    return matrices;
  };
  muon::Engine two;
  two.threads = 2;
  two.followsLoad = false;
  std::vector<muon::PlannedMatrix> matrices = plans(sideBySide);
  muon::orthogonalizeAll(two, matrices, sched, 1);
  const int ranSideBySide = two.lastCall.sideBySide;
  muon::Engine one;
  one.threads = 1;
  one.followsLoad = false;
  matrices = plans(oneThread);
  muon::orthogonalizeAll(one, matrices, sched);
  bool equal = true;
  for (size_t i = 0; i < shapes.size(); ++i) equal = equal && std::memcmp(sideBySide[i].data(), oneThread[i].data(), sideBySide[i].size() * sizeof(float)) == 0;
  check(ranSideBySide == 2 && one.lastCall.sideBySide == 1 && equal,
        label + ": products on 1 of 2 threads run 4 matrices side by side on " + std::to_string(ranSideBySide) + " threads, bit for bit a 1-thread engine's");
}

// The Gram spectrum of a diagonal matrix: σ², descending.
void spectrumCase() {
  const int rows = 3, cols = 7;
  std::vector<double> x(static_cast<size_t>(rows) * cols, 0.0);
  x[0 * cols + 0] = 0.5;
  x[1 * cols + 1] = 3.0;
  x[2 * cols + 2] = 2.0;
  bool ok = true;
  for (const bool tall : {false, true}) {
    std::vector<double> input = x;
    if (tall) {  // its transpose, 7 × 3
      for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) input[static_cast<size_t>(c) * rows + r] = x[static_cast<size_t>(r) * cols + c];
    }
    const std::vector<double> lambda = muon::gramEigenvalues(input.data(), tall ? cols : rows, tall ? rows : cols, 1);
    const std::vector<double> expected = {9.0, 4.0, 0.25};
    for (size_t i = 0; i < expected.size(); ++i) ok = ok && lambda.size() == 3 && std::fabs(lambda[i] - expected[i]) <= 1e-14 * 9.0;
  }
  check(ok, "gramEigenvalues: a diagonal matrix's squared singular values, descending, wide and tall (within 1e-14·σ²max)");
}

// bfloat16 where it cannot run is refused with the reason, before any output is written.
void precisionCase() {
  if (muon::supports(Precision::kBfloat16)) {
    std::printf("skip bfloat16 refusal: bfloat16 products run here\n");
    return;
  }
  std::vector<float> x = gaussian(12, 1), out(12, 7.0f);
  std::vector<muon::PlannedMatrix> matrices = {{x.data(), out.data(), 3, 4, Algorithm::kPlain, false, 1.0}};
  muon::Engine engine;
  std::string message;
  try {
    muon::orthogonalizeAll(engine, matrices, schedule(kJordan, 5, Precision::kBfloat16));
  } catch (const std::runtime_error& error) {
    message = error.what();
  }
  check(message.find("bfloat16 products need oneDNN") == 0 && std::all_of(out.begin(), out.end(), [](float v) { return v == 7.0f; }),
        "bfloat16 without bfloat16 products: refused (" + message + "), output untouched");
}

// The thread count per call: exactly `threads` when fixed; following the load, all of them less
// the CPUs other processes' runnable threads hold, at least 1. With as many CPU-bound child
// processes as CPUs, another process holds every CPU, so a call must take 1 thread (whatever else
// runs on the machine); each check reads what the call recorded.
void threadingCase() {
  muon::Engine engine;
  engine.threads = 3;
  engine.followsLoad = false;
  const int fixed = engine.threadsForCall();
  check(fixed == 3 && engine.lastCall.threads == 3 && engine.lastCall.cpus == 0 && engine.lastCall.othersRunnable == -1 && engine.calls == 1,
        "a fixed thread count is used as it is, without looking at the machine");
#ifdef __linux__
  engine.followsLoad = true;
  engine.threads = std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  const int now = engine.threadsForCall();
  const muon::CallThreading seen = engine.lastCall;
  check(seen.cpus >= 1 && seen.othersRunnable >= 0 && now == std::clamp(seen.cpus - seen.othersRunnable, 1, engine.threads),
        "following the load: " + std::to_string(now) + " threads = clamp(" + std::to_string(seen.cpus) + " CPUs − " + std::to_string(seen.othersRunnable) +
            " other runnable threads, 1, " + std::to_string(engine.threads) + ")");
  std::vector<pid_t> busy;
  for (int i = 0; i < seen.cpus; ++i) {
    const pid_t pid = fork();
    if (pid == 0) {
      for (volatile unsigned long spin = 0;; spin = spin + 1) {
      }
    }
    if (pid > 0) busy.push_back(pid);
  }
  usleep(20000);  // until the children run
  // Two matrices of equal cost: their products get 1 thread, and the two run side by side.
  std::vector<float> x = gaussian(32 * 48, 5), y = gaussian(32 * 48, 6), out(x.size()), outY(y.size());
  std::vector<muon::PlannedMatrix> matrices = {{x.data(), out.data(), 32, 48, Algorithm::kPlain, false, 1.0}, {y.data(), outY.data(), 32, 48, Algorithm::kPlain, false, 1.0}};
  muon::orthogonalizeAll(engine, matrices, schedule(kJordan, 5, Precision::kFloat32));
  const muon::CallThreading withBusy = engine.lastCall;
  for (pid_t pid : busy) kill(pid, SIGKILL);
  for (pid_t pid : busy) waitpid(pid, nullptr, 0);
  check(withBusy.threads == 1 && withBusy.sideBySide == 2 && withBusy.othersRunnable >= seen.cpus,
        "beside " + std::to_string(busy.size()) + " CPU-bound processes (one per CPU): products on 1 thread, 2 matrices side by side on " +
            std::to_string(withBusy.sideBySide) + " (saw " + std::to_string(withBusy.othersRunnable) + " other runnable threads)");
#endif
}

}  // namespace

int main() {
  const muon::EngineDescription engine = muon::describe();
  std::printf("engine: float32 products by %s; bfloat16 %s\n", engine.float32Products.c_str(), engine.bfloat16Products.c_str());
  std::vector<std::pair<std::string, Precision>> precisions = {{"OpenBLAS float32", Precision::kFloat32OpenBlas}};
  if (!muon::runsInOpenBlas(Precision::kFloat32)) precisions.push_back({"oneDNN float32", Precision::kFloat32});
  for (const auto& [label, precision] : precisions) {
    diagonalCase(label + ", plain, Frobenius", precision, Algorithm::kPlain, Normalization::kFrobenius, kJordan);
    diagonalCase(label + ", Gram with a restart, Frobenius", precision, Algorithm::kGram, Normalization::kFrobenius, kJordan, {2});
    diagonalCase(label + ", plain, AOL", precision, Algorithm::kPlain, Normalization::kAol, kJordan);
    diagonalCase(label + ", Gram, AOL", precision, Algorithm::kGram, Normalization::kAol, kJordan);
    convergenceCase(label + ", plain", precision, Algorithm::kPlain, false);
    convergenceCase(label + ", Gram, tall", precision, Algorithm::kGram, true);
  }
  for (const auto& [label, precision] : precisions) sideBySideCase(precision, label);
  fusedStepCase("muonStep, Nesterov, no decay", true, 0.0, false);
  fusedStepCase("muonStep, plain momentum, decay", false, 0.1, false);
  fusedStepCase("muonStep, Nesterov, cautious decay", true, 0.1, true);
  packedMomentumCase("muonStep, bfloat16 momentum, Nesterov", true, 0.95);
  packedMomentumCase("muonStep, bfloat16 momentum, plain", false, 0.95);
  packedMomentumCase("muonStep, bfloat16 momentum, β = 0 (m' = g)", false, 0.0);
  packedChunksCase();
  spectrumCase();
  precisionCase();
  threadingCase();
  std::printf("%s\n", failures == 0 ? "all passed" : (std::to_string(failures) + " failed").c_str());
  return failures == 0 ? 0 : 1;
}
