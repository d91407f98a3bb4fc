// ThreadPool.h - a fixed pool of worker threads for the CPU backend's data-parallel loops.
//
// parallelFor splits [0, n) into chunks that the workers and the calling thread take from a shared
// counter; it returns when every chunk is done. One parallelFor at a time (the backend runs one step
// at a time); nested calls run inline.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace llmc::cpu {

class ThreadPool {
 public:
  // threads: total parallelism including the caller; <= 1 runs everything inline.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  // Calls fn(begin, end) over chunks of [0, n); grain: the smallest chunk worth a thread.
  void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void workerLoop();
  void runChunks(const std::function<void(int64_t, int64_t)>& fn, int64_t n, int64_t chunk);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  bool stop_ = false;
  uint64_t generation_ = 0;
  int busy_ = 0;
  bool inside_ = false;  // a job is running (guarded by mu_)
  // The current job.
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  int64_t chunk_ = 1;
  std::atomic<int64_t> next_{0};
};

}  // namespace llmc::cpu
