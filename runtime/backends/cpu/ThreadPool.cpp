// ThreadPool.cpp - worker threads woken per job by a generation counter.
#include "ThreadPool.h"

#include <algorithm>

namespace llmc::cpu {

namespace {
thread_local bool tlInPool = false;  // this thread is running a chunk: nested loops run inline
}

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::runChunks(const std::function<void(int64_t, int64_t)>& fn, int64_t n, int64_t chunk) {
  tlInPool = true;
  for (;;) {
    int64_t begin = next_.fetch_add(chunk);
    if (begin >= n) break;
    fn(begin, std::min(n, begin + chunk));
  }
  tlInPool = false;
}

void ThreadPool::workerLoop() {
  uint64_t seen = 0;
  for (;;) {
    const std::function<void(int64_t, int64_t)>* fn;
    int64_t n, chunk;
    {
      // The job's parameters are captured and busy_ raised under the lock while the job is active,
      // so the caller cannot return (and invalidate fn) while this worker may still use it.
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || (inside_ && generation_ != seen); });
      if (stop_) return;
      seen = generation_;
      ++busy_;
      fn = fn_;
      n = n_;
      chunk = chunk_;
    }
    runChunks(*fn, n, chunk);
    {
      std::lock_guard<std::mutex> lock(mu_);
      --busy_;
    }
    done_.notify_one();
  }
}

void ThreadPool::parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  if (workers_.empty() || tlInPool || n <= grain) {
    fn(0, n);
    return;
  }
  // About 4 chunks per thread balances uneven rows (attention over different lengths).
  int64_t chunk = std::max(grain, (n + 4 * size() - 1) / (4 * size()));
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = &fn;
    n_ = n;
    chunk_ = chunk;
    next_.store(0);
    inside_ = true;
    ++generation_;
  }
  wake_.notify_all();
  runChunks(fn, n, chunk);
  {
    // Wait until no worker is inside this job; a worker that has not woken yet sees inside_ false
    // afterwards and keeps sleeping.
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [&] { return busy_ == 0; });
    inside_ = false;
    fn_ = nullptr;
  }
}

}  // namespace llmc::cpu
