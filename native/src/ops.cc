// N-API bindings of every kernel except gemm: attention, normalisations, activations, elementwise, layout,
// convolution and AdamW. Argument order and names match the `Kernels` interface of
// src/engine/kernels/types.ts exactly; arrays are Float32Array views, optional ones JS null.
//
// Layout of the implementation:
//   ops/isa_table.h     the table of kernels compiled per instruction set
//   ops/isa_kernels.inc compiled three times below (AVX-512, AVX2+FMA, baseline) and picked at load time
//     vec.inc           SIMD vocabulary on GCC vector extensions (vexp, vtanh, loads with tails)
//     rowwise.inc       softmax, LayerNorm, RMSNorm
//     elementwise.inc   GELU, SiLU, unary, broadcast binary, scale, axpy, AdamW
//     attention.inc     flash-attention forward and backward
//   ops/layout.inc      broadcast planning, reduce, permute (memory-bound: one portable build)
//   ops/conv.inc        conv3d forward / backward via chunked im2col + sgemm
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TESSERA_X86 1
#endif

#include "gemm.h"
#include "ops/isa_table.h"
#include "threadpool.h"

// The per-ISA lambdas pass vector types by value; they are all inlined, so the ABI note does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace tessera::ops {

// Work below this many elements stays on the calling thread (a pool wake-up costs a few microseconds).
constexpr int64_t kGrainElements = 1 << 15;
static inline int64_t row_grain(int64_t cols) {
  return std::max<int64_t>(1, kGrainElements / std::max<int64_t>(cols, 1));
}

// Zero-initialised float scratch of n elements.
static inline std::vector<float> scratch(int64_t n) { return std::vector<float>(static_cast<size_t>(n), 0.0f); }

#if TESSERA_X86
namespace avx512 {
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,prefer-vector-width=512")
#define TESSERA_VBYTES 64
#define TESSERA_ISA_NAME "avx512f"
#include "ops/isa_kernels.inc"
#undef TESSERA_VBYTES
#undef TESSERA_ISA_NAME
#pragma GCC pop_options
}  // namespace avx512

namespace avx2 {
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define TESSERA_VBYTES 32
#define TESSERA_ISA_NAME "avx2"
#include "ops/isa_kernels.inc"
#undef TESSERA_VBYTES
#undef TESSERA_ISA_NAME
#pragma GCC pop_options
}  // namespace avx2
#endif

namespace portable {
#define TESSERA_VBYTES 16
#define TESSERA_ISA_NAME "portable"
#include "ops/isa_kernels.inc"
#undef TESSERA_VBYTES
#undef TESSERA_ISA_NAME
}  // namespace portable

#include "ops/layout.inc"
#include "ops/conv.inc"

// ---- instruction set selection ---------------------------------------------------------------------------

// The table for an ISA name, or nullptr when unknown or the CPU lacks it.
static const IsaKernels* kernels_named(const std::string& name) {
#if TESSERA_X86
  __builtin_cpu_init();
  if (name == "avx512f" && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    return &avx512::kKernels;
  if (name == "avx2" && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &avx2::kKernels;
#endif
  if (name == "portable") return &portable::kKernels;
  return nullptr;
}

// Best available, unless TESSERA_ISA names a supported one (for testing the narrower builds).
static const IsaKernels* select_kernels() {
  if (const char* forced = std::getenv("TESSERA_ISA"))
    if (const IsaKernels* k = kernels_named(forced)) return k;
  for (const char* name : {"avx512f", "avx2", "portable"})
    if (const IsaKernels* k = kernels_named(name)) return k;
  return &portable::kKernels;
}

static const IsaKernels* g_kernels = select_kernels();

// ---- argument reading ------------------------------------------------------------------------------------

// Reads one call's arguments. The first problem throws a JS TypeError/RangeError naming the function and
// argument; later reads return harmless defaults and the binding returns without running the kernel.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* fn) : info_(info), fn_(fn) {}
  bool ok() const { return ok_; }

  float* f32(size_t i, const char* name, int64_t min_len) { return f32_impl(i, name, min_len, false); }
  float* f32_or_null(size_t i, const char* name, int64_t min_len) { return f32_impl(i, name, min_len, true); }

  const uint8_t* u8_or_null(size_t i, const char* name, int64_t min_len) {
    if (!ok_) return nullptr;
    Napi::Value v = info_[i];
    if (v.IsNull() || v.IsUndefined()) return nullptr;
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      fail(std::string(name) + " must be a Uint8Array or null");
      return nullptr;
    }
    auto arr = v.As<Napi::Uint8Array>();
    if (int64_t(arr.ElementLength()) < min_len) return short_array(name, arr.ElementLength(), min_len), nullptr;
    return arr.Data();
  }

  double num(size_t i, const char* name) {
    if (!ok_) return 0;
    if (!info_[i].IsNumber()) return fail(std::string(name) + " must be a number"), 0;
    return info_[i].As<Napi::Number>().DoubleValue();
  }

  // A non-negative integer (sizes, counts).
  int64_t dim(size_t i, const char* name) {
    const double v = num(i, name);
    if (ok_ && (v < 0 || v != std::floor(v) || v > 9.0e15))
      return fail(std::string(name) + " must be a non-negative integer"), 0;
    return int64_t(v);
  }

  bool boolean(size_t i, const char* name) {
    if (!ok_) return false;
    if (!info_[i].IsBoolean()) return fail(std::string(name) + " must be a boolean"), false;
    return info_[i].As<Napi::Boolean>().Value();
  }

  std::string str(size_t i, const char* name) {
    if (!ok_) return "";
    if (!info_[i].IsString()) return fail(std::string(name) + " must be a string"), "";
    return info_[i].As<Napi::String>().Utf8Value();
  }

  std::vector<int64_t> dims(size_t i, const char* name) {
    std::vector<int64_t> out;
    if (!ok_) return out;
    if (!info_[i].IsArray()) return fail(std::string(name) + " must be an array of integers"), out;
    auto arr = info_[i].As<Napi::Array>();
    for (uint32_t k = 0; k < arr.Length(); k++) {
      Napi::Value e = arr.Get(k);
      const double v = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1;
      if (v < 0 || v != std::floor(v))
        return fail(std::string(name) + " must be an array of non-negative integers"), out;
      out.push_back(int64_t(v));
    }
    return out;
  }

  int64_t field(size_t i, const char* object_name, const char* key) {
    if (!ok_) return 0;
    if (!info_[i].IsObject()) return fail(std::string(object_name) + " must be an object"), 0;
    Napi::Value v = info_[i].As<Napi::Object>().Get(key);
    const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (d < 0 || d != std::floor(d))
      return fail(std::string(object_name) + "." + key + " must be a non-negative integer"), 0;
    return int64_t(d);
  }

  void fail(const std::string& message, bool range = false) {
    if (!ok_) return;
    ok_ = false;
    const std::string text = std::string("tessera_native.") + fn_ + ": " + message;
    if (range) Napi::RangeError::New(info_.Env(), text).ThrowAsJavaScriptException();
    else Napi::TypeError::New(info_.Env(), text).ThrowAsJavaScriptException();
  }

 private:
  float* f32_impl(size_t i, const char* name, int64_t min_len, bool nullable) {
    if (!ok_) return nullptr;
    Napi::Value v = info_[i];
    if (nullable && (v.IsNull() || v.IsUndefined())) return nullptr;
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      fail(std::string(name) + (nullable ? " must be a Float32Array or null" : " must be a Float32Array"));
      return nullptr;
    }
    auto arr = v.As<Napi::Float32Array>();
    if (int64_t(arr.ElementLength()) < min_len) return short_array(name, arr.ElementLength(), min_len), nullptr;
    return arr.Data();
  }
  void short_array(const char* name, size_t have, int64_t need) {
    fail(std::string(name) + " has " + std::to_string(have) + " elements, needs at least " + std::to_string(need),
         true);
  }

  const Napi::CallbackInfo& info_;
  const char* fn_;
  bool ok_ = true;
};

// ---- bindings ----------------------------------------------------------------------------------------------

static Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  Args a(info, "attentionForward");
  const int64_t b = a.dim(5, "b"), h = a.dim(6, "h"), tq = a.dim(7, "tq"), tk = a.dim(8, "tk"), d = a.dim(9, "d");
  const float scale = float(a.num(10, "scale"));
  const float* q = a.f32(0, "q", b * h * tq * d);
  const float* k = a.f32(1, "k", b * h * tk * d);
  const float* v = a.f32(2, "v", b * h * tk * d);
  float* out = a.f32(3, "out", b * h * tq * d);
  float* lse = a.f32(4, "lse", b * h * tq);
  const uint8_t* mask = a.u8_or_null(11, "keyMask", b * tk);
  if (a.ok()) g_kernels->attention_forward(q, k, v, out, lse, b, h, tq, tk, d, scale, mask);
  return info.Env().Undefined();
}

static Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  Args a(info, "attentionBackward");
  const int64_t b = a.dim(9, "b"), h = a.dim(10, "h"), tq = a.dim(11, "tq"), tk = a.dim(12, "tk"), d = a.dim(13, "d");
  const float scale = float(a.num(14, "scale"));
  const int64_t nq = b * h * tq * d, nk = b * h * tk * d;
  const float* q = a.f32(0, "q", nq);
  const float* k = a.f32(1, "k", nk);
  const float* v = a.f32(2, "v", nk);
  const float* out = a.f32(3, "out", nq);
  const float* dout = a.f32(4, "dout", nq);
  const float* lse = a.f32(5, "lse", b * h * tq);
  float* dq = a.f32(6, "dq", nq);
  float* dk = a.f32(7, "dk", nk);
  float* dv = a.f32(8, "dv", nk);
  const uint8_t* mask = a.u8_or_null(15, "keyMask", b * tk);
  if (a.ok()) g_kernels->attention_backward(q, k, v, out, dout, lse, dq, dk, dv, b, h, tq, tk, d, scale, mask);
  return info.Env().Undefined();
}

static Napi::Value SoftmaxForward(const Napi::CallbackInfo& info) {
  Args a(info, "softmaxForward");
  const int64_t rows = a.dim(2, "rows"), cols = a.dim(3, "cols");
  const float* x = a.f32(0, "x", rows * cols);
  float* y = a.f32(1, "y", rows * cols);
  if (a.ok()) g_kernels->softmax_forward(x, y, rows, cols);
  return info.Env().Undefined();
}

static Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  Args a(info, "softmaxBackward");
  const int64_t rows = a.dim(3, "rows"), cols = a.dim(4, "cols");
  const float* y = a.f32(0, "y", rows * cols);
  const float* dy = a.f32(1, "dy", rows * cols);
  float* dx = a.f32(2, "dx", rows * cols);
  if (a.ok()) g_kernels->softmax_backward(y, dy, dx, rows, cols);
  return info.Env().Undefined();
}

static Napi::Value LayerNormForward(const Napi::CallbackInfo& info) {
  Args a(info, "layerNormForward");
  const int64_t rows = a.dim(6, "rows"), cols = a.dim(7, "cols");
  const float eps = float(a.num(8, "eps"));
  const float* x = a.f32(0, "x", rows * cols);
  const float* gamma = a.f32_or_null(1, "gamma", cols);
  const float* beta = a.f32_or_null(2, "beta", cols);
  float* y = a.f32(3, "y", rows * cols);
  float* mean = a.f32(4, "mean", rows);
  float* rstd = a.f32(5, "rstd", rows);
  if (a.ok()) g_kernels->layer_norm_forward(x, gamma, beta, y, mean, rstd, rows, cols, eps);
  return info.Env().Undefined();
}

static Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "layerNormBackward");
  const int64_t rows = a.dim(8, "rows"), cols = a.dim(9, "cols");
  const float* x = a.f32(0, "x", rows * cols);
  const float* gamma = a.f32_or_null(1, "gamma", cols);
  const float* dy = a.f32(2, "dy", rows * cols);
  const float* mean = a.f32(3, "mean", rows);
  const float* rstd = a.f32(4, "rstd", rows);
  float* dx = a.f32(5, "dx", rows * cols);
  float* dgamma = a.f32_or_null(6, "dgamma", cols);
  float* dbeta = a.f32_or_null(7, "dbeta", cols);
  if (a.ok()) g_kernels->layer_norm_backward(x, gamma, dy, mean, rstd, dx, dgamma, dbeta, rows, cols);
  return info.Env().Undefined();
}

static Napi::Value RmsNormForward(const Napi::CallbackInfo& info) {
  Args a(info, "rmsNormForward");
  const int64_t rows = a.dim(4, "rows"), cols = a.dim(5, "cols");
  const float eps = float(a.num(6, "eps"));
  const float* x = a.f32(0, "x", rows * cols);
  const float* gamma = a.f32_or_null(1, "gamma", cols);
  float* y = a.f32(2, "y", rows * cols);
  float* rstd = a.f32(3, "rstd", rows);
  if (a.ok()) g_kernels->rms_norm_forward(x, gamma, y, rstd, rows, cols, eps);
  return info.Env().Undefined();
}

static Napi::Value RmsNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "rmsNormBackward");
  const int64_t rows = a.dim(6, "rows"), cols = a.dim(7, "cols");
  const float* x = a.f32(0, "x", rows * cols);
  const float* gamma = a.f32_or_null(1, "gamma", cols);
  const float* dy = a.f32(2, "dy", rows * cols);
  const float* rstd = a.f32(3, "rstd", rows);
  float* dx = a.f32(4, "dx", rows * cols);
  float* dgamma = a.f32_or_null(5, "dgamma", cols);
  if (a.ok()) g_kernels->rms_norm_backward(x, gamma, dy, rstd, dx, dgamma, rows, cols);
  return info.Env().Undefined();
}

// (x, y, n) activations and (x, dy, dx, n) gradients share one shape of binding each.
template <void (*const IsaKernels::*FN)(const float*, float*, int64_t)>
static Napi::Value Activation(const Napi::CallbackInfo& info) {
  Args a(info, "activation");
  const int64_t n = a.dim(2, "n");
  const float* x = a.f32(0, "x", n);
  float* y = a.f32(1, "y", n);
  if (a.ok()) (g_kernels->*FN)(x, y, n);
  return info.Env().Undefined();
}
template <void (*const IsaKernels::*FN)(const float*, const float*, float*, int64_t)>
static Napi::Value ActivationGrad(const Napi::CallbackInfo& info) {
  Args a(info, "activation backward");
  const int64_t n = a.dim(3, "n");
  const float* x = a.f32(0, "x", n);
  const float* dy = a.f32(1, "dy", n);
  float* dx = a.f32(2, "dx", n);
  if (a.ok()) (g_kernels->*FN)(x, dy, dx, n);
  return info.Env().Undefined();
}

static Napi::Value Unary(const Napi::CallbackInfo& info) {
  static const std::pair<const char*, UnaryOp> kOps[] = {
      {"neg", UnaryOp::Neg},   {"exp", UnaryOp::Exp},         {"log", UnaryOp::Log},   {"sqrt", UnaryOp::Sqrt},
      {"rsqrt", UnaryOp::Rsqrt}, {"abs", UnaryOp::Abs},       {"tanh", UnaryOp::Tanh}, {"sigmoid", UnaryOp::Sigmoid},
      {"sin", UnaryOp::Sin},   {"cos", UnaryOp::Cos},         {"relu", UnaryOp::Relu}, {"square", UnaryOp::Square},
      {"recip", UnaryOp::Recip}};
  Args a(info, "unary");
  const std::string name = a.str(0, "op");
  const int64_t n = a.dim(3, "n");
  const float* x = a.f32(1, "x", n);
  float* y = a.f32(2, "y", n);
  if (!a.ok()) return info.Env().Undefined();
  for (const auto& [key, op] : kOps)
    if (name == key) {
      g_kernels->unary(op, x, y, n);
      return info.Env().Undefined();
    }
  a.fail("unknown unary op '" + name + "'");
  return info.Env().Undefined();
}

static int64_t product(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

static Napi::Value Binary(const Napi::CallbackInfo& info) {
  static const std::pair<const char*, BinaryOp> kOps[] = {
      {"add", BinaryOp::Add}, {"sub", BinaryOp::Sub}, {"mul", BinaryOp::Mul}, {"div", BinaryOp::Div},
      {"max", BinaryOp::Max}, {"min", BinaryOp::Min}, {"pow", BinaryOp::Pow}};
  Args a(info, "binary");
  const std::string name = a.str(0, "op");
  const std::vector<int64_t> a_shape = a.dims(2, "aShape"), b_shape = a.dims(4, "bShape");
  const std::vector<int64_t> out_shape = a.dims(6, "outShape");
  if (a.ok() && (a_shape.size() != out_shape.size() || b_shape.size() != out_shape.size()))
    a.fail("aShape and bShape must have outShape's rank (right-aligned, padded with 1s)");
  for (size_t i = 0; a.ok() && i < out_shape.size(); i++)
    if ((a_shape[i] != 1 && a_shape[i] != out_shape[i]) || (b_shape[i] != 1 && b_shape[i] != out_shape[i]))
      a.fail("shapes do not broadcast to outShape at dimension " + std::to_string(i));
  const float* x = a.f32(1, "a", product(a_shape));
  const float* y = a.f32(3, "b", product(b_shape));
  float* out = a.f32(5, "out", product(out_shape));
  if (!a.ok()) return info.Env().Undefined();
  BinaryPlan plan;
  if (product(out_shape) == 0) return info.Env().Undefined();
  if (!plan_binary(a_shape, b_shape, out_shape, plan)) {
    a.fail("too many alternating broadcast dimensions");
    return info.Env().Undefined();
  }
  for (const auto& [key, op] : kOps)
    if (name == key) {
      g_kernels->binary(op, plan, x, y, out);
      return info.Env().Undefined();
    }
  a.fail("unknown binary op '" + name + "'");
  return info.Env().Undefined();
}

static Napi::Value Scale(const Napi::CallbackInfo& info) {
  Args a(info, "scale");
  const float alpha = float(a.num(1, "alpha")), beta = float(a.num(2, "beta"));
  const int64_t n = a.dim(4, "n");
  const float* x = a.f32(0, "x", n);
  float* out = a.f32(3, "out", n);
  if (a.ok()) g_kernels->scale(x, alpha, beta, out, n);
  return info.Env().Undefined();
}

static Napi::Value Axpy(const Napi::CallbackInfo& info) {
  Args a(info, "axpy");
  const float alpha = float(a.num(0, "alpha"));
  const int64_t n = a.dim(3, "n");
  const float* x = a.f32(1, "x", n);
  float* y = a.f32(2, "y", n);
  if (a.ok()) g_kernels->axpy(alpha, x, y, n);
  return info.Env().Undefined();
}

static Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Args a(info, "reduce");
  const std::string name = a.str(0, "op");
  const std::vector<int64_t> shape = a.dims(2, "shape"), axes = a.dims(3, "axes");
  std::vector<bool> reduced(shape.size(), false);
  int64_t out_size = 1;
  for (size_t i = 0; a.ok() && i < axes.size(); i++) {
    if (axes[i] >= int64_t(shape.size()) || (i > 0 && axes[i] <= axes[i - 1]))
      a.fail("axes must be sorted, unique and < rank");
    else reduced[size_t(axes[i])] = true;
  }
  for (size_t i = 0; i < shape.size(); i++) if (!reduced[i]) out_size *= shape[i];
  const float* x = a.f32(1, "x", product(shape));
  float* out = a.f32(4, "out", out_size);
  ReduceOp op = ReduceOp::Sum;
  if (name == "max") op = ReduceOp::Max;
  else if (name == "min") op = ReduceOp::Min;
  else if (name != "sum") a.fail("unknown reduce op '" + name + "'");
  if (a.ok()) reduce(op, x, shape, reduced, out);
  return info.Env().Undefined();
}

static Napi::Value Permute(const Napi::CallbackInfo& info) {
  Args a(info, "permute");
  const std::vector<int64_t> shape = a.dims(1, "shape"), perm = a.dims(2, "perm");
  std::vector<bool> seen(shape.size(), false);
  if (a.ok() && perm.size() != shape.size()) a.fail("perm must have the rank of shape");
  for (size_t i = 0; a.ok() && i < perm.size(); i++) {
    if (perm[i] >= int64_t(shape.size()) || seen[size_t(perm[i])]) a.fail("perm must be a permutation of 0..rank-1");
    else seen[size_t(perm[i])] = true;
  }
  const float* x = a.f32(0, "x", product(shape));
  float* out = a.f32(3, "out", product(shape));
  if (a.ok()) permute(x, shape, perm, out);
  return info.Env().Undefined();
}

static ConvGeometry conv_geometry(Args& a, size_t i) {
  ConvGeometry g{};
  g.n = a.field(i, "p", "n"), g.c_in = a.field(i, "p", "cIn"), g.t = a.field(i, "p", "t");
  g.h = a.field(i, "p", "h"), g.w = a.field(i, "p", "w"), g.c_out = a.field(i, "p", "cOut");
  g.kt = a.field(i, "p", "kt"), g.kh = a.field(i, "p", "kh"), g.kw = a.field(i, "p", "kw");
  g.stride_t = a.field(i, "p", "strideT"), g.stride_h = a.field(i, "p", "strideH");
  g.stride_w = a.field(i, "p", "strideW");
  g.pad_front = a.field(i, "p", "padFront"), g.pad_back = a.field(i, "p", "padBack");
  g.pad_h = a.field(i, "p", "padH"), g.pad_w = a.field(i, "p", "padW");
  g.t_out = a.field(i, "p", "tOut"), g.h_out = a.field(i, "p", "hOut"), g.w_out = a.field(i, "p", "wOut");
  if (a.ok() && (g.stride_t == 0 || g.stride_h == 0 || g.stride_w == 0)) a.fail("p: strides must be >= 1");
  if (a.ok() && (g.t_out != (g.t + g.pad_front + g.pad_back - g.kt) / g.stride_t + 1 ||
                 g.h_out != (g.h + 2 * g.pad_h - g.kh) / g.stride_h + 1 ||
                 g.w_out != (g.w + 2 * g.pad_w - g.kw) / g.stride_w + 1))
    a.fail("p: tOut/hOut/wOut do not match the input size, kernel, stride and padding");
  return g;
}

static Napi::Value Conv3dForward(const Napi::CallbackInfo& info) {
  Args a(info, "conv3dForward");
  const ConvGeometry g = conv_geometry(a, 4);
  const float* x = a.f32(0, "x", g.n * g.c_in * g.in_volume());
  const float* weight = a.f32(1, "weight", g.c_out * g.k_size());
  const float* bias = a.f32_or_null(2, "bias", g.c_out);
  float* out = a.f32(3, "out", g.n * g.c_out * g.positions());
  if (a.ok()) conv3d_forward(g, x, weight, bias, out);
  return info.Env().Undefined();
}

static Napi::Value Conv3dBackwardData(const Napi::CallbackInfo& info) {
  Args a(info, "conv3dBackwardData");
  const ConvGeometry g = conv_geometry(a, 3);
  const float* dout = a.f32(0, "dout", g.n * g.c_out * g.positions());
  const float* weight = a.f32(1, "weight", g.c_out * g.k_size());
  float* dx = a.f32(2, "dx", g.n * g.c_in * g.in_volume());
  if (a.ok()) conv3d_backward_data(g, dout, weight, dx);
  return info.Env().Undefined();
}

static Napi::Value Conv3dBackwardWeight(const Napi::CallbackInfo& info) {
  Args a(info, "conv3dBackwardWeight");
  const ConvGeometry g = conv_geometry(a, 4);
  const float* x = a.f32(0, "x", g.n * g.c_in * g.in_volume());
  const float* dout = a.f32(1, "dout", g.n * g.c_out * g.positions());
  float* dweight = a.f32(2, "dweight", g.c_out * g.k_size());
  float* dbias = a.f32_or_null(3, "dbias", g.c_out);
  if (a.ok()) conv3d_backward_weight(g, x, dout, dweight, dbias);
  return info.Env().Undefined();
}

static Napi::Value AdamW(const Napi::CallbackInfo& info) {
  Args a(info, "adamw");
  const int64_t n = a.dim(4, "n");
  const double lr = a.num(5, "lr"), beta1 = a.num(6, "beta1"), beta2 = a.num(7, "beta2"), eps = a.num(8, "eps");
  const double weight_decay = a.num(9, "weightDecay"), step = a.num(10, "step");
  float* param = a.f32(0, "param", n);
  const float* grad = a.f32(1, "grad", n);
  float* m = a.f32(2, "m", n);
  float* v = a.f32(3, "v", n);
  if (a.ok() && step < 1) a.fail("step must be >= 1 (bias correction counts from 1)", true);
  if (!a.ok()) return info.Env().Undefined();
  // Bias corrections in double: beta2^step is close to 1 for small steps.
  const double c1 = 1.0 / (1.0 - std::pow(beta1, step)), c2 = 1.0 / (1.0 - std::pow(beta2, step));
  const AdamWStep st{float(lr),           float(beta1), float(beta2), float(1.0 - beta1), float(1.0 - beta2),
                     float(eps),          float(weight_decay), float(c1),   float(c2)};
  g_kernels->adamw(param, grad, m, v, n, st);
  return info.Env().Undefined();
}

// Test hooks: which instruction set the op kernels use, and switching to a narrower one.
static Napi::Value OpsIsa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), g_kernels->name); }
static Napi::Value SetOpsIsa(const Napi::CallbackInfo& info) {
  Args a(info, "setOpsIsa");
  const std::string name = a.str(0, "isa");
  if (!a.ok()) return info.Env().Undefined();
  const IsaKernels* k = kernels_named(name);
  if (k) g_kernels = k;
  return Napi::Boolean::New(info.Env(), k != nullptr);
}

}  // namespace tessera::ops

namespace tessera {

void RegisterOps(Napi::Env env, Napi::Object exports) {
  using namespace ops;
  const std::pair<const char*, Napi::Function::Callback> functions[] = {
      {"attentionForward", AttentionForward},
      {"attentionBackward", AttentionBackward},
      {"softmaxForward", SoftmaxForward},
      {"softmaxBackward", SoftmaxBackward},
      {"layerNormForward", LayerNormForward},
      {"layerNormBackward", LayerNormBackward},
      {"rmsNormForward", RmsNormForward},
      {"rmsNormBackward", RmsNormBackward},
      {"geluForward", Activation<&IsaKernels::gelu_forward>},
      {"geluBackward", ActivationGrad<&IsaKernels::gelu_backward>},
      {"siluForward", Activation<&IsaKernels::silu_forward>},
      {"siluBackward", ActivationGrad<&IsaKernels::silu_backward>},
      {"unary", Unary},
      {"binary", Binary},
      {"scale", Scale},
      {"axpy", Axpy},
      {"reduce", Reduce},
      {"permute", Permute},
      {"conv3dForward", Conv3dForward},
      {"conv3dBackwardData", Conv3dBackwardData},
      {"conv3dBackwardWeight", Conv3dBackwardWeight},
      {"adamw", AdamW},
      {"opsIsa", OpsIsa},
      {"setOpsIsa", SetOpsIsa},
  };
  for (const auto& [name, fn] : functions) exports.Set(name, Napi::Function::New(env, fn, name));
}

}  // namespace tessera
