// A whole Muon step in one call (the `muonStep` export): momentum EMA, Nesterov look-ahead,
// Newton–Schulz through muon_native.cc's engine (orthogonalize_engine.h), shape scale, weight decay
// and the parameter update, for every Muon variable of an optimizer step.
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
// All-or-nothing: it writes only into the caller's `newParams` and `newMomenta` (fresh tensors the
// caller commits after reading the returned flags) and its own scratch; the parameters and momenta
// it is given are only read. The flags say, per variable, whether the gradient, the new momentum
// and the new parameter are finite: the adapter's finiteness check, done here during the passes
// that compute the values instead of as extra TF.js ops over them.
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "orthogonalize_engine.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

namespace {

// Bits of the returned flags (FUSED_STEP_FLAGS in src/kernels/nativeMuonStep.ts).
constexpr uint8_t kNonFiniteGradient = 1;
constexpr uint8_t kNonFiniteMomentum = 2;
constexpr uint8_t kNonFiniteParam = 4;

// True when the float32 bit pattern has the all-ones exponent of NaN and ±Inf. An integer OR over
// a loop, which the compiler vectorizes (a float comparison reduction it would not, without
// -ffast-math).
inline uint32_t nonFiniteBits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
}

// One variable of the step, as raw buffers owned by JavaScript typed arrays that outlive the call.
struct Variable {
  const float* param;
  const float* grad;
  const float* momentum;
  float* newParam;
  float* newMomentum;
  size_t size;
  float shapeScale;
};

// Momentum EMA over elements [begin, end) and, with Nesterov, the look-ahead into `lookAhead`, in
// one pass. Returns the non-finite flags of the gradient and of the new momentum.
template <bool kNesterov>
uint8_t momentumPass(const Variable& v, size_t begin, size_t end, float beta, float oneMinusBeta, float* lookAhead) {
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

// p' = p + (O·s + decay(p)·wd)·(−lr) over elements [begin, end), reading O from `newParam` (where
// Newton–Schulz wrote it) and overwriting it. Returns kNonFiniteParam when some p' is NaN or ±Inf.
uint8_t updatePass(const Variable& v, size_t begin, size_t end, float negativeLearningRate, bool decays, float weightDecay, bool cautious) {
  uint32_t bad = 0;
  for (size_t k = begin; k < end; ++k) {
    const float p = v.param[k];
    float u = v.newParam[k] * v.shapeScale;
    if (decays) {
      const float decay = cautious ? p * (u * p >= 0.0f ? 1.0f : 0.0f) : p;
      u = u + decay * weightDecay;
    }
    const float next = p + u * negativeLearningRate;
    v.newParam[k] = next;
    bad |= nonFiniteBits(next);
  }
  return bad != 0 ? kNonFiniteParam : 0;
}

// Runs `pass(begin, end)` over [0, size) in contiguous chunks, one per thread of the addon copy's
// `threadCount` (these passes are memory-bound: a second core's bandwidth halves them), and ORs
// their flags. Small arrays run on the caller alone, where starting a thread would cost more than it saves.
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

std::vector<double> readFloat64(const Napi::Value& value, const char* what) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a Float64Array");
  }
  Napi::Float64Array array = value.As<Napi::Float64Array>();
  return std::vector<double>(array.Data(), array.Data() + array.ElementLength());
}

std::vector<int> readInt32(const Napi::Value& value, const char* what) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be an Int32Array");
  }
  Napi::Int32Array array = value.As<Napi::Int32Array>();
  return std::vector<int>(array.Data(), array.Data() + array.ElementLength());
}

// The Float32Array `arrays[i]` of exactly `size` elements, or a TypeError naming it.
Napi::Float32Array float32At(const Napi::Array& arrays, uint32_t i, size_t size, const char* what) {
  Napi::Value value = arrays.Get(i);
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
      value.As<Napi::Float32Array>().ElementLength() != size) {
    throw Napi::TypeError::New(arrays.Env(), std::string(what) + "[" + std::to_string(i) + "] must be a Float32Array of rows × cols = " + std::to_string(size) + " numbers");
  }
  return value.As<Napi::Float32Array>();
}

}  // namespace

// muonStep(params, grads, momenta, newParams, newMomenta: Float32Array[],
//          shapes: Int32Array [rows0, cols0, …], plans: Int32Array [algorithm0, transposed0, …],
//          flops: Float64Array, shapeScales: Float64Array, coefficients: Float64Array [a0, b0, c0, …],
//          normalizationScale: number, eps: number, restartAfter: Int32Array,
//          hyper: Float64Array [β, nesterov (0/1), lr, wd (this step's decay, 0 for none), cautious (0/1)]
//          [, precision: 0 float32 | 1 bfloat16 | 2 float32 via OpenBLAS, as `orthogonalize`'s]
//          [, normalization: 0 Frobenius | 1 AOL, as `orthogonalize`'s])
//   → Uint8Array of flags per variable (1: non-finite gradient, 2: new momentum, 4: new parameter)
Napi::Value muon_native::MuonStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 14 || info.Length() > 16 || !info[0].IsArray() || !info[1].IsArray() || !info[2].IsArray() || !info[3].IsArray() || !info[4].IsArray() ||
      !info[10].IsNumber() || !info[11].IsNumber()) {
    throw Napi::TypeError::New(env,
                               "muonStep(params, grads, momenta, newParams, newMomenta, shapes, plans, flops, shapeScales, coefficients, normalizationScale, eps, restartAfter, hyper[, precision][, normalization])");
  }
  Napi::Array params = info[0].As<Napi::Array>();
  Napi::Array grads = info[1].As<Napi::Array>();
  Napi::Array momenta = info[2].As<Napi::Array>();
  Napi::Array newParams = info[3].As<Napi::Array>();
  Napi::Array newMomenta = info[4].As<Napi::Array>();
  const std::vector<int> shapes = readInt32(info[5], "shapes");
  const std::vector<int> plans = readInt32(info[6], "plans");
  const std::vector<double> flops = readFloat64(info[7], "flops");
  const std::vector<double> shapeScales = readFloat64(info[8], "shapeScales");
  EngineSchedule schedule{readFloat64(info[9], "coefficients"), info[10].As<Napi::Number>().DoubleValue(), info[11].As<Napi::Number>().DoubleValue(),
                          readInt32(info[12], "restartAfter"), precisionArgument(info[14], "muonStep"), normalizationArgument(info[15], "muonStep")};
  const std::vector<double> hyper = readFloat64(info[13], "hyper");
  const uint32_t count = params.Length();
  if (grads.Length() != count || momenta.Length() != count || newParams.Length() != count || newMomenta.Length() != count) {
    throw Napi::RangeError::New(env, "params, grads, momenta, newParams and newMomenta must hold one array per variable");
  }
  if (shapes.size() != 2 * static_cast<size_t>(count) || plans.size() != 2 * static_cast<size_t>(count) || flops.size() != count || shapeScales.size() != count) {
    throw Napi::RangeError::New(env, "shapes and plans must hold two numbers per variable, flops and shapeScales one");
  }
  if (schedule.coefficients.empty() || schedule.coefficients.size() % 3 != 0) {
    throw Napi::RangeError::New(env, "coefficients must hold one (a, b, c) triple per iteration");
  }
  if (hyper.size() != 5) throw Napi::RangeError::New(env, "hyper must be [beta, nesterov, learningRate, weightDecay, cautious]");
  // Scalars as TF.js rounds a JavaScript number into a float32 scalar tensor.
  const float beta = static_cast<float>(hyper[0]);
  const float oneMinusBeta = static_cast<float>(1.0 - hyper[0]);
  const bool nesterov = hyper[1] != 0.0;
  const float negativeLearningRate = static_cast<float>(-hyper[2]);
  const bool decays = hyper[3] != 0.0;  // addDecayedWeights skips a decay of exactly 0
  const float weightDecay = static_cast<float>(hyper[3]);
  const bool cautious = hyper[4] != 0.0;

  // Everything JavaScript-facing happens here, on the main thread; the engine sees raw buffers.
  std::vector<Variable> variables;
  variables.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const int rows = shapes[2 * i];
    const int cols = shapes[2 * i + 1];
    const int algorithm = plans[2 * i];
    const int transposed = plans[2 * i + 1];
    if (rows < 1 || cols < 1) throw Napi::RangeError::New(env, "shapes[" + std::to_string(2 * i) + ", " + std::to_string(2 * i + 1) + "] must be positive");
    if ((algorithm != 0 && algorithm != 1) || (transposed != 0 && transposed != 1)) {
      throw Napi::RangeError::New(env, "plans[" + std::to_string(2 * i) + ", " + std::to_string(2 * i + 1) + "] must be an algorithm (0 plain, 1 Gram) and 0 or 1");
    }
    const size_t size = static_cast<size_t>(rows) * cols;
    variables.push_back({float32At(params, i, size, "params").Data(), float32At(grads, i, size, "grads").Data(), float32At(momenta, i, size, "momenta").Data(),
                         float32At(newParams, i, size, "newParams").Data(), float32At(newMomenta, i, size, "newMomenta").Data(), size,
                         static_cast<float>(shapeScales[i])});
  }

  // The calling worker's own copy (addon_instance.h): another worker's steps never write here.
  AddonInstance& addon = addonInstance(env);
  std::vector<std::vector<float>>& scratch = addon.lookAhead;
  if (nesterov && scratch.size() < count) scratch.resize(count);
  Napi::Uint8Array flags = Napi::Uint8Array::New(env, count);
  std::vector<PlannedMatrix> matrices;
  matrices.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const Variable& v = variables[i];
    float* lookAhead = nullptr;
    if (nesterov) {
      if (scratch[i].size() < v.size) scratch[i].resize(v.size);
      lookAhead = scratch[i].data();
    }
    flags[i] = inChunks(v.size, addon.threads, [&](size_t begin, size_t end) {
      return nesterov ? momentumPass<true>(v, begin, end, beta, oneMinusBeta, lookAhead) : momentumPass<false>(v, begin, end, beta, oneMinusBeta, nullptr);
    });
    // Newton–Schulz writes O into newParam, which the update pass then turns into p' in place.
    matrices.push_back({nesterov ? lookAhead : v.newMomentum, v.newParam, shapes[2 * i], shapes[2 * i + 1], plans[2 * i], plans[2 * i + 1] == 1, flops[i]});
  }
  const std::string failure = orthogonalizePlanned(addon, matrices, schedule);
  if (!failure.empty()) throw Napi::Error::New(env, "muonStep failed: " + failure);
  for (uint32_t i = 0; i < count; ++i) {
    const Variable& v = variables[i];
    flags[i] = flags[i] | inChunks(v.size, addon.threads, [&](size_t begin, size_t end) { return updatePass(v, begin, end, negativeLearningRate, decays, weightDecay, cautious); });
  }
  return flags;
}
