// One persistent thread pool shared by every kernel (two pools on 2 cores fight; see DESIGN.md).
#pragma once
#include <cstdint>
#include <functional>
#include <thread>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace tessera {

// Number of threads kernels may use (>= 1). Default: hardware threads, or TESSERA_THREADS.
int pool_threads();
// The default: TESSERA_THREADS when set, else the hardware threads.
int pool_default_threads();
// Resizes the pool (clamped to [1, 256]); ignored when called from inside a parallel_for range.
void pool_set_threads(int n);

// Runs fn(begin, end) over [0, n) split into at most pool_threads() contiguous ranges, on the pool,
// and returns when all are done. Ranges are at least `grain` long. Safe to call from the main thread only;
// nested calls run serially.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

// True while the calling thread is running a parallel_for range (so a kernel should not fan out again).
bool in_parallel_region();

// One step of a spin-wait: a pause hint where the CPU has one, else a yield.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

}  // namespace tessera
