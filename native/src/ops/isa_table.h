// The kernels compiled once per instruction set (see isa_kernels.inc). ops.cc picks one table at load time
// from the CPU's features, so one binary runs everywhere and uses AVX-512 where the CPU has it.
#pragma once
#include <cstdint>

namespace tessera::ops {

enum class UnaryOp { Neg, Exp, Log, Sqrt, Rsqrt, Abs, Tanh, Sigmoid, Sin, Cos, Relu, Square, Recip };
enum class BinaryOp { Add, Sub, Mul, Div, Max, Min, Pow };

// A broadcast binary op after merging dimensions: `rows` runs of `inner` elements. Row r of the output starts
// at r * inner; its operands start at offsets given by the row's multi-index (dims, strides per operand) and
// step through the run with stride 1, or 0 when that operand broadcasts along the innermost dimension.
struct BinaryPlan {
  static constexpr int kMaxRank = 8;
  int rank = 0;                  // number of outer (row) dimensions
  int64_t dims[kMaxRank] = {};   // outer dims, outermost first
  int64_t a_strides[kMaxRank] = {}, b_strides[kMaxRank] = {};
  int64_t rows = 1, inner = 1;
  int64_t a_inner_stride = 1, b_inner_stride = 1;  // 0 or 1
};

// Scalars of one AdamW step, derived in double by the binding (1 - beta2 in float loses 4 digits).
struct AdamWStep {
  float lr, beta1, beta2, one_minus_beta1, one_minus_beta2, eps, weight_decay;
  float bias_correction1, bias_correction2;  // 1 / (1 - beta^step)
};

struct IsaKernels {
  const char* name;
  void (*attention_forward)(const float* q, const float* k, const float* v, float* out, float* lse, int64_t b,
                            int64_t h, int64_t tq, int64_t tk, int64_t d, float scale, const uint8_t* key_mask);
  void (*attention_backward)(const float* q, const float* k, const float* v, const float* out, const float* dout,
                             const float* lse, float* dq, float* dk, float* dv, int64_t b, int64_t h, int64_t tq,
                             int64_t tk, int64_t d, float scale, const uint8_t* key_mask);
  void (*softmax_forward)(const float* x, float* y, int64_t rows, int64_t cols);
  void (*softmax_backward)(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);
  void (*layer_norm_forward)(const float* x, const float* gamma, const float* beta, float* y, float* mean,
                             float* rstd, int64_t rows, int64_t cols, float eps);
  void (*layer_norm_backward)(const float* x, const float* gamma, const float* dy, const float* mean,
                              const float* rstd, float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols);
  void (*rms_norm_forward)(const float* x, const float* gamma, float* y, float* rstd, int64_t rows, int64_t cols,
                           float eps);
  void (*rms_norm_backward)(const float* x, const float* gamma, const float* dy, const float* rstd, float* dx,
                            float* dgamma, int64_t rows, int64_t cols);
  void (*gelu_forward)(const float* x, float* y, int64_t n);
  void (*gelu_backward)(const float* x, const float* dy, float* dx, int64_t n);
  void (*silu_forward)(const float* x, float* y, int64_t n);
  void (*silu_backward)(const float* x, const float* dy, float* dx, int64_t n);
  void (*unary)(UnaryOp op, const float* x, float* y, int64_t n);
  void (*binary)(BinaryOp op, const BinaryPlan& plan, const float* a, const float* b, float* out);
  void (*scale)(const float* x, float alpha, float beta, float* out, int64_t n);
  void (*axpy)(float alpha, const float* x, float* y, int64_t n);
  void (*adamw)(float* param, const float* grad, float* m, float* v, int64_t n, const AdamWStep& step);
};

}  // namespace tessera::ops
