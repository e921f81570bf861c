// Placeholder until the op kernels land: registers nothing yet.
#include <napi.h>
namespace tessera {
void RegisterOps(Napi::Env, Napi::Object) {}
}  // namespace tessera
