// N-API entry point: each kernel family registers its functions on the exports object.
#include <napi.h>

namespace tessera {
void RegisterGemm(Napi::Env env, Napi::Object exports);  // gemm_binding.cc: sgemm, sgemmBatched, isa, threads, peak
void RegisterOps(Napi::Env env, Napi::Object exports);   // ops.cc (+ files it includes): everything else
}  // namespace tessera

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tessera::RegisterGemm(env, exports);
  tessera::RegisterOps(env, exports);
  return exports;
}

NODE_API_MODULE(tessera_native, Init)
