// Internal C++ entry points of the gemm kernels, for other kernels (conv via im2col, attention) to call.
#pragma once
#include <cstdint>
#include <functional>

namespace tessera {

// C[m,n] = alpha * op(A) * op(B) + beta * C, row-major with leading dimensions; op(X) = X^T when trans.
// Uses the shared thread pool unless called from inside a pool task (then runs on the calling thread).
// beta == 0 never reads C (it may hold NaN).
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// Same, never uses the pool (for callers that are already parallel over an outer loop).
void sgemm_serial(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                  int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// Writes rows [p0, p0+kc) x columns [j0, j0+nb) of op(B) into `dst` as panels of nr columns: panel q holds, for
// each row p, the nr values op(B)[p0+p, j0+q*nr+j] contiguously (p-major), columns past nb zero.
using PackBlockB = std::function<void(int64_t p0, int64_t kc, int64_t j0, int64_t nb, int nr, float* dst)>;

// sgemm_serial with op(B) never materialised: the caller packs each block (implicit-GEMM convolution).
void sgemm_serial_custom_b(bool trans_a, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                           const PackBlockB& pack_b_block, float beta, float* c, int64_t ldc);

// `batch` independent sgemms; matrix i starts at i*stride_x in each array (stride 0 broadcasts an input).
// Parallel over the batch when it is large enough, otherwise over each product.
void sgemm_batched(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                   int64_t lda, int64_t stride_a, const float* b, int64_t ldb, int64_t stride_b, float beta, float* c,
                   int64_t ldc, int64_t stride_c, int64_t batch);

}  // namespace tessera
