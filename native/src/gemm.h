// Internal C++ entry points of the gemm kernels, for other kernels (conv via im2col, attention) to call.
#pragma once
#include <cstdint>

namespace tessera {

// C[m,n] = alpha * op(A) * op(B) + beta * C, row-major with leading dimensions; op(X) = X^T when trans.
// Uses the shared thread pool unless called from inside a pool task (then runs on the calling thread).
// beta == 0 never reads C (it may hold NaN).
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// Same, never uses the pool (for callers that are already parallel over an outer loop).
void sgemm_serial(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                  int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// `batch` independent sgemms; matrix i starts at i*stride_x in each array (stride 0 broadcasts an input).
// Parallel over the batch when it is large enough, otherwise over each product.
void sgemm_batched(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                   int64_t lda, int64_t stride_a, const float* b, int64_t ldb, int64_t stride_b, float beta, float* c,
                   int64_t ldc, int64_t stride_c, int64_t batch);

}  // namespace tessera
