// Placeholder until the gemm kernels land: registers nothing yet.
#include <napi.h>
namespace tessera {
void RegisterGemm(Napi::Env, Napi::Object) {}
}  // namespace tessera
