// See newton_schulz.h.
#include "newton_schulz.h"

#include "parallel_for.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>

namespace muon {
namespace {

// Scratch buffers reused across calls, one set per thread: an optimizer step allocates nothing here
// after the first.
struct Workspace {
  std::vector<float> x, x2, r, r2, z, q, t;
  std::vector<double> rowScales;
  static void grow(std::vector<float>& v, size_t n) {
    if (v.size() < n) v.resize(n);
  }
};

Workspace& workspace() {
  thread_local Workspace ws;
  return ws;
}

// C = X Xᵀ (wide) or Xᵀ X (tall), full symmetric m×m, m = min(rows, cols).
// With `hold`, X's bfloat16 copy stays for the next applyLeft(…, xHeld = true) (products.h, Held).
void gram(Precision precision, const float* x, int rows, int cols, bool tall, float* c, bool hold = false) {
  const int m = tall ? cols : rows;
  const int k = tall ? rows : cols;
  symmetricProduct(precision, tall, m, k, x, c, hold);
}

// out = Q X (wide: Q is rows×rows) or X Q (tall: Q is cols×cols); out is rows×cols.
void applyLeft(Precision precision, const float* q, const float* x, int rows, int cols, bool tall, float* out, bool xHeld = false) {
  if (tall) {
    multiply(precision, rows, cols, cols, x, q, out, xHeld ? Held::kLeft : Held::kNone);
  } else {
    multiply(precision, rows, cols, rows, q, x, out, xHeld ? Held::kRight : Held::kNone);
  }
}

void square(Precision precision, const float* a, const float* b, int m, float* out) { multiply(precision, m, m, m, a, b, out); }

// z = a I + b r + c r2 (all m×m).
void polynomial(const Quintic& p, const float* r, const float* r2, int m, float* z) {
  const float b = static_cast<float>(p.b);
  const float c = static_cast<float>(p.c);
  const long long n = static_cast<long long>(m) * m;
  MUON_PARALLEL_FOR_IF(n >= (1 << 16))
  for (long long i = 0; i < n; ++i) z[i] = b * r[i] + c * r2[i];
  const float a = static_cast<float>(p.a);
  for (int i = 0; i < m; ++i) z[static_cast<size_t>(i) * m + i] += a;
}

// Σ x² in float64 over 8 interleaved partial sums, added in a fixed order at the end: the same
// result on every run and thread count, and vectorizable without -ffast-math (one running sum is
// a chain of dependent adds: 1.7 ms for 768×3072 measured here, about 2% of its bfloat16 NS).
double sumOfSquares(const float* x, size_t size) {
  constexpr size_t kLanes = 8;
  double partial[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + kLanes <= size; i += kLanes) {
    for (size_t lane = 0; lane < kLanes; ++lane) partial[lane] += static_cast<double>(x[i + lane]) * x[i + lane];
  }
  for (; i < size; ++i) partial[i % kLanes] += static_cast<double>(x[i]) * x[i];
  double sum = 0;
  for (double p : partial) sum += p;
  return sum;
}

// AOL rescaling (Prach & Lampert, arXiv 2208.03160), Turbo-Muon's normalization (arXiv 2512.04632),
// of x (rows × cols) given its Gram matrix r = xxᵀ (xᵀx when `tall`; full symmetric m×m):
// s_i = 1/max(√(Σ_j |r_ij|), floor), x ← diag(s)·x (tall: x·diag(s)) and r ← diag(s)·r·diag(s), the
// Gram matrix of the new x, which the first iteration uses instead of recomputing it. The row sums
// and s are float64; r and x stay float32.
void rescaleAol(float* x, float* r, int rows, int cols, bool tall, double floor, std::vector<double>& s) {
  const int m = tall ? cols : rows;
  s.resize(m);
  for (int i = 0; i < m; ++i) {
    const float* row = r + static_cast<size_t>(i) * m;
    double sum = 0;
    for (int j = 0; j < m; ++j) sum += std::fabs(static_cast<double>(row[j]));
    s[i] = 1.0 / std::max(std::sqrt(sum), floor);
  }
  for (int i = 0; i < m; ++i) {
    float* row = r + static_cast<size_t>(i) * m;
    for (int j = 0; j < m; ++j) row[j] = static_cast<float>(row[j] * s[i] * s[j]);
  }
  MUON_PARALLEL_FOR_IF(static_cast<size_t>(rows) * cols >= (size_t{1} << 16))
  for (int i = 0; i < rows; ++i) {
    float* row = x + static_cast<size_t>(i) * cols;
    for (int j = 0; j < cols; ++j) row[j] = static_cast<float>(row[j] * (tall ? s[j] : s[i]));
  }
}

// Orthogonalizes one matrix `in` (rows × cols) into `out` with the planned algorithm, on XᵀX when `tall`.
// Every product runs in `precision` (products.h); the normalization (float64 sum), the polynomial
// Z = aI + bR + cR², the iterates X, R, Q and the output stay float32.
void orthogonalize(const float* in, float* out, int rows, int cols, bool tall, Algorithm algorithm, const Schedule& s) {
  const Precision precision = s.precision;
  const std::vector<Quintic>& schedule = s.iterations;
  const double eps = s.eps;
  const int m = tall ? cols : rows;
  const size_t size = static_cast<size_t>(rows) * cols;
  const size_t gramSize = static_cast<size_t>(m) * m;
  Workspace& ws = workspace();
  Workspace::grow(ws.x, size);
  Workspace::grow(ws.r, gramSize);
  Workspace::grow(ws.r2, gramSize);
  Workspace::grow(ws.z, gramSize);

  // AOL is invariant to X's scale when its floor scales along (eps/‖X‖_F): dividing by the
  // float64 Frobenius norm first keeps the products of its Gram matrix in float32's range.
  const bool aol = s.normalization == Normalization::kAol;
  const double norm = std::sqrt(sumOfSquares(in, size));
  const double aolScale = norm > 0 ? 1.0 / norm : 1.0;
  const float inv = static_cast<float>(aol ? aolScale : 1.0 / (s.normalizationScale * norm + eps));
  float* x = ws.x.data();
  MUON_PARALLEL_FOR_IF(size >= (size_t{1} << 16))
  for (long long i = 0; i < static_cast<long long>(size); ++i) x[i] = in[i] * inv;
  float* r = ws.r.data();
  float* r2 = ws.r2.data();
  float* z = ws.z.data();
  const size_t steps = schedule.size();
  if (aol) {
    gram(precision, x, rows, cols, tall, r);
    rescaleAol(x, r, rows, cols, tall, eps * aolScale, ws.rowScales);
  }

  if (algorithm == Algorithm::kPlain) {
    Workspace::grow(ws.x2, size);
    float* y = ws.x2.data();
    for (size_t t = 0; t < steps; ++t) {
      // A = XXᵀ, X's rounded copy kept; AOL's first A is the rescaled one, and X changed since its
      // product, so X is rounded anew for that iteration's X ← ZX.
      const bool reuseRescaledGram = aol && t == 0;
      if (!reuseRescaledGram) gram(precision, x, rows, cols, tall, r, true);
      symmetricProduct(precision, false, m, m, r, r2);  // A² = AAᵀ
      polynomial(schedule[t], r, r2, m, z);
      applyLeft(precision, z, x, rows, cols, tall, t + 1 == steps ? out : y, !reuseRescaledGram);  // X ← (aI + bA + cA²) X
      std::swap(x, y);
    }
    return;
  }

  Workspace::grow(ws.q, gramSize);
  Workspace::grow(ws.t, gramSize);
  Workspace::grow(ws.x2, size);
  float* q = ws.q.data();
  float* tmp = ws.t.data();
  float* y = ws.x2.data();
  if (!aol) gram(precision, x, rows, cols, tall, r);
  bool qIdentity = true;
  for (size_t t = 0; t < steps; ++t) {
    symmetricProduct(precision, false, m, m, r, r2);  // R² = RRᵀ
    polynomial(schedule[t], r, r2, m, z);
    if (qIdentity) {
      std::memcpy(q, z, gramSize * sizeof(float));
    } else {
      square(precision, q, z, m, tmp);  // Q ← QZ
      std::swap(q, tmp);
    }
    qIdentity = false;
    if (t + 1 == steps) break;
    if (std::find(s.restartAfter.begin(), s.restartAfter.end(), static_cast<int>(t + 1)) != s.restartAfter.end()) {
      applyLeft(precision, q, x, rows, cols, tall, y);  // X ← QX
      std::swap(x, y);
      gram(precision, x, rows, cols, tall, r);  // R ← XXᵀ
      qIdentity = true;
    } else {
      // R ← Z R Z. R·Z² (Z² by syrk) would save m³ flops but measured 1.5–3× the error against
      // the float64 map on ill-conditioned inputs (128×512, polarExpress5), so it is not used.
      square(precision, r, z, m, tmp);  // RZ
      square(precision, z, tmp, m, r);  // R ← Z (R Z)
    }
  }
  if (qIdentity) {
    std::memcpy(out, x, size * sizeof(float));
  } else {
    applyLeft(precision, q, x, rows, cols, tall, out);
  }
}

void run(const PlannedMatrix& matrix, const Schedule& schedule) {
  orthogonalize(matrix.in, matrix.out, matrix.rows, matrix.cols, matrix.transposed, matrix.algorithm, schedule);
}

}  // namespace

void orthogonalizeAll(Engine& engine, std::vector<PlannedMatrix>& matrices, const Schedule& schedule) {
  orthogonalizeAll(engine, matrices, schedule, engine.threadsForCall());
}

void orthogonalizeAll(Engine& engine, std::vector<PlannedMatrix>& matrices, const Schedule& schedule, int threads) {
  std::sort(matrices.begin(), matrices.end(), [](const PlannedMatrix& a, const PlannedMatrix& b) { return a.flops > b.flops; });
  // Whole matrices, one per thread, run on all of the engine's threads even when the load left the
  // products a smaller team: a thread running its own matrix waits for no other until the end, so
  // a time slice that another process takes from it delays that matrix alone, where a team's
  // products wait in lock step for their slowest member (issue 25).
  const int sideBySide = std::max(threads, engine.threads);
  useThreads(threads);
  std::optional<OpenBlasThreads> openblas;
  if (runsInOpenBlas(schedule.precision)) openblas.emplace(threads);
  double remaining = std::accumulate(matrices.begin(), matrices.end(), 0.0, [](double sum, const PlannedMatrix& m) { return sum + m.flops; });
  size_t next = 0;
  // Largest first, on a team of `threads`, while one matrix outweighs a thread's share of the rest.
  while (next < matrices.size() && threads > 1 && (matrices.size() - next == 1 || matrices[next].flops * sideBySide > remaining)) {
    run(matrices[next], schedule);
    remaining -= matrices[next].flops;
    ++next;
  }
  const size_t helpers = std::min(static_cast<size_t>(sideBySide), matrices.size() - next) - (next < matrices.size() ? 1 : 0);
  engine.lastCall.sideBySide = static_cast<int>(helpers) + 1;
  if (next == matrices.size()) return;
  // The rest: one matrix per thread, single-threaded products, next-largest to whichever thread is free.
  std::atomic<size_t> cursor{next};
  std::atomic<bool> failed{false};
  std::string failure;
  auto worker = [&]() {
    try {
      useThreads(1);
      for (size_t i = cursor++; i < matrices.size() && !failed; i = cursor++) run(matrices[i], schedule);
    } catch (const std::exception& error) {
      if (!failed.exchange(true)) failure = error.what();
    }
  };
  if (openblas) openblas->set(1);
  // The caller's OpenMP count stays 1 after this: every entry sets its own at its start.
  engine.pool.run(helpers, worker);
  if (failed) throw std::runtime_error(failure);
}

}  // namespace muon
