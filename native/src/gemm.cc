// Packed, cache-blocked sgemm driver (the GotoBLAS / BLIS scheme) and ISA dispatch.
//
// Loop nest, outermost first (block sizes come from the active GemmKernel):
//   i0 over M by m_block
//     p0 over K by kc          pack op(A)[i0.., p0..] * alpha into mr-row panels   (m_block x kc: L3)
//       j0 over N by n_block     pack op(B)[p0.., j0..] into nr-column panels     (kc x n_block: L2)
//         ir by mr                 one A micro-panel, mr x kc, reused by every jr  (L1)
//           jr by nr                 micro-kernel: an mr x nr tile of C in registers; B streams from L2
// The first k block applies beta to C; later ones accumulate onto it (beta = 1).
// Packing makes every micro-kernel read unit-stride and aligned whatever the transposes and leading
// dimensions, and pads edges with zeros so the kernel always computes a full tile; partial tiles go
// through a scratch tile and only their valid part is merged into C.
#include "gemm.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gemm_kernels.h"
#include "threadpool.h"

namespace tessera {
namespace {

// ---- ISA dispatch ----------------------------------------------------------------------------

bool cpu_can_run(const GemmKernel* k) {
  if (!k) return false;
#if defined(__x86_64__)
  std::string isa = k->isa;
  if (isa == "avx512f") return __builtin_cpu_supports("avx512f");
  if (isa == "avx2") return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return true;
}

// Best kernel this CPU can run whose rank is <= `cap` (0 portable, 1 avx2, 2 avx512f).
const GemmKernel* best_kernel(int cap) {
  const GemmKernel* ranked[] = {gemm_kernel_portable(), gemm_kernel_avx2(), gemm_kernel_avx512()};
  for (int r = std::min(cap, 2); r > 0; r--)
    if (cpu_can_run(ranked[r])) return ranked[r];
  return ranked[0];
}

int isa_rank(const std::string& name) {
  if (name == "avx512f" || name == "avx512") return 2;
  if (name == "avx2") return 1;
  if (name == "portable") return 0;
  return -1;
}

const GemmKernel* initial_kernel() {
  const char* env = std::getenv("TESSERA_ISA");
  int cap = env ? isa_rank(env) : 2;
  return best_kernel(cap < 0 ? 2 : cap);
}

std::atomic<const GemmKernel*> g_kernel{initial_kernel()};

// ---- packing ------------------------------------------------------------------------------------

// 64-byte aligned scratch that grows on demand; one per thread (every pool thread packs its own panels).
class PackBuffer {
 public:
  ~PackBuffer() { std::free(data_); }
  float* get(size_t floats) {
    if (floats > capacity_) {
      std::free(data_);
      size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      capacity_ = floats;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

thread_local PackBuffer t_packed_a, t_packed_b;

// Packs op(A)[0..rows, 0..kc) (a points at its top-left element) times alpha into panels of MR rows:
// panel q holds, for each p, the MR values op(A)[q*MR + i, p] contiguously; missing rows are zero.
// MR is a template parameter so the per-p loop over rows unrolls into straight loads and stores.
template <int MR>
void pack_a(bool trans, const float* a, int64_t lda, int64_t rows, int64_t kc, float alpha, float* dst) {
  for (int64_t i0 = 0; i0 < rows; i0 += MR, dst += MR * kc) {
    const int valid = int(std::min<int64_t>(MR, rows - i0));
    if (trans) {  // op(A)[i, p] = a[p*lda + i]: each p is a contiguous run of rows
      for (int64_t p = 0; p < kc; p++) {
        const float* src = a + p * lda + i0;
        float* out = dst + p * MR;
        for (int i = 0; i < valid; i++) out[i] = alpha * src[i];
        for (int i = valid; i < MR; i++) out[i] = 0.0f;
      }
    } else if (valid == MR) {  // op(A)[i, p] = a[i*lda + p]: MR row streams, one packed row per p
      const float* src = a + i0 * lda;
      for (int64_t p = 0; p < kc; p++)
        for (int i = 0; i < MR; i++) dst[p * MR + i] = alpha * src[i * lda + p];
    } else {
      for (int64_t p = 0; p < kc; p++)
        for (int i = 0; i < MR; i++) dst[p * MR + i] = i < valid ? alpha * a[(i0 + i) * lda + p] : 0.0f;
    }
  }
}

void pack_a(bool trans, const float* a, int64_t lda, int64_t rows, int64_t kc, float alpha, int mr, float* dst) {
  switch (mr) {
    case 12: return pack_a<12>(trans, a, lda, rows, kc, alpha, dst);
    case 6: return pack_a<6>(trans, a, lda, rows, kc, alpha, dst);
    case 4: return pack_a<4>(trans, a, lda, rows, kc, alpha, dst);
    default: std::abort();  // every GemmKernel's mr is listed above
  }
}

// Packs op(B)[0..kc, 0..cols) into panels of NR columns: panel q holds, for each p, the NR values
// op(B)[p, q*NR + j] contiguously; missing columns are zero.
template <int NR>
void pack_b(bool trans, const float* b, int64_t ldb, int64_t kc, int64_t cols, float* dst) {
  if (!trans) {
    // op(B)[p, j] = b[p*ldb + j]. Row by row, each row's run of columns dealt out to the panels: the reads
    // stream through memory. (Panel by panel would read NR floats from each of kc rows ldb apart: a new page
    // per row, and on a 1024-wide matrix packing took a tenth of the whole product.)
    const int64_t full = cols / NR * NR;
    for (int64_t p = 0; p < kc; p++) {
      const float* row = b + p * ldb;
      float* out = dst + p * NR;
      for (int64_t j0 = 0; j0 < full; j0 += NR, out += NR * kc) std::memcpy(out, row + j0, NR * sizeof(float));
      if (full < cols) {
        const int valid = int(cols - full);
        std::memcpy(out, row + full, valid * sizeof(float));
        for (int j = valid; j < NR; j++) out[j] = 0.0f;
      }
    }
    return;
  }
  for (int64_t j0 = 0; j0 < cols; j0 += NR, dst += NR * kc) {
    const int valid = int(std::min<int64_t>(NR, cols - j0));
    if (valid == NR) {  // op(B)[p, j] = b[j*ldb + p]: NR column streams, one packed row per p
      const float* src = b + j0 * ldb;
      for (int64_t p = 0; p < kc; p++)
        for (int j = 0; j < NR; j++) dst[p * NR + j] = src[j * ldb + p];
    } else {
      for (int64_t p = 0; p < kc; p++)
        for (int j = 0; j < NR; j++) dst[p * NR + j] = j < valid ? b[(j0 + j) * ldb + p] : 0.0f;
    }
  }
}

void pack_b(bool trans, const float* b, int64_t ldb, int64_t kc, int64_t cols, int nr, float* dst) {
  switch (nr) {
    case 32: return pack_b<32>(trans, b, ldb, kc, cols, dst);
    case 16: return pack_b<16>(trans, b, ldb, kc, cols, dst);
    case 8: return pack_b<8>(trans, b, ldb, kc, cols, dst);
    default: std::abort();  // every GemmKernel's nr is listed above
  }
}

// C[0..rows, 0..cols) = tile + beta * C for a partial tile computed into scratch (row stride nr).
void merge_tile(const float* tile, int nr, int rows, int cols, float beta, float* c, int64_t ldc) {
  for (int i = 0; i < rows; i++) {
    float* row = c + i * ldc;
    const float* t = tile + i * nr;
    if (beta == 0.0f)
      for (int j = 0; j < cols; j++) row[j] = t[j];
    else
      for (int j = 0; j < cols; j++) row[j] = t[j] + beta * row[j];
  }
}

// C = beta * C (the whole product when k == 0 or alpha == 0).
void scale_c(int64_t m, int64_t n, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < m; i++) {
    float* row = c + i * ldc;
    if (beta == 0.0f) std::fill(row, row + n, 0.0f);
    else if (beta != 1.0f)
      for (int64_t j = 0; j < n; j++) row[j] *= beta;
  }
}

// C[0..mb, 0..nb) = packed A (mb rows) x packed B (nb columns) + beta * C: every register tile, edges through
// a scratch tile.
void multiply_block(const GemmKernel& K, int64_t kc, const float* packed_a, int64_t mb, const float* packed_b,
                    int64_t nb, float* c, int64_t ldc, float beta) {
  const int mr = K.mr, nr = K.nr;
  alignas(64) float scratch[kMaxMicroTile];
  for (int64_t ir = 0; ir < mb; ir += mr) {
    const float* a_panel = packed_a + ir * kc;
    const int rows = int(std::min<int64_t>(mr, mb - ir));
    for (int64_t jr = 0; jr < nb; jr += nr) {
      const float* b_panel = packed_b + jr * kc;
      float* c_tile = c + ir * ldc + jr;
      const int cols = int(std::min<int64_t>(nr, nb - jr));
      if (rows == mr && cols == nr) {
        K.micro(kc, a_panel, b_panel, c_tile, ldc, beta);
      } else {
        K.micro(kc, a_panel, b_panel, scratch, nr, 0.0f);
        merge_tile(scratch, nr, rows, cols, beta, c_tile, ldc);
      }
    }
  }
}

// The blocked product with B supplied by `pack_b_block(p0, kc, j0, nb, nr, dst)`, which writes rows
// [p0, p0+kc) x columns [j0, j0+nb) of op(B) as nr-column panels (the layout of pack_b). Ordinary products pack
// a strided matrix; convolutions pack straight from the padded input (no unfolded copy).
template <class PackB>
void gemm_blocked_with(const GemmKernel& K, bool ta, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                       int64_t lda, const PackB& pack_b_block, float beta, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) return scale_c(m, n, beta, c, ldc);
  const int mr = K.mr, nr = K.nr;
  const int64_t m_block = std::min<int64_t>(K.m_block, (m + mr - 1) / mr * mr);
  const int64_t kc_max = std::min<int64_t>(K.kc, k);
  const int64_t n_block = std::min<int64_t>(K.n_block, (n + nr - 1) / nr * nr);
  float* packed_a = t_packed_a.get(size_t(m_block) * kc_max);
  float* packed_b = t_packed_b.get(size_t(n_block) * kc_max);

  for (int64_t i0 = 0; i0 < m; i0 += m_block) {
    const int64_t mb = std::min(m_block, m - i0);
    for (int64_t p0 = 0; p0 < k; p0 += kc_max) {
      const int64_t kc = std::min(kc_max, k - p0);
      const float beta_block = p0 == 0 ? beta : 1.0f;  // later k blocks accumulate onto the first
      pack_a(ta, ta ? a + p0 * lda + i0 : a + i0 * lda + p0, lda, mb, kc, alpha, mr, packed_a);
      for (int64_t j0 = 0; j0 < n; j0 += n_block) {
        const int64_t nb = std::min(n_block, n - j0);
        pack_b_block(p0, kc, j0, nb, nr, packed_b);
        multiply_block(K, kc, packed_a, mb, packed_b, nb, c + i0 * ldc + j0, ldc, beta_block);
      }
    }
  }
}

// C[m, n] = alpha * op(A) op(B) + beta * C for a row of A (m == 1) and B^T stored [n, k]: one dot product per
// column. Packing B would cost as much as the whole product (the adaLN projections of a single condition vector).
void gemv_rows(int64_t n, int64_t k, float alpha, const float* a, const float* b, int64_t ldb, float beta, float* c) {
  for (int64_t j = 0; j < n; j++) {
    const float* row = b + j * ldb;
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // fixed lanes: the same sum on every ISA and thread count
    int64_t p = 0;
    for (; p + 8 <= k; p += 8)
      for (int l = 0; l < 8; l++) acc[l] += a[p + l] * row[p + l];
    for (; p < k; p++) acc[p & 7] += a[p] * row[p];
    const float dot = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    c[j] = beta == 0.0f ? alpha * dot : alpha * dot + beta * c[j];
  }
}

void gemm_blocked(const GemmKernel& K, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 1 && !ta && tb && k > 0 && n > 0 && alpha != 0.0f) return gemv_rows(n, k, alpha, a, b, ldb, beta, c);
  gemm_blocked_with(K, ta, m, n, k, alpha, a, lda,
                    [&](int64_t p0, int64_t kc, int64_t j0, int64_t nb, int nr, float* dst) {
                      pack_b(tb, tb ? b + j0 * ldb + p0 : b + p0 * ldb + j0, ldb, kc, nb, nr, dst);
                    },
                    beta, c, ldc);
}

// Below this many flops a product runs on one thread: waking the pool costs a few microseconds.
constexpr double kParallelMinFlops = 4e6;

// Packed op(B) of a whole product, shared by the threads that split its rows. One product at a time uses it
// (the mutex); a product that finds it taken packs privately instead.
std::mutex g_shared_b_mutex;
PackBuffer g_shared_b;

// Columns of B packed per claim: wide enough that each row of B is read in runs of 512 bytes.
constexpr int64_t kSharedPanelsPerClaim = 4;
// Largest shared packing (floats, 32 MB): bigger products pack per thread rather than hold all of B packed.
constexpr int64_t kSharedMaxFloats = int64_t(8) << 20;

// Rows split between the threads as in gemm_parallel, but op(B) is packed once, not once per thread: for each
// k block, every thread claims groups of panels from a counter and packs them, then waits until the whole block
// row is packed (a wait only on threads that are packing right now, so it cannot deadlock even when one thread
// ends up running every part), then multiplies its own rows against it. Each k block has its own region, so no
// packed panel is overwritten while another thread may still read it.
bool gemm_parallel_shared_b(const GemmKernel& K, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                            const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                            int64_t ldc, int64_t parts) {
  std::unique_lock<std::mutex> lock(g_shared_b_mutex, std::try_to_lock);
  if (!lock.owns_lock()) return false;
  const int mr = K.mr, nr = K.nr;
  const int64_t kc_max = std::min<int64_t>(K.kc, k);
  const int64_t n_block = std::min<int64_t>(K.n_block, (n + nr - 1) / nr * nr);
  const int64_t panels = (n + nr - 1) / nr;
  const int64_t n_pad = panels * nr;
  const int64_t k_blocks = (k + kc_max - 1) / kc_max;
  const int64_t claims = (panels + kSharedPanelsPerClaim - 1) / kSharedPanelsPerClaim;
  if (k * n_pad > kSharedMaxFloats) return false;
  float* shared = g_shared_b.get(size_t(k) * size_t(n_pad));
  std::vector<std::atomic<int64_t>> next_claim(k_blocks), panels_done(k_blocks);
  for (int64_t i = 0; i < k_blocks; i++) next_claim[i].store(0), panels_done[i].store(0);
  const int64_t tiles = (m + mr - 1) / mr;

  parallel_for(parts, 1, [&](int64_t first, int64_t last) {
    for (int64_t part = first; part < last; part++) {
      const int64_t begin = std::min(m, tiles * part / parts * mr);
      const int64_t end = std::min(m, tiles * (part + 1) / parts * mr);
      const int64_t mb = end - begin;
      float* packed_a = t_packed_a.get(size_t((mb + mr - 1) / mr * mr) * kc_max);
      for (int64_t kb = 0; kb < k_blocks; kb++) {
        const int64_t p0 = kb * kc_max;
        const int64_t kc = std::min(kc_max, k - p0);
        float* block_row = shared + p0 * n_pad;  // kc x n_pad: panel q at q * nr * kc
        for (int64_t g; (g = next_claim[kb].fetch_add(1, std::memory_order_relaxed)) < claims;) {
          const int64_t q0 = g * kSharedPanelsPerClaim, q1 = std::min(panels, q0 + kSharedPanelsPerClaim);
          const int64_t j0 = q0 * nr, cols = std::min(n, q1 * nr) - j0;
          pack_b(tb, tb ? b + j0 * ldb + p0 : b + p0 * ldb + j0, ldb, kc, cols, nr, block_row + q0 * nr * kc);
          panels_done[kb].fetch_add(q1 - q0, std::memory_order_release);
        }
        if (mb <= 0) continue;
        const float beta_block = p0 == 0 ? beta : 1.0f;
        pack_a(ta, ta ? a + p0 * lda + begin : a + begin * lda + p0, lda, mb, kc, alpha, mr, packed_a);
        for (int spins = 0; panels_done[kb].load(std::memory_order_acquire) < panels; spins++) {
          if (spins < 1024) cpu_relax();
          else std::this_thread::yield();
        }
        for (int64_t j0 = 0; j0 < n; j0 += n_block) {
          const int64_t nb = std::min(n_block, n - j0);
          multiply_block(K, kc, packed_a, mb, block_row + j0 * kc, nb, c + begin * ldc + j0, ldc, beta_block);
        }
      }
    }
  });
  return true;
}

void gemm_parallel(const GemmKernel& K, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                   const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const int threads = in_parallel_region() ? 1 : pool_threads();
  if (threads == 1 || 2.0 * double(m) * double(n) * double(k) < kParallelMinFlops)
    return gemm_blocked(K, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  // Row parts that fit one m block share a single packing of B (the common transformer shapes).
  if (m >= n && k > 0 && alpha != 0.0f && (m + threads - 1) / threads <= K.m_block &&
      !(m == 1 && !ta && tb) &&
      gemm_parallel_shared_b(K, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                             std::min<int64_t>(threads, (m + K.mr - 1) / K.mr)))
    return;
  // Split the longer of M and N into one part per thread, on register-tile boundaries. Each part is an
  // independent product with its own packing (the shared operand is packed twice, O(k*n) next to
  // O(m*n*k/threads) flops), so threads never synchronise inside it and each keeps its B block in its own L2.
  const bool split_rows = m >= n;
  const int64_t tile = split_rows ? K.mr : K.nr;
  const int64_t extent = split_rows ? m : n;
  const int64_t tiles = (extent + tile - 1) / tile;
  const int64_t parts = std::min<int64_t>(threads, tiles);
  parallel_for(parts, 1, [&](int64_t first, int64_t last) {
    for (int64_t part = first; part < last; part++) {
      const int64_t begin = std::min(extent, tiles * part / parts * tile);
      const int64_t end = std::min(extent, tiles * (part + 1) / parts * tile);
      if (begin >= end) continue;
      if (split_rows)
        gemm_blocked(K, ta, tb, end - begin, n, k, alpha, ta ? a + begin : a + begin * lda, lda, b, ldb, beta,
                     c + begin * ldc, ldc);
      else
        gemm_blocked(K, ta, tb, m, end - begin, k, alpha, a, lda, tb ? b + begin * ldb : b + begin, ldb, beta,
                     c + begin, ldc);
    }
  });
}

}  // namespace

// ---- public entry points ------------------------------------------------------------------------

const GemmKernel& active_gemm_kernel() { return *g_kernel.load(std::memory_order_relaxed); }

bool set_gemm_isa(const char* name) {
  int rank = isa_rank(name);
  if (rank < 0) return false;
  const GemmKernel* k = best_kernel(rank);
  if (isa_rank(k->isa) != rank) return false;  // this CPU cannot run the one asked for
  g_kernel.store(k);
  return true;
}

void sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  gemm_parallel(active_gemm_kernel(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void sgemm_serial(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                  const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  gemm_blocked(active_gemm_kernel(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void sgemm_serial_custom_b(bool ta, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                           const PackBlockB& pack_b_block, float beta, float* c, int64_t ldc) {
  gemm_blocked_with(active_gemm_kernel(), ta, m, n, k, alpha, a, lda, pack_b_block, beta, c, ldc);
}

void sgemm_batched(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                   int64_t stride_a, const float* b, int64_t ldb, int64_t stride_b, float beta, float* c,
                   int64_t ldc, int64_t stride_c, int64_t batch) {
  if (batch <= 0) return;
  const GemmKernel& K = active_gemm_kernel();
  const int threads = in_parallel_region() ? 1 : pool_threads();
  // Whole products per thread when there are enough of them (and C blocks do not alias: stride 0 on C
  // means every product writes the same matrix, which must then happen in order).
  if (threads > 1 && batch >= threads && stride_c != 0) {
    parallel_for(batch, 1, [&](int64_t first, int64_t last) {
      for (int64_t i = first; i < last; i++)
        gemm_blocked(K, ta, tb, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb, beta,
                     c + i * stride_c, ldc);
    });
    return;
  }
  for (int64_t i = 0; i < batch; i++)
    gemm_parallel(K, ta, tb, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb, beta, c + i * stride_c,
                  ldc);
}

double measure_peak_gflops(int threads, double seconds) {
  using Clock = std::chrono::steady_clock;
  const GemmKernel& K = active_gemm_kernel();
  const int saved_threads = pool_threads();
  threads = std::max(1, threads);
  if (threads > saved_threads) pool_set_threads(threads);
  std::vector<double> flops(threads, 0.0);
  std::vector<float> sinks(threads, 0.0f);
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  parallel_for(threads, 1, [&](int64_t first, int64_t last) {
    for (int64_t t = first; t < last; t++)
      while (Clock::now() < deadline) flops[t] += K.fma_loop(1 << 16, &sinks[t]);
  });
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (threads > saved_threads) pool_set_threads(saved_threads);
  double total = 0;
  for (double f : flops) total += f;
  return total / elapsed / 1e9;
}

}  // namespace tessera
