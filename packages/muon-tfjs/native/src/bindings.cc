// The N-API face of the engine, and nothing else: each export checks JavaScript's arguments, turns
// them into the engine's plain structs (newton_schulz.h, fused_muon_step.h, fused_dion2_step.h,
// fused_adam_step.h, gram_spectrum.h) and calls it. `orthogonalize`, `muonStep`, `dion2Step` and
// `adamStep` take one options object each, whose fields are listed once below (kOrthogonalizeFields,
// kMuonStepFields, kDion2StepFields, kAdamStepFields): the reader refuses a field not listed, a
// missing one and one of the wrong type, naming it, and info().interface publishes the lists, which
// src/kernels/nativeAddon.ts compares with its own at load (a build of another interface is
// reported stale instead of being called with arguments it would misread).
//
// Everything JavaScript-facing happens here, on the caller's thread, before the engine runs: the
// engine sees raw buffers owned by JavaScript typed arrays that outlive the call. A refused call has
// written nothing. On the wasm backend the caller passes views of the wasm heap: inputs are read
// and outputs written in place, so a step copies nothing between JavaScript and native memory.
//
// Worker threads: each one that loads the addon has its own Engine (N-API instance data, made in
// Init and deleted when that worker's environment ends), whereas C++ statics are shared by every
// thread of the process: state a call writes lives in the Engine or in thread_local scratch.
#include <napi.h>
#include <cblas.h>

#include "engine.h"
#include "fused_adam_step.h"
#include "fused_dion2_step.h"
#include "fused_muon_step.h"
#include "gram_spectrum.h"
#include "newton_schulz.h"
#include "products.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using muon::Algorithm;
using muon::Normalization;
using muon::Precision;

muon::Engine& engineOf(Napi::Env env) { return *env.GetInstanceData<muon::Engine>(); }

// One field of an export's options object: its name and what JavaScript passes, as
// NativeOrthogonalizeOptions and NativeMuonStepOptions in src/kernels/nativeAddon.ts spell it.
// A name ending in `?` may be left undefined. Codes list their values (NATIVE_*_CODES there).
struct Field {
  const char* name;
  const char* type;
};

constexpr const char* kPrecisionCodes = "float32=0|bfloat16=1|openblasFloat32=2";
constexpr const char* kNormalizationCodes = "frobenius=0|aol=1";

// The plan of every matrix and the resolved schedule: the fields orthogonalize and muonStep share.
#define MUON_PLAN_AND_SCHEDULE_FIELDS                                                                            \
  {"shapes", "Int32Array"}, {"plans", "Int32Array"}, {"flops", "Float64Array"}, {"coefficients", "Float64Array"}, \
      {"normalizationScale", "number"}, {"eps", "number"}, {"restartAfter", "Int32Array"}, {"precision", kPrecisionCodes}, \
      {"normalization", kNormalizationCodes}

// orthogonalize({ inputs, outputs?, shapes: [r0, c0, r1, c1, …], plans: [algorithm0, transposed0, …],
//                 flops: [flops0, …], coefficients: [a0, b0, c0, a1, …], normalizationScale, eps,
//                 restartAfter, precision, normalization }) → Float32Array[]
const std::vector<Field> kOrthogonalizeFields = {{"inputs", "Float32Array[]"}, {"outputs?", "Float32Array[]"}, MUON_PLAN_AND_SCHEDULE_FIELDS};

// muonStep({ params, grads, momenta, newParams, newMomenta, momentumDtype, …the plan and schedule…,
//            shapeScales, beta, nesterov, learningRate, weightDecay, cautious }) → Uint8Array of flags
// per variable. The momenta are Float32Arrays of their variable's size under momentumDtype float32,
// Int32Arrays of ceil(size / 2) words of packed bfloat16 (bfloat16_storage.h) under bfloat16.
constexpr const char* kMomentumDtypeCodes = "float32=0|bfloat16=1";
constexpr const char* kMomentaType = "Float32Array[]|Int32Array[]";
constexpr const char* kMomentaWhat = "an array of Float32Arrays (momentumDtype float32) or Int32Arrays (bfloat16)";
const std::vector<Field> kMuonStepFields = {{"params", "Float32Array[]"}, {"grads", "Float32Array[]"}, {"momenta", kMomentaType},
                                            {"newParams", "Float32Array[]"}, {"newMomenta", kMomentaType}, {"momentumDtype", kMomentumDtypeCodes},
                                            MUON_PLAN_AND_SCHEDULE_FIELDS,
                                            {"shapeScales", "Float64Array"}, {"beta", "number"}, {"nesterov", "boolean"},
                                            {"learningRate", "number"}, {"weightDecay", "number"}, {"cautious", "boolean"}};

// dion2Step({ params, grads, momenta, newParams, newMomenta, variableShapes: [rows0, cols0, …],
//             selections: [side0 (0 rows, 1 columns), k0, …], …the plan of each selected k × long
//             submatrix and the schedule…, shapeScales, errorFeedbackDecay, normsInFloat64,
//             learningRate, weightDecay, cautious }) → Uint8Array of flags per variable
const std::vector<Field> kDion2StepFields = {{"params", "Float32Array[]"}, {"grads", "Float32Array[]"}, {"momenta", "Float32Array[]"},
                                             {"newParams", "Float32Array[]"}, {"newMomenta", "Float32Array[]"}, {"variableShapes", "Int32Array"},
                                             {"selections", "Int32Array"}, MUON_PLAN_AND_SCHEDULE_FIELDS, {"shapeScales", "Float64Array"},
                                             {"errorFeedbackDecay", "number"}, {"normsInFloat64", "boolean"}, {"learningRate", "number"},
                                             {"weightDecay", "number"}, {"cautious", "boolean"}};
#undef MUON_PLAN_AND_SCHEDULE_FIELDS

// adamStep({ params, grads, firstMoments, secondMoments, newParams, newFirstMoments, newSecondMoments,
//            beta1, beta2, epsilon, correction1, correction2, learningRate, weightDecay, cautious })
//   → Uint8Array of flags per variable
const std::vector<Field> kAdamStepFields = {{"params", "Float32Array[]"}, {"grads", "Float32Array[]"}, {"firstMoments", "Float32Array[]"},
                                            {"secondMoments", "Float32Array[]"}, {"newParams", "Float32Array[]"}, {"newFirstMoments", "Float32Array[]"},
                                            {"newSecondMoments", "Float32Array[]"}, {"beta1", "number"}, {"beta2", "number"},
                                            {"epsilon", "number"}, {"correction1", "number"}, {"correction2", "number"},
                                            {"learningRate", "number"}, {"weightDecay", "number"}, {"cautious", "boolean"}};

// Reads an export's options object against its field list. Every read names a listed field with
// its listed type (a mismatch is this file's bug, reported as such); every error names the export
// and the field.
class Options {
 public:
  Options(const Napi::CallbackInfo& info, std::string caller, const std::vector<Field>& fields) : env_(info.Env()), caller_(std::move(caller)), fields_(fields) {
    if (info.Length() != 1 || !info[0].IsObject() || info[0].IsArray() || info[0].IsTypedArray()) {
      throw Napi::TypeError::New(env_, caller_ + " takes one options object { " + names() + " }");
    }
    object_ = info[0].As<Napi::Object>();
    const Napi::Array keys = object_.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); ++i) {
      const std::string key = keys.Get(i).ToString().Utf8Value();
      if (find(key) == nullptr) throw Napi::TypeError::New(env_, caller_ + ": unknown option '" + key + "' (it takes " + names() + ")");
    }
  }

  const std::string& caller() const { return caller_; }

  Napi::Array arrays(const char* name, const char* type = "Float32Array[]", const char* what = "an array of Float32Arrays") {
    return value(name, type, [](const Napi::Value& v) { return v.IsArray(); }, what).As<Napi::Array>();
  }
  bool has(const char* name) { return !value(name, "Float32Array[]", nullptr, nullptr).IsUndefined(); }
  std::vector<int> int32s(const char* name) {
    Napi::Int32Array array = value(name, "Int32Array", [](const Napi::Value& v) { return isTyped(v, napi_int32_array); }, "an Int32Array").As<Napi::Int32Array>();
    return std::vector<int>(array.Data(), array.Data() + array.ElementLength());
  }
  std::vector<double> float64s(const char* name) {
    Napi::Float64Array array = value(name, "Float64Array", [](const Napi::Value& v) { return isTyped(v, napi_float64_array); }, "a Float64Array").As<Napi::Float64Array>();
    return std::vector<double>(array.Data(), array.Data() + array.ElementLength());
  }
  double number(const char* name) {
    return value(name, "number", [](const Napi::Value& v) { return v.IsNumber() && std::isfinite(v.As<Napi::Number>().DoubleValue()); }, "a finite number")
        .As<Napi::Number>()
        .DoubleValue();
  }
  bool boolean(const char* name) { return value(name, "boolean", [](const Napi::Value& v) { return v.IsBoolean(); }, "a boolean").As<Napi::Boolean>().Value(); }
  // A code field: a number, any value (the caller checks which codes it knows, with its own message).
  Napi::Value code(const char* name, const char* codes) { return value(name, codes, nullptr, nullptr); }

  Napi::Error rangeError(const std::string& message) const { return Napi::RangeError::New(env_, caller_ + ": " + message); }
  Napi::Error typeError(const std::string& message) const { return Napi::TypeError::New(env_, caller_ + ": " + message); }

 private:
  static bool isTyped(const Napi::Value& v, napi_typedarray_type type) { return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == type; }

  const Field* find(const std::string& key) const {
    for (const Field& field : fields_) {
      std::string name = field.name;
      if (!name.empty() && name.back() == '?') name.pop_back();
      if (name == key) return &field;
    }
    return nullptr;
  }

  std::string names() const {
    std::string list;
    for (const Field& field : fields_) list += (list.empty() ? "" : ", ") + std::string(field.name);
    return list;
  }

  // The field `name`, of listed type `type`, checked by `valid` (described as `what`) unless
  // undefined where the field is optional; nullptr `valid` takes any value.
  template <typename Check>
  Napi::Value value(const char* name, const char* type, Check valid, const char* what) {
    const Field* field = find(name);
    if (field == nullptr || std::strcmp(field->type, type) != 0) throw Napi::Error::New(env_, caller_ + ": bindings.cc reads '" + name + "' as " + type + ", which its field list does not say");
    Napi::Value v = object_.Get(name);
    const bool optional = std::string(field->name).back() == '?';
    if (v.IsUndefined() && optional) return v;
    if (v.IsUndefined() && what != nullptr) throw Napi::TypeError::New(env_, caller_ + ": options." + name + " is missing (" + what + ")");
    if constexpr (!std::is_same_v<Check, std::nullptr_t>) {
      if (!valid(v)) throw Napi::TypeError::New(env_, caller_ + ": options." + name + " must be " + what + ", got " + v.ToString().Utf8Value());
    }
    return v;
  }

  Napi::Env env_;
  std::string caller_;
  const std::vector<Field>& fields_;
  Napi::Object object_;
};

// The `normalization` field (NATIVE_NORMALIZATION_CODES).
Normalization normalizationField(Options& options) {
  const Napi::Value value = options.code("normalization", kNormalizationCodes);
  if (!value.IsNumber()) throw options.typeError("normalization must be a number (0 Frobenius, 1 AOL)");
  const double code = value.As<Napi::Number>().DoubleValue();
  if (code != 0 && code != 1) throw options.rangeError("normalization must be 0 (Frobenius) or 1 (AOL), got " + value.ToString().Utf8Value());
  return static_cast<Normalization>(static_cast<int>(code));
}

// The `precision` field (NATIVE_PRECISION_CODES): a TypeError for a non-number, a RangeError for an
// unknown code, an Error saying why for a precision that cannot run here (bfloat16 without oneDNN
// or without bfloat16 dot products). Read before anything is written, so a refused call leaves
// every output untouched.
Precision precisionField(Options& options) {
  const Napi::Value value = options.code("precision", kPrecisionCodes);
  if (!value.IsNumber()) throw options.typeError("precision must be a number (0 float32, 1 bfloat16, 2 float32 through OpenBLAS)");
  const double code = value.As<Napi::Number>().DoubleValue();
  if (code != 0 && code != 1 && code != 2) throw options.rangeError("precision must be 0 (float32), 1 (bfloat16) or 2 (float32 through OpenBLAS), got " + value.ToString().Utf8Value());
  const Precision precision = static_cast<Precision>(static_cast<int>(code));
  if (!muon::supports(precision)) throw Napi::Error::New(value.Env(), options.caller() + ": bfloat16 is " + muon::describe().bfloat16Products);
  return precision;
}

muon::Schedule scheduleFields(Options& options) {
  const std::vector<double> coefficients = options.float64s("coefficients");
  if (coefficients.empty() || coefficients.size() % 3 != 0) throw options.rangeError("coefficients must hold one (a, b, c) triple per iteration");
  muon::Schedule schedule;
  for (size_t i = 0; i < coefficients.size(); i += 3) schedule.iterations.push_back({coefficients[i], coefficients[i + 1], coefficients[i + 2]});
  schedule.normalizationScale = options.number("normalizationScale");
  schedule.eps = options.number("eps");
  schedule.restartAfter = options.int32s("restartAfter");
  schedule.precision = precisionField(options);
  schedule.normalization = normalizationField(options);
  return schedule;
}

// The plans of `count` matrices: shapes [rows, cols], plans [algorithm, transposed] and flops.
struct Plans {
  std::vector<int> shapes, plans;
  std::vector<double> flops;
  int rows(size_t i) const { return shapes[2 * i]; }
  int cols(size_t i) const { return shapes[2 * i + 1]; }
  size_t size(size_t i) const { return static_cast<size_t>(rows(i)) * cols(i); }
  Algorithm algorithm(size_t i) const { return static_cast<Algorithm>(plans[2 * i]); }
  bool transposed(size_t i) const { return plans[2 * i + 1] == 1; }
};

Plans planFields(Options& options, size_t count, const char* per) {
  Plans p{options.int32s("shapes"), options.int32s("plans"), options.float64s("flops")};
  if (p.shapes.size() != 2 * count) throw options.rangeError(std::string("shapes must hold two numbers per ") + per);
  if (p.plans.size() != 2 * count) throw options.rangeError(std::string("plans must hold two numbers per ") + per);
  if (p.flops.size() != count) throw options.rangeError(std::string("flops must hold one number per ") + per);
  for (size_t i = 0; i < count; ++i) {
    const std::string pair = "[" + std::to_string(2 * i) + ", " + std::to_string(2 * i + 1) + "]";
    if (p.rows(i) < 1 || p.cols(i) < 1) throw options.rangeError("shapes" + pair + " must be positive");
    const int algorithm = p.plans[2 * i];
    const int transposed = p.plans[2 * i + 1];
    if ((algorithm != 0 && algorithm != 1) || (transposed != 0 && transposed != 1)) {
      throw options.rangeError("plans" + pair + " must be an algorithm (0 plain, 1 Gram) and 0 or 1");
    }
  }
  return p;
}

// The Float32Array `arrays[i]` of exactly `size` elements, or a TypeError naming it.
Napi::Float32Array float32At(Options& options, const Napi::Array& arrays, uint32_t i, size_t size, const char* what) {
  Napi::Value value = arrays.Get(i);
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array || value.As<Napi::Float32Array>().ElementLength() != size) {
    throw options.typeError(std::string(what) + "[" + std::to_string(i) + "] must be a Float32Array of " + std::to_string(size) + " numbers (its variable's size)");
  }
  return value.As<Napi::Float32Array>();
}

// The Int32Array `arrays[i]` of exactly `words` elements, or a TypeError naming it.
Napi::Int32Array int32At(Options& options, const Napi::Array& arrays, uint32_t i, size_t words, const char* what) {
  Napi::Value value = arrays.Get(i);
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array || value.As<Napi::Int32Array>().ElementLength() != words) {
    throw options.typeError(std::string(what) + "[" + std::to_string(i) + "] must be an Int32Array of " + std::to_string(words) +
                            " words (its variable's size in bfloat16, two per word)");
  }
  return value.As<Napi::Int32Array>();
}

// The `momentumDtype` field (NATIVE_MOMENTUM_DTYPE_CODES).
muon::MomentumDtype momentumDtypeField(Options& options) {
  const Napi::Value value = options.code("momentumDtype", kMomentumDtypeCodes);
  if (!value.IsNumber()) throw options.typeError("momentumDtype must be a number (0 float32, 1 bfloat16)");
  const double code = value.As<Napi::Number>().DoubleValue();
  if (code != 0 && code != 1) throw options.rangeError("momentumDtype must be 0 (float32) or 1 (bfloat16), got " + value.ToString().Utf8Value());
  return static_cast<muon::MomentumDtype>(static_cast<int>(code));
}

Napi::Value Orthogonalize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Options options(info, "orthogonalize", kOrthogonalizeFields);
  Napi::Array inputs = options.arrays("inputs");
  const bool into = options.has("outputs");
  const uint32_t count = inputs.Length();
  const Plans plans = planFields(options, count, "input");
  const muon::Schedule schedule = scheduleFields(options);
  // With `outputs` the results go into the caller's arrays (e.g. views of tensors in the wasm heap),
  // which must not overlap the inputs; otherwise into new ones.
  Napi::Array outputs = into ? options.arrays("outputs") : Napi::Array::New(env, count);
  if (into && outputs.Length() != count) throw options.rangeError("outputs must hold one array per input");
  std::vector<muon::PlannedMatrix> matrices;
  matrices.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    Napi::Float32Array input = float32At(options, inputs, i, plans.size(i), "inputs");
    Napi::Float32Array output;
    if (into) {
      output = float32At(options, outputs, i, plans.size(i), "outputs");
    } else {
      output = Napi::Float32Array::New(env, plans.size(i));
      outputs.Set(i, output);
    }
    matrices.push_back({input.Data(), output.Data(), plans.rows(i), plans.cols(i), plans.algorithm(i), plans.transposed(i), plans.flops[i]});
  }
  try {
    muon::orthogonalizeAll(engineOf(env), matrices, schedule);
  } catch (const std::exception& error) {
    throw Napi::Error::New(env, std::string("orthogonalize failed: ") + error.what());
  }
  return outputs;
}

Napi::Value MuonStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Options options(info, "muonStep", kMuonStepFields);
  Napi::Array params = options.arrays("params");
  Napi::Array grads = options.arrays("grads");
  Napi::Array momenta = options.arrays("momenta", kMomentaType, kMomentaWhat);
  Napi::Array newParams = options.arrays("newParams");
  Napi::Array newMomenta = options.arrays("newMomenta", kMomentaType, kMomentaWhat);
  const muon::MomentumDtype momentumDtype = momentumDtypeField(options);
  const uint32_t count = params.Length();
  if (grads.Length() != count || momenta.Length() != count || newParams.Length() != count || newMomenta.Length() != count) {
    throw options.rangeError("params, grads, momenta, newParams and newMomenta must hold one array per variable");
  }
  const Plans plans = planFields(options, count, "variable");
  const std::vector<double> shapeScales = options.float64s("shapeScales");
  if (shapeScales.size() != count) throw options.rangeError("shapeScales must hold one number per variable");
  muon::MuonStepSettings settings{scheduleFields(options), options.number("beta"), options.boolean("nesterov"), options.number("learningRate"),
                                  options.number("weightDecay"), options.boolean("cautious"), momentumDtype};
  const bool packed = momentumDtype == muon::MomentumDtype::kBfloat16;
  std::vector<muon::StepVariable> variables;
  variables.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const size_t size = plans.size(i);
    muon::StepVariable v{float32At(options, params, i, size, "params").Data(), float32At(options, grads, i, size, "grads").Data(), nullptr,
                         float32At(options, newParams, i, size, "newParams").Data(), nullptr, plans.rows(i), plans.cols(i), plans.algorithm(i),
                         plans.transposed(i), plans.flops[i], shapeScales[i]};
    if (packed) {
      // int32 and uint32 may alias the same words; the packing is arithmetic on the bits.
      v.packedMomentum = reinterpret_cast<const uint32_t*>(int32At(options, momenta, i, (size + 1) / 2, "momenta").Data());
      v.newPackedMomentum = reinterpret_cast<uint32_t*>(int32At(options, newMomenta, i, (size + 1) / 2, "newMomenta").Data());
    } else {
      v.momentum = float32At(options, momenta, i, size, "momenta").Data();
      v.newMomentum = float32At(options, newMomenta, i, size, "newMomenta").Data();
    }
    variables.push_back(v);
  }
  std::vector<uint8_t> flags;
  try {
    flags = muon::muonStep(engineOf(env), variables, settings);
  } catch (const std::exception& error) {
    throw Napi::Error::New(env, std::string("muonStep failed: ") + error.what());
  }
  Napi::Uint8Array result = Napi::Uint8Array::New(env, count);
  std::copy(flags.begin(), flags.end(), result.Data());
  return result;
}

Napi::Value Dion2Step(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Options options(info, "dion2Step", kDion2StepFields);
  const char* names[] = {"params", "grads", "momenta", "newParams", "newMomenta"};
  std::vector<Napi::Array> arrays;
  for (const char* name : names) arrays.push_back(options.arrays(name));
  const uint32_t count = arrays[0].Length();
  for (const Napi::Array& array : arrays) {
    if (array.Length() != count) throw options.rangeError("params, grads, momenta, newParams and newMomenta must hold one array per variable");
  }
  const std::vector<int> variableShapes = options.int32s("variableShapes");
  const std::vector<int> selections = options.int32s("selections");
  if (variableShapes.size() != 2 * count) throw options.rangeError("variableShapes must hold two numbers per variable");
  if (selections.size() != 2 * count) throw options.rangeError("selections must hold two numbers per variable");
  const Plans plans = planFields(options, count, "variable");
  const std::vector<double> shapeScales = options.float64s("shapeScales");
  if (shapeScales.size() != count) throw options.rangeError("shapeScales must hold one number per variable");
  const double errorFeedbackDecay = options.number("errorFeedbackDecay");
  if (!(errorFeedbackDecay >= 0 && errorFeedbackDecay < 1)) throw options.rangeError("errorFeedbackDecay must be in [0, 1), got " + std::to_string(errorFeedbackDecay));
  const muon::Dion2StepSettings settings{scheduleFields(options), errorFeedbackDecay, options.boolean("normsInFloat64"), options.number("learningRate"),
                                         options.number("weightDecay"), options.boolean("cautious")};
  std::vector<muon::Dion2StepVariable> variables;
  variables.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const std::string at = "[" + std::to_string(2 * i) + ", " + std::to_string(2 * i + 1) + "]";
    const int rows = variableShapes[2 * i], cols = variableShapes[2 * i + 1];
    if (rows < 1 || cols < 1) throw options.rangeError("variableShapes" + at + " must be positive");
    const int side = selections[2 * i], k = selections[2 * i + 1];
    if (side != 0 && side != 1) throw options.rangeError("selections" + at + " must start with a side (0 rows, 1 columns)");
    const bool columns = side == 1;
    const int slices = columns ? cols : rows, length = columns ? rows : cols;
    if (k < 1 || k > slices) throw options.rangeError("selections" + at + " selects " + std::to_string(k) + " of " + std::to_string(slices) + " slices");
    // The plan is the selected submatrix's: k slices by the other side.
    if (plans.rows(i) != k || plans.cols(i) != length) {
      throw options.rangeError("shapes" + at + " must be the selected submatrix [" + std::to_string(k) + ", " + std::to_string(length) + "]");
    }
    const size_t size = static_cast<size_t>(rows) * cols;
    float* data[5];
    for (size_t a = 0; a < 5; ++a) data[a] = float32At(options, arrays[a], i, size, names[a]).Data();
    variables.push_back({data[0], data[1], data[2], data[3], data[4], rows, cols, columns, k, plans.algorithm(i), plans.transposed(i), plans.flops[i], shapeScales[i]});
  }
  std::vector<uint8_t> flags;
  try {
    flags = muon::dion2Step(engineOf(env), variables, settings);
  } catch (const std::exception& error) {
    throw Napi::Error::New(env, std::string("dion2Step failed: ") + error.what());
  }
  Napi::Uint8Array result = Napi::Uint8Array::New(env, count);
  std::copy(flags.begin(), flags.end(), result.Data());
  return result;
}

Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Options options(info, "adamStep", kAdamStepFields);
  const char* names[] = {"params", "grads", "firstMoments", "secondMoments", "newParams", "newFirstMoments", "newSecondMoments"};
  std::vector<Napi::Array> arrays;
  for (const char* name : names) arrays.push_back(options.arrays(name));
  const uint32_t count = arrays[0].Length();
  for (const Napi::Array& array : arrays) {
    if (array.Length() != count) throw options.rangeError("params, grads, firstMoments, secondMoments, newParams, newFirstMoments and newSecondMoments must hold one array per variable");
  }
  const muon::AdamStepSettings settings{options.number("beta1"),       options.number("beta2"),        options.number("epsilon"),
                                        options.number("correction1"), options.number("correction2"),  options.number("learningRate"),
                                        options.number("weightDecay"), options.boolean("cautious")};
  // Division by a correction of 0 (step 0) or past 1 would write Inf or shrink the step: refused.
  if (!(settings.correction1 > 0 && settings.correction1 <= 1) || !(settings.correction2 > 0 && settings.correction2 <= 1)) {
    throw options.rangeError("correction1 and correction2 must be in (0, 1], got " + std::to_string(settings.correction1) + " and " + std::to_string(settings.correction2));
  }
  std::vector<muon::AdamStepVariable> variables;
  variables.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    Napi::Value first = arrays[0].Get(i);
    if (!first.IsTypedArray() || first.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) throw options.typeError("params[" + std::to_string(i) + "] must be a Float32Array");
    const size_t size = first.As<Napi::Float32Array>().ElementLength();
    float* data[7];
    for (size_t a = 0; a < 7; ++a) data[a] = float32At(options, arrays[a], i, size, names[a]).Data();
    variables.push_back({data[0], data[1], data[2], data[3], data[4], data[5], data[6], size});
  }
  const std::vector<uint8_t> flags = muon::adamStep(variables, settings);
  Napi::Uint8Array result = Napi::Uint8Array::New(env, count);
  std::copy(flags.begin(), flags.end(), result.Data());
  return result;
}

// gramEigenvalues(data: Float64Array, rows, cols) → Float64Array of min(rows, cols) eigenvalues, descending.
Napi::Value GramEigenvalues(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[0].IsTypedArray() || !info[1].IsNumber() || !info[2].IsNumber()) {
    throw Napi::TypeError::New(env, "gramEigenvalues(data: Float64Array, rows, cols)");
  }
  Napi::TypedArray array = info[0].As<Napi::TypedArray>();
  if (array.TypedArrayType() != napi_float64_array) throw Napi::TypeError::New(env, "gramEigenvalues: data must be a Float64Array");
  Napi::Float64Array data = array.As<Napi::Float64Array>();
  const int rows = info[1].As<Napi::Number>().Int32Value();
  const int cols = info[2].As<Napi::Number>().Int32Value();
  if (rows < 1 || cols < 1 || data.ElementLength() != static_cast<size_t>(rows) * static_cast<size_t>(cols)) {
    throw Napi::RangeError::New(env, "gramEigenvalues: " + std::to_string(data.ElementLength()) + " entries do not make a " + std::to_string(rows) + "×" +
                                         std::to_string(cols) + " matrix");
  }
  std::vector<double> lambda;
  try {
    lambda = muon::gramEigenvalues(data.Data(), rows, cols, engineOf(env).threads);
  } catch (const std::exception& error) {
    throw Napi::Error::New(env, std::string("gramEigenvalues: ") + error.what());
  }
  Napi::Float64Array result = Napi::Float64Array::New(env, lambda.size());
  std::copy(lambda.begin(), lambda.end(), result.Data());
  return result;
}

// Every export, listed in info().interface.exports.
constexpr const char* kExports[] = {"orthogonalize", "muonStep", "dion2Step", "adamStep", "info", "setThreads", "matmul", "gramEigenvalues", "threading"};

Napi::Array fieldList(Napi::Env env, const std::vector<Field>& fields) {
  Napi::Array list = Napi::Array::New(env, fields.size());
  for (uint32_t i = 0; i < fields.size(); ++i) list.Set(i, Napi::String::New(env, std::string(fields[i].name) + ": " + fields[i].type));
  return list;
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  const muon::EngineDescription engine = muon::describe();
  result.Set("blas", Napi::String::New(env, engine.blas));
  result.Set("threads", Napi::Number::New(env, engineOf(env).threads));
  result.Set("followsLoad", Napi::Boolean::New(env, engineOf(env).followsLoad));
  // The options each export takes, "name: type" per field, from the lists the reader checks
  // against: src/kernels/nativeAddon.ts compares them with its own at load.
  Napi::Object interface = Napi::Object::New(env);
  interface.Set("orthogonalize", fieldList(env, kOrthogonalizeFields));
  interface.Set("muonStep", fieldList(env, kMuonStepFields));
  interface.Set("dion2Step", fieldList(env, kDion2StepFields));
  interface.Set("adamStep", fieldList(env, kAdamStepFields));
  Napi::Array names = Napi::Array::New(env);
  for (const char* name : kExports) names.Set(names.Length(), Napi::String::New(env, name));
  interface.Set("exports", names);
  result.Set("interface", interface);
  result.Set("onednn", engine.onednn.empty() ? env.Null() : Napi::String::New(env, engine.onednn));
  Napi::Object products = Napi::Object::New(env);
  products.Set("float32", Napi::String::New(env, engine.float32Products));
  products.Set("bfloat16", Napi::String::New(env, engine.bfloat16Products));
  result.Set("products", products);
  result.Set("bfloat16", Napi::Boolean::New(env, muon::supports(Precision::kBfloat16)));
  result.Set("symmetricProductsAtHalfCost", Napi::Boolean::New(env, engine.symmetricProductsAtHalfCost));
  // The CPU's flags, whichever library runs (cpuid).
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("avx512Bf16", Napi::Boolean::New(env, engine.avx512Bf16));
  cpu.Set("amxBf16", Napi::Boolean::New(env, engine.amxBf16));
  result.Set("cpu", cpu);
  return result;
}

// setThreads(count[, followLoad = false]): exactly `count` threads per call (reproducible bits), or
// with followLoad at most `count`, fewer while other processes keep the CPUs busy (the default,
// from OpenBLAS's count, when setThreads was never called).
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || info.Length() > 2 || !info[0].IsNumber() || (info.Length() == 2 && !info[1].IsBoolean() && !info[1].IsUndefined())) {
    throw Napi::TypeError::New(info.Env(), "setThreads(count[, followLoad])");
  }
  muon::Engine& engine = engineOf(info.Env());
  engine.threads = std::max(1, info[0].As<Napi::Number>().Int32Value());
  engine.followsLoad = info.Length() == 2 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  return info.Env().Undefined();
}

// threading() → { threads, followsLoad, calls, lastCall: { threads, cpus, othersRunnable, sideBySide } | null }:
// the engine's settings and how its last orthogonalize or muonStep call chose its threads.
Napi::Value Threading(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const muon::Engine& engine = engineOf(env);
  Napi::Object result = Napi::Object::New(env);
  result.Set("threads", Napi::Number::New(env, engine.threads));
  result.Set("followsLoad", Napi::Boolean::New(env, engine.followsLoad));
  result.Set("calls", Napi::Number::New(env, static_cast<double>(engine.calls)));
  if (engine.calls == 0) {
    result.Set("lastCall", env.Null());
  } else {
    Napi::Object last = Napi::Object::New(env);
    last.Set("threads", Napi::Number::New(env, engine.lastCall.threads));
    last.Set("cpus", Napi::Number::New(env, engine.lastCall.cpus));
    last.Set("othersRunnable", Napi::Number::New(env, engine.lastCall.othersRunnable));
    last.Set("sideBySide", Napi::Number::New(env, engine.lastCall.sideBySide));
    result.Set("lastCall", last);
  }
  return result;
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
  const int threads = engineOf(env).threads;
  if (info.Length() == 6) {
    const int code = info[5].As<Napi::Number>().Int32Value();
    if (code < 0 || code > 2 || !muon::supports(static_cast<Precision>(code))) {
      throw Napi::RangeError::New(env, "matmul: precision " + std::to_string(code) + " is not available (" + muon::describe().bfloat16Products + ")");
    }
    const Precision precision = static_cast<Precision>(code);
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
  env.SetInstanceData(new muon::Engine());  // deleted by N-API when `env` ends, which ends its pool's threads
  exports.Set("orthogonalize", Napi::Function::New(env, Orthogonalize));
  exports.Set("muonStep", Napi::Function::New(env, MuonStep));
  exports.Set("dion2Step", Napi::Function::New(env, Dion2Step));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("matmul", Napi::Function::New(env, Matmul));
  exports.Set("gramEigenvalues", Napi::Function::New(env, GramEigenvalues));
  exports.Set("threading", Napi::Function::New(env, Threading));
  return exports;
}

}  // namespace

NODE_API_MODULE(muon_native, Init)
