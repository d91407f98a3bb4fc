// StepTimer.h - where the time of a decode step goes: on the device, or between steps on the host.
//
// Owned by the CUDA backend; a diagnostic for benchmarks (LLMC_CUDA_STEP_TIMING=1), off otherwise.
// For each argmax step it records a CUDA event when the step is enqueued and one after its token is
// copied back, and the host clock at each step's start. At destruction it prints, for decode steps:
// the device span per step (enqueue to token copy, launch latencies included) and the host-to-host
// period; their difference is the host's share (waking from the sync, the generator, the next
// step's metadata) during which the GPU has nothing queued.
#pragma once

#include <cuda_runtime.h>

#include <chrono>

#include "CudaHandles.h"

namespace llmc::cuda {

class StepTimer {
 public:
  StepTimer();
  ~StepTimer();
  bool enabled() const { return enabled_; }
  // Around one step on `stream`; finish() after the stream was synchronised.
  void begin(cudaStream_t stream);
  void end(cudaStream_t stream);
  void finish(bool decode);

 private:
  bool enabled_ = false;
  Event start_, stop_;
  std::chrono::steady_clock::time_point lastBegin_{}, thisBegin_{};
  bool haveLast_ = false;
  int steps_ = 0;
  double deviceMs_ = 0, periodMs_ = 0;
  int periods_ = 0;
};

}  // namespace llmc::cuda
