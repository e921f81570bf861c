// N-API bindings of the gemm kernels and the pool: sgemm, sgemmBatched (same names and argument order as
// the `Kernels` interface in src/engine/kernels/types.ts), isa, setIsa, threads, setThreads, peakGflops.
// Arguments are validated cheaply (count, types, array lengths against the shapes) and misuse throws a
// TypeError / RangeError naming the function, so a wrong call from JS can never read or write out of bounds.
#include <napi.h>

#include <cmath>
#include <string>

#include "gemm.h"
#include "gemm_kernels.h"
#include "threadpool.h"

namespace tessera {
namespace {

// Reads positional arguments; the first problem throws a JS error and turns every later read into a no-op.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* fn, size_t count) : info_(info), fn_(fn) {
    if (info.Length() != count)
      fail_type(std::string("expected ") + std::to_string(count) + " arguments, got " + std::to_string(info.Length()));
  }

  bool ok() const { return ok_; }
  Napi::Env env() const { return info_.Env(); }

  bool boolean(size_t i, const char* name) {
    if (!ok_) return false;
    if (!info_[i].IsBoolean()) return fail_type(std::string(name) + " must be a boolean"), false;
    return info_[i].As<Napi::Boolean>().Value();
  }

  double number(size_t i, const char* name) {
    if (!ok_) return 0;
    if (!info_[i].IsNumber()) return fail_type(std::string(name) + " must be a number"), 0;
    return info_[i].As<Napi::Number>().DoubleValue();
  }

  // A non-negative integer (sizes, leading dimensions, strides).
  int64_t count(size_t i, const char* name) {
    double v = number(i, name);
    if (!ok_) return 0;
    if (!(v >= 0 && v <= 9007199254740991.0 && std::floor(v) == v))
      return fail_range(std::string(name) + " must be a non-negative integer, got " + std::to_string(v)), 0;
    return int64_t(v);
  }

  Napi::Float32Array f32(size_t i, const char* name) {
    if (!ok_) return Napi::Float32Array();
    if (!info_[i].IsTypedArray() || info_[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      return fail_type(std::string(name) + " must be a Float32Array"), Napi::Float32Array();
    return info_[i].As<Napi::Float32Array>();
  }

  // Checks that `arr` holds `batch` matrices of rows x cols (row stride ld, matrix stride `stride`).
  void check_matrix(const Napi::Float32Array& arr, const char* name, int64_t rows, int64_t cols, int64_t ld,
                    int64_t stride = 0, int64_t batch = 1) {
    if (!ok_ || rows == 0 || cols == 0 || batch == 0) return;
    if (ld < cols) {
      fail_range(std::string("leading dimension of ") + name + " is " + std::to_string(ld) + ", less than its " +
                 std::to_string(cols) + " columns");
      return;
    }
    // Doubles: the products cannot overflow for any size a JS array can have.
    double needed = double(batch - 1) * double(stride) + double(rows - 1) * double(ld) + double(cols);
    if (double(arr.ElementLength()) < needed)
      fail_range(std::string(name) + " has " + std::to_string(arr.ElementLength()) + " elements, needs " +
                 std::to_string(int64_t(needed)));
  }

  void fail_type(const std::string& msg) { fail(Napi::TypeError::New(env(), prefix() + msg)); }
  void fail_range(const std::string& msg) { fail(Napi::RangeError::New(env(), prefix() + msg)); }

 private:
  std::string prefix() const { return std::string(fn_) + ": "; }
  void fail(Napi::Error err) {
    if (!ok_) return;
    ok_ = false;
    err.ThrowAsJavaScriptException();
  }

  const Napi::CallbackInfo& info_;
  const char* fn_;
  bool ok_ = true;
};

// sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  Args args(info, "sgemm", 13);
  bool ta = args.boolean(0, "transA"), tb = args.boolean(1, "transB");
  int64_t m = args.count(2, "m"), n = args.count(3, "n"), k = args.count(4, "k");
  float alpha = float(args.number(5, "alpha"));
  Napi::Float32Array a = args.f32(6, "a");
  int64_t lda = args.count(7, "lda");
  Napi::Float32Array b = args.f32(8, "b");
  int64_t ldb = args.count(9, "ldb");
  float beta = float(args.number(10, "beta"));
  Napi::Float32Array c = args.f32(11, "c");
  int64_t ldc = args.count(12, "ldc");
  if (m > 0 && n > 0 && k > 0 && alpha != 0.0f) {
    args.check_matrix(a, "a", ta ? k : m, ta ? m : k, lda);
    args.check_matrix(b, "b", tb ? n : k, tb ? k : n, ldb);
  }
  args.check_matrix(c, "c", m, n, ldc);
  if (!args.ok()) return info.Env().Undefined();
  sgemm(ta, tb, m, n, k, alpha, a.Data(), lda, b.Data(), ldb, beta, c.Data(), ldc);
  return info.Env().Undefined();
}

// sgemmBatched(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch)
Napi::Value SgemmBatched(const Napi::CallbackInfo& info) {
  Args args(info, "sgemmBatched", 17);
  bool ta = args.boolean(0, "transA"), tb = args.boolean(1, "transB");
  int64_t m = args.count(2, "m"), n = args.count(3, "n"), k = args.count(4, "k");
  float alpha = float(args.number(5, "alpha"));
  Napi::Float32Array a = args.f32(6, "a");
  int64_t lda = args.count(7, "lda"), stride_a = args.count(8, "strideA");
  Napi::Float32Array b = args.f32(9, "b");
  int64_t ldb = args.count(10, "ldb"), stride_b = args.count(11, "strideB");
  float beta = float(args.number(12, "beta"));
  Napi::Float32Array c = args.f32(13, "c");
  int64_t ldc = args.count(14, "ldc"), stride_c = args.count(15, "strideC");
  int64_t batch = args.count(16, "batch");
  if (m > 0 && n > 0 && k > 0 && alpha != 0.0f) {
    args.check_matrix(a, "a", ta ? k : m, ta ? m : k, lda, stride_a, batch);
    args.check_matrix(b, "b", tb ? n : k, tb ? k : n, ldb, stride_b, batch);
  }
  args.check_matrix(c, "c", m, n, ldc, stride_c, batch);
  if (!args.ok()) return info.Env().Undefined();
  sgemm_batched(ta, tb, m, n, k, alpha, a.Data(), lda, stride_a, b.Data(), ldb, stride_b, beta, c.Data(), ldc,
                stride_c, batch);
  return info.Env().Undefined();
}

Napi::Value Isa(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), active_gemm_kernel().isa);
}

// setIsa(name): for tests and benchmarks; throws if the CPU cannot run it. Returns the ISA now in use.
Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !info[0].IsString()) {
    Napi::TypeError::New(info.Env(), "setIsa: expected one string ('avx512f' | 'avx2' | 'portable')")
        .ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (!set_gemm_isa(name.c_str())) {
    Napi::RangeError::New(info.Env(), "setIsa: '" + name + "' is unknown or not supported by this CPU")
        .ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  return Napi::String::New(info.Env(), active_gemm_kernel().isa);
}

Napi::Value Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), pool_threads()); }

// setThreads(n): 1 <= n <= 256; 0 restores the default (TESSERA_THREADS or the hardware threads).
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Args args(info, "setThreads", 1);
  int64_t n = args.count(0, "n");
  if (args.ok() && n > 256) args.fail_range("n must be at most 256");
  if (!args.ok()) return info.Env().Undefined();
  pool_set_threads(n == 0 ? pool_default_threads() : int(n));
  return info.Env().Undefined();
}

// peakGflops(threads): FMA throughput of the active ISA with `threads` threads, measured for ~0.2 s.
Napi::Value PeakGflops(const Napi::CallbackInfo& info) {
  Args args(info, "peakGflops", 1);
  int64_t threads = args.count(0, "threads");
  if (args.ok() && (threads < 1 || threads > 256)) args.fail_range("threads must be in [1, 256]");
  if (!args.ok()) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), measure_peak_gflops(int(threads), 0.2));
}

}  // namespace

void RegisterGemm(Napi::Env env, Napi::Object exports) {
  exports.Set("sgemm", Napi::Function::New(env, Sgemm, "sgemm"));
  exports.Set("sgemmBatched", Napi::Function::New(env, SgemmBatched, "sgemmBatched"));
  exports.Set("isa", Napi::Function::New(env, Isa, "isa"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("threads", Napi::Function::New(env, Threads, "threads"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("peakGflops", Napi::Function::New(env, PeakGflops, "peakGflops"));
}

}  // namespace tessera
