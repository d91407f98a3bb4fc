// StepTimer.cpp - decode step timing: device span against host-to-host period (StepTimer.h).
#include "StepTimer.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace llmc::cuda {

StepTimer::StepTimer() {
  const char* e = std::getenv("LLMC_CUDA_STEP_TIMING");
  if (e == nullptr || std::string(e) != "1") return;
  auto a = createEvent(true), b = createEvent(true);
  if (!a.ok() || !b.ok()) return;
  start_ = std::move(a).value();
  stop_ = std::move(b).value();
  enabled_ = true;
}

StepTimer::~StepTimer() {
  if (!enabled_ || steps_ == 0) return;
  const double dev = deviceMs_ / steps_;
  const double period = periods_ > 0 ? periodMs_ / periods_ : 0.0;
  std::fprintf(stderr,
               "llmc cuda step timing: %d decode steps: device %.4f ms/step (enqueue to token copy), "
               "host-to-host %.4f ms/step, host-only gap %.4f ms/step\n",
               steps_, dev, period, period > 0 ? period - dev : 0.0);
}

void StepTimer::begin(cudaStream_t stream) {
  if (!enabled_) return;
  thisBegin_ = std::chrono::steady_clock::now();
  cudaEventRecord(start_.get(), stream);
}

void StepTimer::end(cudaStream_t stream) {
  if (enabled_) cudaEventRecord(stop_.get(), stream);
}

void StepTimer::finish(bool decode) {
  if (!enabled_) return;
  float ms = 0.f;
  if (cudaEventElapsedTime(&ms, start_.get(), stop_.get()) != cudaSuccess) {
    cudaGetLastError();
    return;
  }
  if (decode) {
    ++steps_;
    deviceMs_ += ms;
    if (haveLast_) {
      periodMs_ += std::chrono::duration<double, std::milli>(thisBegin_ - lastBegin_).count();
      ++periods_;
    }
  }
  // Only consecutive decode steps make a period (a prefill in between starts a new run).
  haveLast_ = decode;
  lastBegin_ = thisBegin_;
}

}  // namespace llmc::cuda
