// Internal: the per-ISA pieces of the gemm (micro-kernel, blocking sizes, FMA peak loop).
// The driver in gemm.cc is ISA-independent; each gemm_<isa>.cc compiles its micro-kernel with a
// per-function target attribute, so one binary runs on every x86-64 and picks the best kernel at load.
#pragma once
#include <cstdint>

namespace tessera {

constexpr int kMaxMicroTile = 12 * 32;  // largest MR * NR of any kernel (scratch tile for edges)

struct GemmKernel {
  const char* isa;  // "avx512f" | "avx2" | "portable"
  int mr, nr;       // register tile of C: mr rows x nr columns
  // Cache blocking (in elements). The driver keeps an mr x kc panel of packed A in L1, streams a packed
  // kc x n_block block of B from L2, and walks A in m_block rows (L3) so B is packed only once per m_block.
  int kc, n_block, m_block;
  // C[0..mr, 0..nr) (row stride ldc) = sum_p a[p*mr + i] * b[p*nr + j]  +  beta * C.
  // `a` and `b` are packed panels (64-byte aligned). beta == 0 writes C without reading it.
  void (*micro)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float beta);
  // Runs `iters` rounds of independent FMA chains held in registers; returns the flops done.
  // `sink` receives a value derived from the result so the loop cannot be optimised away.
  double (*fma_loop)(int64_t iters, float* sink);
};

// Each returns nullptr when the kernel was not compiled in (non-x86 builds).
const GemmKernel* gemm_kernel_avx512();
const GemmKernel* gemm_kernel_avx2();
const GemmKernel* gemm_kernel_portable();

}  // namespace tessera

namespace tessera {

// The kernel in use: picked at load from the CPU (AVX-512F > AVX2+FMA > portable), capped by TESSERA_ISA.
const GemmKernel& active_gemm_kernel();
// Switches kernel by name ("avx512f"/"avx512", "avx2", "portable"); false if this CPU cannot run it.
bool set_gemm_isa(const char* name);
// FMA throughput of the active ISA on `threads` threads at once, measured for about `seconds`.
double measure_peak_gflops(int threads, double seconds);

}  // namespace tessera
