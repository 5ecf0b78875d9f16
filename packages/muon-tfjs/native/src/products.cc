// See products.h. Which library computes which product, measured on the 2-core AMD EPYC (AVX-512,
// AVX512-BF16) this project is developed on, 2 threads (docs/performance.md, "oneDNN and
// bfloat16", has the tables and commands):
//  - one product, each library alone in its process: OpenBLAS 0.3.21 sgemm ≈ 200 GFLOP/s (its
//    Haswell kernels, which OPENBLAS_CORETYPE=Haswell selects here) and ssyrk ≈ 180 (≈ 360 counted
//    as the gemm it replaces); oneDNN 2.6.3 matmul f32 ≈ 390, bf16 with f32 accumulation ≈ 800, at
//    768–2048, transposed operands (strides) included.
//  - the whole float32 orthogonalization of 4 GPT-2-small layers, in the addon: every product in
//    oneDNN (XXᵀ and R² as full gemms) took 0.53–0.75× the OpenBLAS build's time; the same with
//    XXᵀ and R² left to ssyrk took 1.08–1.18× the all-oneDNN time (OpenBLAS's pthreads spin after
//    each call while oneDNN's OpenMP team wants the same two cores).
// So with oneDNN built every product runs in oneDNN, the symmetric ones XXᵀ and R² as block rows
// of their upper triangle (onednnSymmetric: (b + 1)/2b of a gemm's flops for b blocks, 0.58 at
// 768 in bfloat16), which the planner counts at half cost like ssyrk
// (info().symmetricProductsAtHalfCost). Without oneDNN, OpenBLAS runs everything as before: ssyrk
// for XXᵀ and R², sgemm for the rest.
#include "products.h"

#include "parallel_for.h"

#include <cblas.h>
#include <cpuid.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#ifdef MUON_HAVE_ONEDNN
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace muon {
namespace {

// ssyrk writes only the upper triangle; mirror it so that gemm can read the full matrix. Tile by
// tile (32×32), so that the column-wise reads stay in cache: 3.6× faster than the plain double loop
// at 768×768 (169 vs 611 µs), where the plain loop cost 4% of a GPT-2-sized step.
void mirrorUpper(float* a, int n) {
  constexpr int kTile = 32;
  // Each (row j, column i < j) is written once, by the tile row ib holding column i.
  MUON_PARALLEL_FOR_IF(n >= 256)
  for (int ib = 0; ib < n; ib += kTile) {
    const int ie = std::min(ib + kTile, n);
    for (int jb = ib; jb < n; jb += kTile) {
      const int je = std::min(jb + kTile, n);
      for (int j = jb; j < je; ++j) {
        float* row = a + static_cast<size_t>(j) * n;
        for (int i = ib; i < ie && i < j; ++i) row[i] = a[static_cast<size_t>(i) * n + j];
      }
    }
  }
}

void openblasMultiply(int m, int n, int k, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
}

void openblasSymmetric(bool transposed, int m, int k, const float* x, float* c) {
  cblas_ssyrk(CblasRowMajor, CblasUpper, transposed ? CblasTrans : CblasNoTrans, m, k, 1.0f, x, transposed ? m : k, 0.0f, c, m);
  mirrorUpper(c, m);
}

bool cpuid(unsigned leaf, unsigned subleaf, unsigned& eax, unsigned& ebx, unsigned& ecx, unsigned& edx) {
  return __get_cpuid_count(leaf, subleaf, &eax, &ebx, &ecx, &edx) != 0;
}

// CPUID.(EAX=7,ECX=1):EAX[5] is AVX512_BF16; CPUID.(EAX=7,ECX=0):EDX[22] is AMX-BF16 (Intel SDM
// vol. 2A, CPUID). The CPU's flags only: whether the OS enabled the state is oneDNN's ISA check.
bool cpuHasAvx512Bf16() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return cpuid(7, 1, a, b, c, d) && (a & (1u << 5)) != 0;
}
bool cpuHasAmxBf16() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return cpuid(7, 0, a, b, c, d) && (d & (1u << 22)) != 0;
}

#ifdef MUON_HAVE_ONEDNN
using dnnl::memory;

dnnl::engine& cpuEngine() {
  static dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);  // never destroyed, like the pool
  return *engine;
}

// A stream per thread: oneDNN streams must not be shared between threads running at once.
dnnl::stream& threadStream() {
  thread_local dnnl::stream stream(cpuEngine());
  return stream;
}

// Products below this many flops run on the calling thread alone: splitting them saves nothing
// and exposes them to the other thread being descheduled. Measured here, bfloat16, 2 threads
// against 1 (medians of 11–51, idle machine): 128³ (4.2 MFLOP) 10–21 µs against 11, 128×512×128
// (16.8 MFLOP) 26 against 42 µs, 256×784×256 148 against 315 µs. While another process held a
// core, libgomp's spinning waits made 19 of 22 two-thread products from 64³ to 768³ take 8 ms
// each (the thread that finished first spins through the other's lost time slice);
// docs/performance.md, "OpenMP threads on a busy machine", has the numbers and what
// OMP_WAIT_POLICY=passive costs.
constexpr double kParallelMinFlops = 8e6;

// Sets the calling thread's OpenMP thread count to 1 for its lifetime when `flops` is below
// kParallelMinFlops (oneDNN sizes its parallel regions, and keys its primitive cache, by it).
class SmallProductThreads {
 public:
  explicit SmallProductThreads(double flops) : saved_(omp_get_max_threads()) {
    if (flops < kParallelMinFlops && saved_ > 1) omp_set_num_threads(1);
  }
  ~SmallProductThreads() { omp_set_num_threads(saved_); }
  SmallProductThreads(const SmallProductThreads&) = delete;
  SmallProductThreads& operator=(const SmallProductThreads&) = delete;

 private:
  int saved_;
};

// c (m×n, row-major f32) = a·b, a m×k and b k×n in `type`, each given by its element strides (so
// that a transpose is a stride, never a copy). Primitive creation hits oneDNN's primitive cache
// after the first call per shape (≈ 2 µs measured, against ≥ 60 µs for the smallest product here).
// `ldc` is c's row stride (n for a whole matrix; larger for a block of a bigger one).
void onednnMatmul(memory::data_type type, int m, int n, int k, const void* a, memory::dims aStrides, const void* b, memory::dims bStrides, float* c, int ldc) {
  const memory::desc aDesc({m, k}, type, aStrides);
  const memory::desc bDesc({k, n}, type, bStrides);
  const memory::desc cDesc({m, n}, memory::data_type::f32, memory::dims{ldc, 1});
  const SmallProductThreads threads(2.0 * m * n * k);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(aDesc, bDesc, cDesc), cpuEngine());
  const dnnl::matmul product(pd);
  dnnl::engine& engine = cpuEngine();
  dnnl::stream& stream = threadStream();
  product.execute(stream, {{DNNL_ARG_SRC, memory(aDesc, engine, const_cast<void*>(a))},
                           {DNNL_ARG_WEIGHTS, memory(bDesc, engine, const_cast<void*>(b))},
                           {DNNL_ARG_DST, memory(cDesc, engine, c)}});
  stream.wait();
}

// c (m×m, row-major f32) = x·xᵀ (x m×k) or, `transposed`, xᵀ·x (x k×m), x in `type`. oneDNN has no
// syrk, so the upper triangle is computed in block rows, C[i:i+h, i:m] = X[i:i+h]·X[i:m]ᵀ, and
// mirrored: (m/h + 1)/(2m/h) of a full gemm's flops. Block heights measured here (2 threads; the
// probe timed x·xᵀ alone, medians of 9–21): bfloat16 h = 128, 768×3072 3.66 ms against 5.48 ms for
// the full gemm (0.67×), 768×768 0.89 vs 1.52 ms, 512×2048 1.22 vs 1.63, 1024×4096 8.8 vs 13.7;
// float32 h = 192, 768×2304 5.70 vs 7.93 ms, 512×2048 3.03 vs 3.84, 768×768 (h = 192) 1.76 vs 2.64.
// Smaller blocks lose (h = 64: 0.7–1.5× the full gemm's time); at m ≤ h one full gemm runs.
void onednnSymmetric(memory::data_type type, bool transposed, int m, int k, const void* x, float* c) {
  const int blockRows = type == memory::data_type::bf16 ? 128 : 192;
  const size_t elementBytes = type == memory::data_type::bf16 ? 2 : 4;
  const auto* bytes = static_cast<const char*>(x);
  // x·xᵀ: rows [i, i+h) of x (strides {k, 1}) times the transpose of rows [i, m) (strides {1, k});
  // xᵀ·x: columns [i, i+h) of x transposed (strides {1, m}) times columns [i, m) (strides {m, 1}).
  const memory::dims aStrides = transposed ? memory::dims{1, m} : memory::dims{k, 1};
  const memory::dims bStrides = transposed ? memory::dims{m, 1} : memory::dims{1, k};
  if (m <= blockRows) {
    onednnMatmul(type, m, m, k, x, aStrides, x, bStrides, c, m);
    return;
  }
  for (int i = 0; i < m; i += blockRows) {
    const int rows = std::min(blockRows, m - i);
    const void* start = bytes + (transposed ? static_cast<size_t>(i) : static_cast<size_t>(i) * k) * elementBytes;
    onednnMatmul(type, rows, m - i, k, start, aStrides, start, bStrides, c + static_cast<size_t>(i) * m + i, m);
  }
  mirrorUpper(c, m);
}

// float32 → bfloat16, rounded to nearest even (as oneDNN's reorders and torch's .bfloat16() do):
// add half an ulp of the kept 8-bit significand, plus one when the kept part is odd, and truncate.
// NaN stays NaN (a quiet one); ±inf and overflow to ±inf behave as in IEEE rounding. Branch-free,
// so that the loop below vectorizes.
inline uint16_t toBfloat16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  const uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  const uint32_t quietNan = (bits >> 16) | 0x40u;
  return static_cast<uint16_t>((bits & 0x7fffffffu) > 0x7f800000u ? quietNan : rounded);
}

// Compiled for AVX-512 (bfloat16 products only run where oneDNN reports avx512_core_bf16 or AMX,
// both of which include AVX512F/BW): the same exact rounding, 16 lanes at a time; 1.5–2.6× the
// baseline x86-64 build of the loop on 768×3072 (measured here, loaded machine).
__attribute__((target("avx512f,avx512bw"))) void toBfloat16(const float* in, size_t count, uint16_t* out) {
  for (size_t i = 0; i < count; ++i) out[i] = toBfloat16(in[i]);
}

// In chunks of 64 Ki values over the team: each rounds its own range, so the split changes
// nothing in the result.
void toBfloat16(const float* in, size_t count, std::vector<uint16_t>& out) {
  if (out.size() < count) out.resize(count);
  constexpr size_t kChunk = size_t{1} << 16;
  const long long chunks = static_cast<long long>((count + kChunk - 1) / kChunk);
  uint16_t* data = out.data();
  MUON_PARALLEL_FOR_IF(chunks > 1)
  for (long long chunk = 0; chunk < chunks; ++chunk) {
    const size_t begin = static_cast<size_t>(chunk) * kChunk;
    toBfloat16(in + begin, std::min(kChunk, count - begin), data + begin);
  }
}

// The bfloat16 copies of the operands, one set per thread, reused across calls; `held` is the
// operand kept by `symmetricProduct(…, hold = true)` (see Held in products.h).
struct Bfloat16Operands {
  std::vector<uint16_t> a, b, held;
};
Bfloat16Operands& operands() {
  thread_local Bfloat16Operands buffers;
  return buffers;
}

bool onednnHasBfloat16() {
  // The ISA values are feature masks (dnnl_types.h): AMX's includes avx512_core_bf16's bits.
  const unsigned bf16 = static_cast<unsigned>(dnnl_cpu_isa_avx512_core_bf16);
  return (static_cast<unsigned>(dnnl::get_effective_cpu_isa()) & bf16) == bf16;
}

const char* isaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}
#endif

// Guards OpenBLAS's process-wide thread count (OpenBlasThreads in products.h).
std::mutex& openBlasMutex() {
  static std::mutex mutex;
  return mutex;
}

void requireSupported(Precision precision) {
  if (!supports(precision)) throw std::runtime_error("bfloat16 products need oneDNN (libdnnl-dev at build time) and a CPU with AVX512-BF16 or AMX-BF16");
}

}  // namespace

void multiply(Precision precision, int m, int n, int k, const float* a, const float* b, float* c, [[maybe_unused]] Held held) {
  if (precision == Precision::kFloat32OpenBlas) {
    openblasMultiply(m, n, k, a, b, c);
    return;
  }
#ifdef MUON_HAVE_ONEDNN
  const memory::dims aStrides{k, 1};
  const memory::dims bStrides{n, 1};
  if (precision == Precision::kBfloat16) {
    requireSupported(precision);
    Bfloat16Operands& ops = operands();
    if (held != Held::kLeft) toBfloat16(a, static_cast<size_t>(m) * k, ops.a);
    if (held != Held::kRight) toBfloat16(b, static_cast<size_t>(k) * n, ops.b);
    const uint16_t* left = held == Held::kLeft ? ops.held.data() : ops.a.data();
    const uint16_t* right = held == Held::kRight ? ops.held.data() : ops.b.data();
    onednnMatmul(memory::data_type::bf16, m, n, k, left, aStrides, right, bStrides, c, n);
    return;
  }
  onednnMatmul(memory::data_type::f32, m, n, k, a, aStrides, b, bStrides, c, n);
#else
  requireSupported(precision);
  openblasMultiply(m, n, k, a, b, c);
#endif
}

void symmetricProduct(Precision precision, bool transposed, int m, int k, const float* x, float* c, [[maybe_unused]] bool hold) {
  if (precision == Precision::kFloat32OpenBlas) {
    openblasSymmetric(transposed, m, k, x, c);
    return;
  }
#ifdef MUON_HAVE_ONEDNN
  if (precision == Precision::kBfloat16) {
    requireSupported(precision);
    std::vector<uint16_t>& xb = hold ? operands().held : operands().a;
    toBfloat16(x, static_cast<size_t>(m) * k, xb);
    onednnSymmetric(memory::data_type::bf16, transposed, m, k, xb.data(), c);
    return;
  }
  onednnSymmetric(memory::data_type::f32, transposed, m, k, x, c);
#else
  requireSupported(precision);
  openblasSymmetric(transposed, m, k, x, c);
#endif
}

bool supports(Precision precision) {
  if (precision != Precision::kBfloat16) return true;
#ifdef MUON_HAVE_ONEDNN
  return onednnHasBfloat16();
#else
  return false;
#endif
}

void useThreads([[maybe_unused]] int count) {
#ifdef MUON_HAVE_ONEDNN
  omp_set_num_threads(std::max(1, count));
#endif
}

int defaultThreads() {
  // Read once, before any OpenBlasThreads has set it, so that every copy starts from OpenBLAS's own choice.
  static const int count = std::max(1, openblas_get_num_threads());
  return count;
}

bool runsInOpenBlas(Precision precision) {
#ifdef MUON_HAVE_ONEDNN
  return precision == Precision::kFloat32OpenBlas;
#else
  return precision != Precision::kBfloat16;
#endif
}

OpenBlasThreads::OpenBlasThreads(int count) : lock_(openBlasMutex()), found_(openblas_get_num_threads()) { set(count); }

OpenBlasThreads::~OpenBlasThreads() { set(found_); }

void OpenBlasThreads::set(int count) { openblas_set_num_threads(std::max(1, count)); }

EngineDescription describe() {
  EngineDescription d;
  d.blas = openblas_get_config();
  d.avx512Bf16 = cpuHasAvx512Bf16();
  d.amxBf16 = cpuHasAmxBf16();
#ifdef MUON_HAVE_ONEDNN
  const dnnl_version_t* v = dnnl_version();
  d.onednn = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) + " (" + isaName(dnnl::get_effective_cpu_isa()) + ")";
  d.float32Products = "oneDNN matmul (XXᵀ and R² as block rows of one triangle)";
  d.symmetricProductsAtHalfCost = true;
  d.bfloat16Products = onednnHasBfloat16() ? "oneDNN matmul, bfloat16 operands, float32 accumulation"
                                           : "unavailable: oneDNN's effective ISA has no bfloat16 dot products";
#else
  d.float32Products = "OpenBLAS (ssyrk for XXᵀ and R², sgemm for the rest)";
  d.symmetricProductsAtHalfCost = true;
  d.bfloat16Products = "unavailable: built without oneDNN (libdnnl-dev)";
#endif
  return d;
}

}  // namespace muon
