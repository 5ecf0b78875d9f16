// The matrix products of Newton–Schulz, over whichever library the addon was built with: OpenBLAS
// (always; float32) and, where `libdnnl-dev` was found at build time (MUON_HAVE_ONEDNN, decided by
// native/build.mjs), oneDNN (float32 and bfloat16). Each product goes to the library measured
// fastest for it on the machines this project runs on (see products.cc and docs/performance.md).
#pragma once

#include <mutex>
#include <string>

namespace muon {

// The arithmetic of the Newton–Schulz products (the codes of NATIVE_PRECISION_CODES in
// src/kernels/nativeAddon.ts). bfloat16: every product's two operands are rounded to bfloat16
// (round to nearest even), multiplied with float32 accumulation into a float32 result.
// kFloat32OpenBlas: float32 through OpenBLAS (ssyrk, sgemm) even where oneDNN is built in, the
// fallback build's products, so that benchmarks compare both libraries in one process.
enum class Precision { kFloat32 = 0, kBfloat16 = 1, kFloat32OpenBlas = 2 };

// Which operand of `multiply` is the matrix the last `symmetricProduct(…, hold = true)` on this
// thread rounded and kept (bfloat16 only; float32 ignores it): the plain iteration's X feeds both
// XXᵀ and B·X (or X·B when tall), and is rounded once instead of twice (for 768×3072, 2.4 M of the
// 6 M values an iteration rounds). The caller guarantees that it is the same, unchanged matrix.
enum class Held { kNone, kLeft, kRight };

// c (m×n) = a (m×k) · b (k×n), all row-major float32.
void multiply(Precision precision, int m, int n, int k, const float* a, const float* b, float* c, Held held = Held::kNone);

// c = x·xᵀ (x m×k) or, with `transposed`, xᵀ·x (x k×m): the full symmetric m×m matrix, row-major.
void symmetricProduct(Precision precision, bool transposed, int m, int k, const float* x, float* c, bool hold = false);

// Whether `precision` can run here: float32 always; bfloat16 where oneDNN was built in and the CPU
// has bfloat16 dot products (AVX512-BF16 or AMX-BF16, as oneDNN's effective ISA reports).
bool supports(Precision precision);

// Threads of the oneDNN products (OpenMP) called from this thread. OpenMP's count belongs to each
// OS thread, so this changes the calling thread's only: a call sets its caller's to its addon
// copy's count (its Engine, engine.h), each pool thread its own to 1 before running a matrix each.
void useThreads(int count);

// OpenBLAS's thread count when the addon was first loaded in this process (the cores, or
// OPENBLAS_NUM_THREADS): the count every copy of the addon starts with.
int defaultThreads();

// Whether `precision`'s products run in OpenBLAS: kFloat32OpenBlas, and float32 without oneDNN.
bool runsInOpenBlas(Precision precision);

// OpenBLAS (0.3.21, Debian 12's) keeps one thread count for the whole process, and its results
// depend on it: sgemm, dsyrk and dsyevd give other bits on 1 thread than on 2 (measured here at
// 128×128 to 700×700). So every call into OpenBLAS holds one of these for as long as it relies on
// the count: a process-wide lock, which makes other worker threads' OpenBLAS calls wait instead of
// changing the count under it (their own copy's count, or the 1 of the pool's one-matrix-per-thread
// products). A mutex and not per-thread state because this OpenBLAS has no per-thread count;
// oneDNN's products take no lock, their thread count being per thread.
// Released, it puts back the count it found, so that other OpenBLAS users in the process (another
// addon over the same library) keep theirs.
class OpenBlasThreads {
 public:
  explicit OpenBlasThreads(int count);
  ~OpenBlasThreads();
  OpenBlasThreads(const OpenBlasThreads&) = delete;
  OpenBlasThreads& operator=(const OpenBlasThreads&) = delete;
  // Changes the count while held (to 1 while the pool's threads run one matrix each).
  void set(int count);

 private:
  std::unique_lock<std::mutex> lock_;
  int found_;
};

// What ran, for info(): the library per precision, oneDNN's version and effective ISA (or why
// there is no oneDNN), and whether the CPU has AVX512-BF16 and AMX-BF16 (cpuid, independent of
// the libraries).
struct EngineDescription {
  std::string blas;             // OpenBLAS's build string
  std::string onednn;           // "oneDNN 2.6.3 (avx512_core_bf16)", or empty without oneDNN
  std::string float32Products;  // which library runs which float32 product
  std::string bfloat16Products;  // the same for bfloat16, or why it cannot run
  bool symmetricProductsAtHalfCost;  // XXᵀ and R² as one triangle (ssyrk, or oneDNN block rows), for the planner
  bool avx512Bf16, amxBf16;
};
EngineDescription describe();

}  // namespace muon
