// Portable micro-kernel: plain C++ that the compiler vectorises for the baseline ISA (SSE2 on x86-64,
// NEON on arm64). A 4 x 8 tile keeps 8 SSE accumulators, leaving registers for B and the broadcast.
#include "gemm_kernels.h"

namespace tessera {
namespace {

constexpr int kMR = 4, kNR = 8;

void micro_4x8(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float beta) {
  float acc[kMR][kNR] = {};
  for (int64_t p = 0; p < kc; p++) {
    for (int i = 0; i < kMR; i++)
      for (int j = 0; j < kNR; j++) acc[i][j] += a[i] * b[j];
    a += kMR;
    b += kNR;
  }
  for (int i = 0; i < kMR; i++) {
    float* row = c + i * ldc;
    if (beta == 0.0f)  // C may hold garbage (NaN): never read it
      for (int j = 0; j < kNR; j++) row[j] = acc[i][j];
    else
      for (int j = 0; j < kNR; j++) row[j] = acc[i][j] + beta * row[j];
  }
}

double fma_loop_portable(int64_t iters, float* sink) {
  constexpr int kChains = 32;  // 8 SSE registers of 4 lanes
  float acc[kChains];
  for (int j = 0; j < kChains; j++) acc[j] = float(j) * 0.01f;
  for (int64_t it = 0; it < iters; it++)
    for (int j = 0; j < kChains; j++) acc[j] = acc[j] * 0.999999f + 1e-6f;
  float s = 0;
  for (float v : acc) s += v;
  *sink = s;
  return double(iters) * kChains * 2;
}

// Smaller blocks: the portable path must be sane on any cache hierarchy.
const GemmKernel kKernel = {"portable", kMR, kNR, 256, 256, 1024, micro_4x8, fma_loop_portable};

}  // namespace

const GemmKernel* gemm_kernel_portable() { return &kKernel; }

}  // namespace tessera
