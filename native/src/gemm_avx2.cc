// AVX2 + FMA micro-kernel: a 6 x 16 tile of C in 12 ymm accumulators.
//
// Per step of k: two vectors of packed B, 6 broadcasts of packed A, 12 FMAs. 12 accumulators + 2 B vectors
// + 1 broadcast use 15 of the 16 ymm registers; 12 independent chains cover FMA latency x 2 pipes.
//
// Blocking (Zen 4 sizes; also reasonable on Haswell-era parts with 256 KB L2):
//   kc = 256       the A micro-panel (6 x 256 floats = 6 KB) stays in L1;
//   n_block = 384  the packed B block (256 x 384 floats = 384 KB) stays in L2;
//   m_block = 3072 rows of packed A (L3).
#include "gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TESSERA_AVX2 __attribute__((target("avx2,fma")))

namespace tessera {
namespace {

constexpr int kMR = 6, kNR = 16;

TESSERA_AVX2 void micro_6x16(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float beta) {
  const float* next_row = c;  // one moving row pointer keeps registers free for the loop (see gemm_avx512.cc)
  for (int i = 0; i < kMR; i++, next_row += ldc) {
    _mm_prefetch(reinterpret_cast<const char*>(next_row), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(next_row + kNR - 1), _MM_HINT_T0);
  }
  __m256 acc[kMR][2];
#pragma GCC unroll 6
  for (int i = 0; i < kMR; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();

  for (int64_t p = 0; p < kc; p++) {
    __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < kMR; i++) {
      __m256 ai = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += kMR;
    b += kNR;
  }

  float* row = c;
  if (beta == 0.0f) {  // C may hold garbage (NaN): never read it
#pragma GCC unroll 6
    for (int i = 0; i < kMR; i++, row += ldc) {
      _mm256_storeu_ps(row, acc[i][0]);
      _mm256_storeu_ps(row + 8, acc[i][1]);
    }
  } else {
    __m256 vbeta = _mm256_set1_ps(beta);
#pragma GCC unroll 6
    for (int i = 0; i < kMR; i++, row += ldc) {
      _mm256_storeu_ps(row, _mm256_fmadd_ps(vbeta, _mm256_loadu_ps(row), acc[i][0]));
      _mm256_storeu_ps(row + 8, _mm256_fmadd_ps(vbeta, _mm256_loadu_ps(row + 8), acc[i][1]));
    }
  }
}

TESSERA_AVX2 double fma_loop_avx2(int64_t iters, float* sink) {
  constexpr int kChains = 12;
  __m256 acc[kChains];
  for (int j = 0; j < kChains; j++) acc[j] = _mm256_set1_ps(float(j) * 0.01f);
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-6f);
  for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int j = 0; j < kChains; j++) acc[j] = _mm256_fmadd_ps(acc[j], x, y);
  }
  __m256 total = acc[0];
  for (int j = 1; j < kChains; j++) total = _mm256_add_ps(total, acc[j]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, total);
  float s = 0;
  for (float v : lanes) s += v;
  *sink = s;
  return double(iters) * kChains * 8 * 2;
}

const GemmKernel kKernel = {"avx2", kMR, kNR, 256, 384, 3072, micro_6x16, fma_loop_avx2};

}  // namespace

const GemmKernel* gemm_kernel_avx2() { return &kKernel; }

}  // namespace tessera

#else
namespace tessera {
const GemmKernel* gemm_kernel_avx2() { return nullptr; }
}  // namespace tessera
#endif
