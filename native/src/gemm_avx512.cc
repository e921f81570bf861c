// AVX-512F micro-kernel: a 12 x 32 tile of C in 24 zmm accumulators.
//
// Per step of k it loads two vectors of packed B (32 columns) and broadcasts 12 values of packed A:
// 24 FMAs for 14 loads, so the FMA pipes (two 512-bit FMAs per cycle on Zen 5, one on Zen 4) stay the
// bottleneck. 24 accumulators + 2 B vectors + a broadcast leave 5 of the 32 zmm registers free. A 14 x 32
// tile (28 accumulators) is as fast in isolation, but with beta and the C addresses live GCC spills a B
// vector to the stack inside the loop, which cost a third of the throughput.
//
// Blocking for Zen 4 / Zen 5 (32 / 48 KB L1d, 1 MB L2 per core), tuned on Zen 5:
//   kc = 256       the A micro-panel (12 x 256 floats = 12 KB) stays in L1 across a whole row of tiles, beside
//                  the B micro-panel streaming through (256 x 32 floats = 32 KB);
//   n_block = 384  the packed B block (256 x 384 floats = 384 KB) stays in L2 while every A panel sweeps it;
//   m_block = 3072 rows of packed A (3 MB, L3); B is re-packed once per m_block.
// kc from 192 to 512 and n_block from 192 to 512 all land within a few percent of each other.
#include "gemm_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TESSERA_AVX512 __attribute__((target("avx512f")))

namespace tessera {
namespace {

constexpr int kMR = 12, kNR = 32;

TESSERA_AVX512 void micro_12x32(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float beta) {
  // The tile is written at the end; fetch it while we compute. (Rows are addressed by one moving pointer
  // here and below: 12 precomputed row addresses would be kept live across the loop and push a B vector
  // out of the registers.)
  const float* next_row = c;
  for (int i = 0; i < kMR; i++, next_row += ldc) {
    _mm_prefetch(reinterpret_cast<const char*>(next_row), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(next_row + kNR - 1), _MM_HINT_T0);
  }
  __m512 acc[kMR][2];
#pragma GCC unroll 12
  for (int i = 0; i < kMR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();

  for (int64_t p = 0; p < kc; p++) {
    __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 12
    for (int i = 0; i < kMR; i++) {
      __m512 ai = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += kMR;
    b += kNR;
  }

  float* row = c;
  if (beta == 0.0f) {  // C may hold garbage (NaN): never read it
#pragma GCC unroll 12
    for (int i = 0; i < kMR; i++, row += ldc) {
      _mm512_storeu_ps(row, acc[i][0]);
      _mm512_storeu_ps(row + 16, acc[i][1]);
    }
  } else {
    __m512 vbeta = _mm512_set1_ps(beta);
#pragma GCC unroll 12
    for (int i = 0; i < kMR; i++, row += ldc) {
      _mm512_storeu_ps(row, _mm512_fmadd_ps(vbeta, _mm512_loadu_ps(row), acc[i][0]));
      _mm512_storeu_ps(row + 16, _mm512_fmadd_ps(vbeta, _mm512_loadu_ps(row + 16), acc[i][1]));
    }
  }
}

// 12 independent chains: enough to cover FMA latency x throughput on every AVX-512 core (4 x 2 on Intel).
TESSERA_AVX512 double fma_loop_avx512(int64_t iters, float* sink) {
  constexpr int kChains = 12;
  __m512 acc[kChains];
  for (int j = 0; j < kChains; j++) acc[j] = _mm512_set1_ps(float(j) * 0.01f);
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-6f);
  for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int j = 0; j < kChains; j++) acc[j] = _mm512_fmadd_ps(acc[j], x, y);
  }
  __m512 total = acc[0];
  for (int j = 1; j < kChains; j++) total = _mm512_add_ps(total, acc[j]);
  alignas(64) float lanes[16];  // (not _mm512_reduce_add_ps: GCC 12 warns inside its header)
  _mm512_store_ps(lanes, total);
  float s = 0;
  for (float v : lanes) s += v;
  *sink = s;
  return double(iters) * kChains * 16 * 2;
}

const GemmKernel kKernel = {"avx512f", kMR, kNR, 256, 384, 3072, micro_12x32, fma_loop_avx512};

}  // namespace

const GemmKernel* gemm_kernel_avx512() { return &kKernel; }

}  // namespace tessera

#else
namespace tessera {
const GemmKernel* gemm_kernel_avx512() { return nullptr; }
}  // namespace tessera
#endif
