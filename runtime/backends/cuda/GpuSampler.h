// GpuSampler.h - the device side of Backend::forwardSample: buffers and kernels of
// codegen/cuda/kernels/sample.cuh (llmc_sample_prep, llmc_sample_select), owned by CudaBackend.
//
// The per-step arguments (sampling parameters, each row's uniform and repetition-penalty history)
// live in one int32 buffer at a fixed device address, uploaded before the step from a pinned
// mirror, so the decode graph that ends with the sampling kernels replays with new arguments.
// Layout (the constants mirror sample.cuh's kSample*; GpuSamplingTest checks both sides agree by
// running the kernels through this class):
//   [0] temperature (f32 bits)  [1] top_k  [2] top_p (f32 bits)  [3] min_p (f32 bits)
//   [4] repetition penalty (f32 bits)  [5..8) 0
//   [8 + 4 r ..) row r: uniform (f64, 2 ints), history offset, history length
//   [8 + 4 maxRows ..) the histories, row after row (only uploaded with a repetition penalty)
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "CudaHandles.h"
#include "KernelLibrary.h"
#include "llmc/runtime/Backend.h"

namespace llmc::cuda {

inline constexpr int kSampleHeaderInts = 8;
inline constexpr int kSampleRowInts = 4;
inline constexpr int kSampleChunk = 4096;    // columns per llmc_sample_prep block
inline constexpr int kSampleThreads = 1024;  // llmc_sample_select block
inline int samplePrepParts(int vocab) { return (vocab + kSampleChunk - 1) / kSampleChunk; }

class GpuSampler {
 public:
  // Finds the kernels and allocates the buffers for `maxRows` rows of `vocab` logits and histories
  // of up to `maxHistory` tokens each. An engine built before the kernels existed leaves the
  // sampler unavailable (forwardSample then samples on the host); that is not an error.
  Status prepare(KernelLibrary& lib, int maxRows, int vocab, int64_t maxHistory);
  // The same with the kernels given (tests load them without an engine).
  Status prepare(cudaKernel_t prep, cudaKernel_t select, int maxRows, int vocab, int64_t maxHistory);
  bool available() const { return prep_ != nullptr; }
  int vocab() const { return vocab_; }
  // Whether this step's rows fit the buffers (every history within maxHistory).
  bool fits(const SamplingParams& params, const std::vector<SampleRow>& rows) const;
  // Writes the arguments into the pinned mirror and enqueues their upload on `stream`. The mirror
  // is rewritten by the next step: the caller synchronises the stream between steps.
  Status stage(const SamplingParams& params, const std::vector<SampleRow>& rows, cudaStream_t stream);

  // Enqueues the two kernels over `rows` logits rows: row r at logits + (rowIds ? rowIds[r] : r) *
  // vocab (device pointers). launch(kernel, grid, block, name, args...) launches one kernel with
  // exactly these argument types (the backend's launch with PDL; a plain launch in the tests).
  template <typename Launch>
  Status enqueue(Launch&& launch, const float* logits, const int32_t* rowIds, int rows) const {
    const int parts = samplePrepParts(vocab_);
    LLMC_RETURN_IF_ERROR(launch(prep_, dim3(parts, rows), dim3(256), "llmc_sample_prep", logits, rowIds, vocab_,
                                args(), maxRows_, l_, partMax_, partIdx_));
    return launch(select_, dim3(rows), dim3(kSampleThreads), "llmc_sample_select", vocab_, parts, args(),
                  static_cast<const double*>(l_), p_, static_cast<const double*>(partMax_),
                  static_cast<const int32_t*>(partIdx_), out_);
  }
  const int32_t* args() const { return argsDev_.as<const int32_t>(); }
  // The device scratch (tests poison it) and the ids of the last enqueue, on the device.
  const DeviceBuffer& scratch() const { return scratch_; }
  int32_t* tokens() const { return out_; }
  // The ids of the last step, after the stream is synchronised.
  const int32_t* tokensHost() const { return outHost_.as<const int32_t>(); }
  void* tokensHostBuffer() const { return outHost_.get(); }

 private:
  cudaKernel_t prep_ = nullptr, select_ = nullptr;
  int maxRows_ = 0, vocab_ = 0;
  int64_t maxHistory_ = 0;
  PinnedBuffer argsHost_;
  DeviceBuffer argsDev_;
  DeviceBuffer scratch_;  // l, p: [maxRows, vocab] f64 each; part maxima f64, part ids, out ids
  double* l_ = nullptr;
  double* p_ = nullptr;
  double* partMax_ = nullptr;
  int32_t* partIdx_ = nullptr;
  int32_t* out_ = nullptr;
  PinnedBuffer outHost_;
};

}  // namespace llmc::cuda
