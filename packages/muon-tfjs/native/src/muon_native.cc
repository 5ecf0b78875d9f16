// Newton–Schulz orthogonalization in native code, for muon-tfjs in Node: over oneDNN where it was
// found at build time (float32 or bfloat16 products), else over OpenBLAS (float32); products.h
// says which library computes which product.
//
// One call orthogonalizes every matrix of an optimizer step. Each matrix is row-major float32,
// `rows × cols`, and comes with its plan, decided in TypeScript (planOrthogonalization in
// src/math/planOrthogonalization.ts, the library's one cost model): the algorithm, the side to
// iterate on (XXᵀ, or XᵀX when `transposed`, through transpose flags or strides, so tall matrices
// are never copied into a transpose) and its flop count. This file executes plans; it decides nothing.
//
// Two algorithms compute the same map X ↦ p_k(…p_1(X)) (p_t(X) = a_t X + b_t (XXᵀ)X + c_t (XXᵀ)²X):
//  - plain:  per iteration A = XXᵀ, A², X ← (a I + b A + c A²) X.
//  - Gram:   R = XXᵀ once, then only m×m work: Z = aI + bR + cR², Q ← QZ, R ← Z R Z, with a
//            restart (X ← QX, R ← XXᵀ, Q ← I) after the iterations listed in `restartAfter`, and
//            one final multiply X ← QX (Zhang, Amsel, Chen, Dao 2026, Dao-AILab/gram-newton-schulz).
// Over OpenBLAS the symmetric products XXᵀ and R² = RRᵀ use ssyrk (half the flops of sgemm), which
// the planner knows as this kernel's capability (info().symmetricProductsAtHalfCost).
//
// Precision (the optional `precision` argument): in bfloat16 every product rounds its two operands
// to bfloat16 and accumulates in float32 (products.h); everything between products stays float32.
//
// Scheduling: OpenBLAS (and oneDNN) split one product over their threads, which pays off for large products only
// (measured here, sgemm m³: 110 GFLOP/s on 1 thread and 118 on 2 at m = 128, 153 and 262 at 768).
// So the matrices of a call are orthogonalized largest first (by the planned flops): a matrix costing more than its share
// of the remaining work runs alone on all threads; the rest run concurrently, one matrix per
// thread, with single-threaded products (OpenBLAS's count and each thread's OpenMP count set to 1), on a persistent pool whose threads keep their own scratch.
// Every matrix goes through the same arithmetic in either case up to BLAS's summation order.
//
// Worker threads: each one that loads the addon has its own thread count, pool and scratch
// (addon_instance.h), so their calls run at once and give each the bits of a lone run; only calls
// whose products run in OpenBLAS wait for each other (OpenBlasThreads, products.h).
//
// On the wasm backend the caller passes views of the wasm heap: inputs are read and outputs written
// in place (`outputs` argument), so a step copies nothing between JavaScript and native memory.
#include <napi.h>
#include <cblas.h>

#include "addon_instance.h"
#include "gram_spectrum.h"
#include "orthogonalize_engine.h"
#include "parallel_for.h"
#include "products.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using muon_native::Normalization;

// The algorithm codes of a plan (NATIVE_ALGORITHM_CODES in src/kernels/nativeAddon.ts).
enum Algorithm { kPlain = 0, kGram = 1 };

struct Quintic {
  double a, b, c;
};

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
void gram(muon::Precision precision, const float* x, int rows, int cols, bool tall, float* c, bool hold = false) {
  const int m = tall ? cols : rows;
  const int k = tall ? rows : cols;
  muon::symmetricProduct(precision, tall, m, k, x, c, hold);
}

// out = Q X (wide: Q is rows×rows) or X Q (tall: Q is cols×cols); out is rows×cols.
void applyLeft(muon::Precision precision, const float* q, const float* x, int rows, int cols, bool tall, float* out, bool xHeld = false) {
  if (tall) {
    muon::multiply(precision, rows, cols, cols, x, q, out, xHeld ? muon::Held::kLeft : muon::Held::kNone);
  } else {
    muon::multiply(precision, rows, cols, rows, q, x, out, xHeld ? muon::Held::kRight : muon::Held::kNone);
  }
}

void square(muon::Precision precision, const float* a, const float* b, int m, float* out) { muon::multiply(precision, m, m, m, a, b, out); }

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

// Orthogonalizes one matrix `in`// AOL rescaling (Prach & Lampert, arXiv 2208.03160), Turbo-Muon's normalization (arXiv 2512.04632),
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
void orthogonalize(const float* in, float* out, int rows, int cols, bool tall, const std::vector<Quintic>& schedule,
                   double normalizationScale, double eps, Normalization normalization, const std::vector<int>& restarts, Algorithm algorithm,
                   muon::Precision precision) {
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
  const bool aol = normalization == Normalization::kAol;
  const double norm = std::sqrt(sumOfSquares(in, size));
  const double aolScale = norm > 0 ? 1.0 / norm : 1.0;
  const float inv = static_cast<float>(aol ? aolScale : 1.0 / (normalizationScale * norm + eps));
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

  if (algorithm == kPlain) {
    Workspace::grow(ws.x2, size);
    float* y = ws.x2.data();
    for (size_t t = 0; t < steps; ++t) {
      // A = XXᵀ, X's rounded copy kept; AOL's first A is the rescaled one, and X changed since its
      // product, so X is rounded anew for that iteration's X ← ZX.
      const bool reuseRescaledGram = aol && t == 0;
      if (!reuseRescaledGram) gram(precision, x, rows, cols, tall, r, true);
      muon::symmetricProduct(precision, false, m, m, r, r2);  // A² = AAᵀ
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
    muon::symmetricProduct(precision, false, m, m, r, r2);  // R² = RRᵀ
    polynomial(schedule[t], r, r2, m, z);
    if (qIdentity) {
      std::memcpy(q, z, gramSize * sizeof(float));
    } else {
      square(precision, q, z, m, tmp);  // Q ← QZ
      std::swap(q, tmp);
    }
    qIdentity = false;
    if (t + 1 == steps) break;
    if (std::find(restarts.begin(), restarts.end(), static_cast<int>(t + 1)) != restarts.end()) {
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

// One matrix of a call: raw buffers owned by JavaScript typed arrays that outlive the call.
// The plan (algorithm, side, flops) comes from TypeScript.
struct Job {
  const float* in;
  float* out;
  int rows, cols;
  bool tall;
  Algorithm algorithm;
  double flops;
};

struct Settings {
  const std::vector<Quintic>& schedule;
  double normalizationScale, eps;
  Normalization normalization;
  const std::vector<int>& restarts;
  muon::Precision precision;
};

void run(const Job& job, const Settings& s) {
  orthogonalize(job.in, job.out, job.rows, job.cols, job.tall, s.schedule, s.normalizationScale, s.eps, s.normalization, s.restarts, job.algorithm, s.precision);
}

}  // namespace

// Threads kept for the life of an addon copy (AddonInstance), so that a step neither starts threads
// nor reallocates their scratch (each keeps its thread_local Workspace). `run(helpers, work)` runs
// `work` on `helpers` pool threads and on the caller, and returns when all are done; one caller at a
// time, the copy's JavaScript thread.
class muon_native::WorkerPool {
 public:
  WorkerPool() = default;
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  // Called when the copy's environment ends (the worker exits), between calls: the threads are idle.
  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& thread : threads_) thread.join();
  }

  void run(size_t helpers, const std::function<void()>& work) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (threads_.size() < helpers) {
      try {
        threads_.emplace_back([this, index = threads_.size()] { loop(index); });
      } catch (const std::system_error&) {
        break;  // no more threads to be had: fewer helpers share the work
      }
    }
    work_ = &work;
    wanted_ = std::min(helpers, threads_.size());
    running_ = wanted_;
    ++generation_;
    wake_.notify_all();
    lock.unlock();
    work();
    lock.lock();
    done_.wait(lock, [this] { return running_ == 0; });
    work_ = nullptr;
  }

 private:
  void loop(size_t index) {
    size_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      if (index >= wanted_) continue;
      const std::function<void()>* work = work_;
      lock.unlock();
      (*work)();
      lock.lock();
      if (--running_ == 0) done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  const std::function<void()>* work_ = nullptr;
  size_t wanted_ = 0, running_ = 0, generation_ = 0;
  bool stopping_ = false;
};

muon_native::AddonInstance::AddonInstance() : threads(muon::defaultThreads()), pool(std::make_unique<WorkerPool>()) {}
muon_native::AddonInstance::~AddonInstance() = default;

muon_native::AddonInstance& muon_native::addonInstance(Napi::Env env) { return *env.GetInstanceData<AddonInstance>(); }

namespace {

// Orthogonalizes every job (see "Scheduling" at the top) with `addon`'s threads and pool. Returns an
// error message, empty on success.
std::string orthogonalizeAll(muon_native::AddonInstance& addon, std::vector<Job>& jobs, const Settings& s) {
  std::sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return a.flops > b.flops; });
  const int threads = addon.threads;
  muon::useThreads(threads);
  std::optional<muon::OpenBlasThreads> openblas;
  if (muon::runsInOpenBlas(s.precision)) openblas.emplace(threads);
  double remaining = std::accumulate(jobs.begin(), jobs.end(), 0.0, [](double sum, const Job& j) { return sum + j.flops; });
  size_t next = 0;
  try {
    // Largest first, on all BLAS threads, while one matrix outweighs a thread's share of the rest.
    while (next < jobs.size() && (threads == 1 || jobs.size() - next == 1 || jobs[next].flops * threads > remaining)) {
      run(jobs[next], s);
      remaining -= jobs[next].flops;
      ++next;
    }
  } catch (const std::exception& error) {
    return error.what();
  }
  if (next == jobs.size()) return "";
  // The rest: one matrix per thread, single-threaded BLAS, next-largest to whichever thread is free.
  std::atomic<size_t> cursor{next};
  std::atomic<bool> failed{false};
  std::string failure;
  auto worker = [&]() {
    try {
      muon::useThreads(1);
      for (size_t i = cursor++; i < jobs.size() && !failed; i = cursor++) run(jobs[i], s);
    } catch (const std::exception& error) {
      if (!failed.exchange(true)) failure = error.what();
    }
  };
  if (openblas) openblas->set(1);
  // The caller's OpenMP count stays 1 after this: every entry sets its own at its start.
  addon.pool->run(std::min(static_cast<size_t>(threads), jobs.size() - next) - 1, worker);
  return failure;
}

template <typename T>
std::vector<T> readNumbers(const Napi::Value& value, const char* what) {
  if (!value.IsTypedArray()) throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a typed array");
  Napi::TypedArray array = value.As<Napi::TypedArray>();
  std::vector<T> result(array.ElementLength());
  if (array.TypedArrayType() == napi_float64_array) {
    Napi::Float64Array f = value.As<Napi::Float64Array>();
    for (size_t i = 0; i < result.size(); ++i) result[i] = static_cast<T>(f[i]);
  } else if (array.TypedArrayType() == napi_int32_array) {
    Napi::Int32Array f = value.As<Napi::Int32Array>();
    for (size_t i = 0; i < result.size(); ++i) result[i] = static_cast<T>(f[i]);
  } else {
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a Float64Array or Int32Array");
  }
  return result;
}

// orthogonalize(inputs: Float32Array[], shapes: Int32Array [r0, c0, r1, c1, …],
//               coefficients: Float64Array [a0, b0, c0, a1, …], normalizationScale: number,
//               eps: number, restartAfter: Int32Array, plans: Int32Array [algorithm0, transposed0, …],
//               flops: Float64Array [flops0, …][, outputs: Float32Array[]][, precision: 0 float32 | 1 bfloat16 | 2 float32 via OpenBLAS]
//               [, normalization: 0 Frobenius | 1 AOL])
//               → Float32Array[]
Napi::Value Orthogonalize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const bool into = info.Length() >= 9 && !info[8].IsUndefined();
  if (info.Length() < 8 || info.Length() > 11 || !info[0].IsArray() || !info[3].IsNumber() || !info[4].IsNumber() || (into && !info[8].IsArray())) {
    throw Napi::TypeError::New(env, "orthogonalize(inputs, shapes, coefficients, normalizationScale, eps, restartAfter, plans, flops[, outputs][, precision][, normalization])");
  }
  const muon::Precision precision = muon_native::precisionArgument(info[9], "orthogonalize");
  const Normalization normalization = muon_native::normalizationArgument(info[10], "orthogonalize");
  Napi::Array inputs = info[0].As<Napi::Array>();
  const std::vector<int> shapes = readNumbers<int>(info[1], "shapes");
  const std::vector<double> coefficients = readNumbers<double>(info[2], "coefficients");
  const double normalizationScale = info[3].As<Napi::Number>().DoubleValue();
  const double eps = info[4].As<Napi::Number>().DoubleValue();
  const std::vector<int> restarts = readNumbers<int>(info[5], "restartAfter");
  const std::vector<int> plans = readNumbers<int>(info[6], "plans");
  const std::vector<double> flops = readNumbers<double>(info[7], "flops");
  if (coefficients.empty() || coefficients.size() % 3 != 0) {
    throw Napi::RangeError::New(env, "coefficients must hold one (a, b, c) triple per iteration");
  }
  std::vector<Quintic> schedule;
  for (size_t i = 0; i < coefficients.size(); i += 3) {
    schedule.push_back({coefficients[i], coefficients[i + 1], coefficients[i + 2]});
  }
  const uint32_t count = inputs.Length();
  if (shapes.size() != 2 * static_cast<size_t>(count)) throw Napi::RangeError::New(env, "shapes must hold two numbers per input");
  if (plans.size() != 2 * static_cast<size_t>(count)) throw Napi::RangeError::New(env, "plans must hold two numbers per input");
  if (flops.size() != count) throw Napi::RangeError::New(env, "flops must hold one number per input");
  // Everything JavaScript-facing happens here, on the main thread; workers see raw buffers only.
  // With `outputs` the results go into the caller's arrays (e.g. views of tensors in the wasm heap),
  // which must not overlap the inputs; otherwise into new ones.
  Napi::Array outputs = into ? info[8].As<Napi::Array>() : Napi::Array::New(env, count);
  if (into && outputs.Length() != count) throw Napi::RangeError::New(env, "outputs must hold one array per input");
  std::vector<Job> jobs;
  jobs.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    Napi::Value value = inputs.Get(i);
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw Napi::TypeError::New(env, "inputs[" + std::to_string(i) + "] must be a Float32Array");
    }
    Napi::Float32Array input = value.As<Napi::Float32Array>();
    const int rows = shapes[2 * i];
    const int cols = shapes[2 * i + 1];
    if (rows < 1 || cols < 1 || static_cast<size_t>(rows) * cols != input.ElementLength()) {
      throw Napi::RangeError::New(env, "inputs[" + std::to_string(i) + "] does not hold rows × cols numbers");
    }
    const int algorithm = plans[2 * i];
    const int transposed = plans[2 * i + 1];
    if ((algorithm != kPlain && algorithm != kGram) || (transposed != 0 && transposed != 1)) {
      throw Napi::RangeError::New(env, "plans[" + std::to_string(2 * i) + ", " + std::to_string(2 * i + 1) + "] must be an algorithm (0 plain, 1 Gram) and 0 or 1");
    }
    Napi::Float32Array output;
    if (into) {
      Napi::Value given = outputs.Get(i);
      if (!given.IsTypedArray() || given.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
          given.As<Napi::Float32Array>().ElementLength() != input.ElementLength()) {
        throw Napi::TypeError::New(env, "outputs[" + std::to_string(i) + "] must be a Float32Array as long as inputs[" + std::to_string(i) + "]");
      }
      output = given.As<Napi::Float32Array>();
    } else {
      output = Napi::Float32Array::New(env, input.ElementLength());
      outputs.Set(i, output);
    }
    jobs.push_back({input.Data(), output.Data(), rows, cols, transposed == 1, static_cast<Algorithm>(algorithm), flops[i]});
  }
  const Settings settings{schedule, normalizationScale, eps, normalization, restarts, precision};
  const std::string failure = orthogonalizeAll(muon_native::addonInstance(env), jobs, settings);
  if (!failure.empty()) throw Napi::Error::New(env, "orthogonalize failed: " + failure);
  return outputs;
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  const muon::EngineDescription engine = muon::describe();
  result.Set("blas", Napi::String::New(env, engine.blas));
  result.Set("threads", Napi::Number::New(env, muon_native::addonInstance(env).threads));
  // The interface version src/kernels/nativeAddon.ts expects (2: orthogonalize takes `outputs`;
  // 3: it takes per-matrix plans and flops from TypeScript instead of a mode; 4: `precision`, the
  // fields below, gramEigenvalues and muonStep, the fused step; 5: muonStep takes `precision`;
  // 6: both take `normalization`).
  result.Set("version", Napi::Number::New(env, 6));
  result.Set("onednn", engine.onednn.empty() ? env.Null() : Napi::String::New(env, engine.onednn));
  Napi::Object products = Napi::Object::New(env);
  products.Set("float32", Napi::String::New(env, engine.float32Products));
  products.Set("bfloat16", Napi::String::New(env, engine.bfloat16Products));
  result.Set("products", products);
  result.Set("bfloat16", Napi::Boolean::New(env, muon::supports(muon::Precision::kBfloat16)));
  result.Set("symmetricProductsAtHalfCost", Napi::Boolean::New(env, engine.symmetricProductsAtHalfCost));
  // The CPU's flags, whichever library runs (cpuid).
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("avx512Bf16", Napi::Boolean::New(env, engine.avx512Bf16));
  cpu.Set("amxBf16", Napi::Boolean::New(env, engine.amxBf16));
  result.Set("cpu", cpu);
  return result;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "setThreads(count)");
  muon_native::addonInstance(info.Env()).threads = std::max(1, info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// Plain row-major C = A·B, exposed for the benchmark's matmul throughput line: through OpenBLAS's
// sgemm, or with `precision` (0 float32, 1 bfloat16, 2 float32 via OpenBLAS) through the products Newton–Schulz runs.
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || info.Length() > 6 || (info.Length() == 6 && !info[5].IsNumber())) throw Napi::TypeError::New(env, "matmul(a, b, m, k, n[, precision])");
  Napi::Float32Array a = info[0].As<Napi::Float32Array>();
  Napi::Float32Array b = info[1].As<Napi::Float32Array>();
  const int m = info[2].As<Napi::Number>().Int32Value();
  const int k = info[3].As<Napi::Number>().Int32Value();
  const int n = info[4].As<Napi::Number>().Int32Value();
  if (a.ElementLength() != static_cast<size_t>(m) * k || b.ElementLength() != static_cast<size_t>(k) * n) {
    throw Napi::RangeError::New(env, "matmul: sizes do not match m, k, n");
  }
  Napi::Float32Array c = Napi::Float32Array::New(env, static_cast<size_t>(m) * n);
  const int threads = muon_native::addonInstance(env).threads;
  if (info.Length() == 6) {
    const int code = info[5].As<Napi::Number>().Int32Value();
    if (code < 0 || code > 2 || !muon::supports(static_cast<muon::Precision>(code))) {
      throw Napi::RangeError::New(env, "matmul: precision " + std::to_string(code) + " is not available (" + muon::describe().bfloat16Products + ")");
    }
    const muon::Precision precision = static_cast<muon::Precision>(code);
    muon::useThreads(threads);
    std::optional<muon::OpenBlasThreads> openblas;
    if (muon::runsInOpenBlas(precision)) openblas.emplace(threads);
    muon::multiply(precision, m, n, k, a.Data(), b.Data(), c.Data());
  } else {
    const muon::OpenBlasThreads openblas(threads);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a.Data(), k, b.Data(), n, 0.0f, c.Data(), n);
  }
  return c;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new muon_native::AddonInstance());  // deleted by N-API when `env` ends
  exports.Set("orthogonalize", Napi::Function::New(env, Orthogonalize));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("matmul", Napi::Function::New(env, Matmul));
  exports.Set("gramEigenvalues", Napi::Function::New(env, GramEigenvalues));
  exports.Set("muonStep", Napi::Function::New(env, muon_native::MuonStep));
  return exports;
}

}  // namespace

std::string muon_native::orthogonalizePlanned(AddonInstance& addon, std::vector<PlannedMatrix>& matrices, const EngineSchedule& schedule) {
  std::vector<Quintic> quintics;
  for (size_t i = 0; i + 2 < schedule.coefficients.size(); i += 3) {
    quintics.push_back({schedule.coefficients[i], schedule.coefficients[i + 1], schedule.coefficients[i + 2]});
  }
  std::vector<Job> jobs;
  jobs.reserve(matrices.size());
  for (const PlannedMatrix& m : matrices) {
    jobs.push_back({m.in, m.out, m.rows, m.cols, m.transposed, static_cast<Algorithm>(m.algorithm), m.flops});
  }
  return orthogonalizeAll(addon, jobs, Settings{quintics, schedule.normalizationScale, schedule.eps, schedule.normalization, schedule.restartAfter, schedule.precision});
}

muon_native::Normalization muon_native::normalizationArgument(const Napi::Value& value, const std::string& caller) {
  Napi::Env env = value.Env();
  if (value.IsUndefined()) return Normalization::kFrobenius;
  if (!value.IsNumber()) throw Napi::TypeError::New(env, caller + ": normalization must be a number (0 Frobenius, 1 AOL)");
  const double code = value.As<Napi::Number>().DoubleValue();
  if (code != 0 && code != 1) throw Napi::RangeError::New(env, caller + ": normalization must be 0 (Frobenius) or 1 (AOL), got " + value.ToString().Utf8Value());
  return static_cast<Normalization>(static_cast<int>(code));
}

muon::Precision muon_native::precisionArgument(const Napi::Value& value, const std::string& caller) {
  Napi::Env env = value.Env();
  if (value.IsUndefined()) return muon::Precision::kFloat32;
  if (!value.IsNumber()) throw Napi::TypeError::New(env, caller + ": precision must be a number (0 float32, 1 bfloat16, 2 float32 through OpenBLAS)");
  const double code = value.As<Napi::Number>().DoubleValue();
  if (code != 0 && code != 1 && code != 2) {
    throw Napi::RangeError::New(env, caller + ": precision must be 0 (float32), 1 (bfloat16) or 2 (float32 through OpenBLAS), got " + value.ToString().Utf8Value());
  }
  const muon::Precision precision = static_cast<muon::Precision>(static_cast<int>(code));
  if (!muon::supports(precision)) throw Napi::Error::New(env, caller + ": bfloat16 is " + muon::describe().bfloat16Products);
  return precision;
}

NODE_API_MODULE(muon_native, Init)
