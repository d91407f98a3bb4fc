// DecodeTrace.h - a block-by-block timeline of one decode step, from kernels built to record it.
//
// Owned by the CUDA backend; a diagnostic for benchmarks (docs/perf.md), off unless
// LLMC_CUDA_TRACE=N names the N-th argmax step of the process (1 = the prefill; `llmc bench`
// decodes from step 2 on). The engine's kernels must have been built with LLMC_KERNEL_TRACE=1
// (codegen/cuda/kernels/trace.cuh): the GEMVs and decode attention then append one event per
// block to a buffer this class arms for that step. After the step it prints, per launch in start
// order: blocks, when the first block started, when the wait for the predecessor released, when
// the last block left (us from the step's first block), and the launch's span past its
// predecessor's end; then the same per kind of launch, averaged over the layers, and each kind's
// phases after the wait (trace.cuh's marks: for GEMV the weight stream, the norm scales and the
// epilogue; for attention the q stage, the key loop, the partials and ticket, and the combine),
// for the mean block and for the block that left last. The gaps show
// where the memory bus has nothing to do in a real decode graph, programmatic launches included.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "CudaHandles.h"
#include "KernelLibrary.h"
#include "llmc/runtime/Status.h"

namespace llmc::cuda {

class DecodeTrace {
 public:
  // Reads LLMC_CUDA_TRACE; when it is set, finds the kernels' trace state in `lib` (an error
  // naming the engine when they were built without it) and allocates the event buffer.
  Status init(KernelLibrary& lib, const std::string& enginePath);
  bool enabled() const { return target_ > 0; }
  // Before one argmax step's launches on `stream` (arms the buffer at the traced step).
  Status begin(cudaStream_t stream);
  // After that step's stream was synchronised: reads and prints the events, disarms.
  Status finish(bool decode);

 private:
  int target_ = 0;
  int calls_ = 0;
  bool armed_ = false;
  void* state_ = nullptr;  // the kernels' llmcTrace (TraceState) in device memory
  unsigned capacity_ = 0;
  DeviceBuffer events_;
};

}  // namespace llmc::cuda
