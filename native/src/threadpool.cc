// Placeholder pool: runs serially until the persistent pool lands.
#include "threadpool.h"
namespace tessera {
static int g_threads = 1;
int pool_threads() { return g_threads; }
void pool_set_threads(int n) { g_threads = n < 1 ? 1 : n; }
void parallel_for(int64_t n, int64_t, const std::function<void(int64_t, int64_t)>& fn) { if (n > 0) fn(0, n); }
}  // namespace tessera
