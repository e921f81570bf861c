// N-API entry point: each kernel family registers its functions on the exports object.
#include <napi.h>

#include <cstdlib>
#include <limits>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tessera {
void RegisterGemm(Napi::Env env, Napi::Object exports);  // gemm_binding.cc: sgemm, sgemmBatched, isa, threads, peak
void RegisterOps(Napi::Env env, Napi::Object exports);   // ops.cc (+ files it includes): everything else
}  // namespace tessera

// Tensor data lives in ArrayBuffers, which Node allocates with malloc. glibc serves blocks above a (dynamic)
// threshold with a fresh mmap and unmaps them on free, and trims the heap top back to the kernel, so every
// op output of a few MB would cost a page fault per 4 KiB on first touch: on a 2-core machine that rivalled
// the kernels themselves (block forward 170 ms -> 49 ms). Serving blocks up to glibc's maximum threshold
// (32 MiB) from the heap and not trimming it keeps freed tensor memory mapped for the next op.
// TESSERA_MALLOC_DEFAULTS=1 leaves glibc's settings alone (to measure the difference).
static void KeepTensorMemoryMapped() {
#if defined(__GLIBC__)
  static bool done = false;
  if (done || std::getenv("TESSERA_MALLOC_DEFAULTS")) return;
  done = true;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
  mallopt(M_TOP_PAD, 16 << 20);
#endif
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  KeepTensorMemoryMapped();
  tessera::RegisterGemm(env, exports);
  tessera::RegisterOps(env, exports);
  return exports;
}

NODE_API_MODULE(tessera_native, Init)
