// Persistent fork-join pool. The calling thread takes part in every job, so a job of one range never
// touches another thread, and workers that are slow to wake (a loaded machine) simply find no work left.
//
// Protocol: a job is published as one 64-bit word `claim_` = generation:32 | chunks:16 | next:16.
// Threads claim chunk indices with a compare-exchange on that word, so a late worker can never claim a
// chunk of a job it did not see published (the generation would differ). The job's other fields are
// written before the word is released and are read only after a successful claim.
// Idle workers spin for a short while (kernels come in quick succession), then sleep on a condition variable.
#include "threadpool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera {
namespace {

using RangeFn = std::function<void(int64_t, int64_t)>;

constexpr int kMaxThreads = 256;                                  // chunks must fit in 16 bits
constexpr auto kSpinBeforeSleep = std::chrono::microseconds(50);  // keeps back-to-back small ops cheap

thread_local bool t_in_region = false;

struct RegionGuard {
  RegionGuard() { t_in_region = true; }
  ~RegionGuard() { t_in_region = false; }
};

class Pool {
 public:
  explicit Pool(int threads) : threads_(threads) {
    for (int i = 1; i < threads; i++) workers_.emplace_back([this] { worker_loop(); });
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_.store(true);
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }

  int threads() const { return threads_; }

  // Runs `chunks` (<= threads) ranges of fn over [0, n); returns when all are done.
  void run(int64_t n, int chunks, const RangeFn& fn) {
    fn_ = &fn;
    n_ = n;
    chunks_ = chunks;
    done_.store(0, std::memory_order_relaxed);
    uint32_t gen = ++generation_;
    claim_.store(pack(gen, chunks, 0), std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      { std::lock_guard<std::mutex> lock(mu_); }  // a worker between its check and its wait now waits
      cv_.notify_all();
    }
    work_on(gen);
    // A worker still running a range may share this core with us (a loaded machine, or more threads than
    // cores): spin only briefly, then yield so it can finish.
    for (int spins = 0; done_.load(std::memory_order_acquire) < chunks; spins++) {
      if (spins < 256) cpu_relax();
      else std::this_thread::yield();
    }
  }

 private:
  static uint64_t pack(uint32_t gen, int chunks, int next) {
    return (uint64_t(gen) << 32) | (uint64_t(chunks) << 16) | uint64_t(next);
  }
  static uint32_t gen_of(uint64_t word) { return uint32_t(word >> 32); }

  // Claims and runs chunks of job `gen` until none are left (or a newer job replaced it).
  void work_on(uint32_t gen) {
    uint64_t word = claim_.load(std::memory_order_acquire);
    for (;;) {
      int chunks = int((word >> 16) & 0xffff), next = int(word & 0xffff);
      if (gen_of(word) != gen || next >= chunks) return;
      if (!claim_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel)) continue;
      int64_t begin = n_ * next / chunks, end = n_ * (next + 1) / chunks;
      {
        RegionGuard guard;
        (*fn_)(begin, end);
      }
      done_.fetch_add(1, std::memory_order_release);
      word = claim_.load(std::memory_order_acquire);
    }
  }

  void worker_loop() {
    // Generation 0 is the empty pool; a worker that starts after the first job was published must still see
    // it as new (reading the current generation here would skip that job and leave it to the caller alone).
    uint32_t seen = 0;
    for (;;) {
      uint32_t gen = wait_for_job(seen);
      if (stop_.load()) return;
      work_on(gen);
      seen = gen;
    }
  }

  // Spins briefly, then sleeps, until a job newer than `seen` is published (or the pool stops).
  uint32_t wait_for_job(uint32_t seen) {
    auto spin_until = std::chrono::steady_clock::now() + kSpinBeforeSleep;
    for (int i = 1;; i++) {
      uint32_t gen = gen_of(claim_.load(std::memory_order_acquire));
      if (gen != seen || stop_.load(std::memory_order_relaxed)) return gen;
      cpu_relax();
      if (i % 64 == 0) {
        if (std::chrono::steady_clock::now() > spin_until) break;
        std::this_thread::yield();  // never starve a thread sharing this core (the caller, on a busy machine)
      }
    }
    std::unique_lock<std::mutex> lock(mu_);
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    cv_.wait(lock, [&] { return gen_of(claim_.load(std::memory_order_seq_cst)) != seen || stop_.load(); });
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
    return gen_of(claim_.load(std::memory_order_acquire));
  }

  const int threads_;
  std::vector<std::thread> workers_;

  // Current job (written by the caller before `claim_` is published).
  const RangeFn* fn_ = nullptr;
  int64_t n_ = 0;
  int chunks_ = 0;
  uint32_t generation_ = 0;
  std::atomic<uint64_t> claim_{0};
  std::atomic<int> done_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
};

int default_threads_from_env() {
  if (const char* env = std::getenv("TESSERA_THREADS")) {
    int n = std::atoi(env);
    if (n >= 1) return std::min(n, kMaxThreads);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : std::min(int(hw), kMaxThreads);
}

// One job at a time: a second caller (another JS thread) that finds the pool busy runs serially.
std::mutex g_pool_mu;
// Never destroyed: worker threads may outlive static destruction at process exit. Created on first use.
Pool* g_pool = nullptr;
// The pool size, readable without the lock (kernels ask for it from inside parallel ranges).
std::atomic<int> g_threads{default_threads_from_env()};

Pool& pool_locked() {
  if (!g_pool) g_pool = new Pool(g_threads.load());
  return *g_pool;
}

}  // namespace

int pool_default_threads() { return default_threads_from_env(); }

int pool_threads() { return g_threads.load(std::memory_order_relaxed); }

void pool_set_threads(int n) {
  n = std::clamp(n, 1, kMaxThreads);
  if (t_in_region) return;  // cannot resize the pool from inside one of its own jobs
  std::lock_guard<std::mutex> lock(g_pool_mu);
  g_threads.store(n);
  if (g_pool && g_pool->threads() == n) return;
  delete g_pool;  // joins the old workers; the new pool starts its own
  g_pool = new Pool(n);
}

bool in_parallel_region() { return t_in_region; }

void parallel_for(int64_t n, int64_t grain, const RangeFn& fn) {
  if (n <= 0) return;
  if (t_in_region) return fn(0, n);  // nested: the outer loop already uses every thread
  std::unique_lock<std::mutex> lock(g_pool_mu, std::try_to_lock);
  if (!lock.owns_lock()) return fn(0, n);
  Pool& pool = pool_locked();
  int64_t max_chunks = grain > 1 ? n / grain : n;
  int chunks = int(std::max<int64_t>(1, std::min<int64_t>(pool.threads(), max_chunks)));
  if (chunks == 1) {
    lock.unlock();  // a single range runs here, and may itself fan out
    return fn(0, n);
  }
  pool.run(n, chunks, fn);
}

}  // namespace tessera
