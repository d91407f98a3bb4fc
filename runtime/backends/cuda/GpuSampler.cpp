// GpuSampler.cpp - sampling on the device (GpuSampler.h) and CudaBackend's forwardSample, whose
// tail (two kernels after the program's logits) is part of the decode graph like the argmax's.
#include "GpuSampler.h"

#include <algorithm>
#include <cstring>

#include "CudaBackend.h"

namespace llmc::cuda {

namespace {

int32_t floatBits(float f) {
  int32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// Histories beyond this many tokens per row are sampled on the host (pinned memory is precious).
constexpr int64_t kMaxHistoryCap = int64_t{1} << 20;

}  // namespace

Status GpuSampler::prepare(KernelLibrary& lib, int maxRows, int vocab, int64_t maxHistory) {
  auto prep = lib.get("llmc_sample_prep");
  auto select = lib.get("llmc_sample_select");
  if (!prep.ok() || !select.ok()) return Status::Ok();  // an older engine: host sampling
  return prepare(*prep, *select, maxRows, vocab, maxHistory);
}

Status GpuSampler::prepare(cudaKernel_t prep, cudaKernel_t select, int maxRows, int vocab, int64_t maxHistory) {
  if (prep == nullptr || select == nullptr || maxRows <= 0 || vocab <= 0) return Status::Ok();
  maxRows_ = maxRows;
  vocab_ = vocab;
  maxHistory_ = std::clamp<int64_t>(maxHistory, 1, kMaxHistoryCap);
  const int64_t argsInts = kSampleHeaderInts + int64_t{kSampleRowInts} * maxRows + maxHistory_ * maxRows;
  LLMC_ASSIGN_OR_RETURN(argsHost_, PinnedBuffer::allocate(argsInts * 4, "sampling arguments"));
  LLMC_ASSIGN_OR_RETURN(argsDev_, DeviceBuffer::allocate(argsInts * 4, "sampling arguments"));
  std::memset(argsHost_.get(), 0, argsHost_.bytes());
  const int64_t cells = int64_t{maxRows} * vocab, parts = int64_t{maxRows} * samplePrepParts(vocab);
  LLMC_ASSIGN_OR_RETURN(scratch_, DeviceBuffer::allocate((2 * cells + parts) * 8 + (parts + maxRows) * 4, "sampling scratch"));
  l_ = scratch_.as<double>();
  p_ = l_ + cells;
  partMax_ = p_ + cells;
  partIdx_ = reinterpret_cast<int32_t*>(partMax_ + parts);
  out_ = partIdx_ + parts;
  LLMC_ASSIGN_OR_RETURN(outHost_, PinnedBuffer::allocate(int64_t{maxRows} * 4, "sampled ids"));
  prep_ = prep;
  select_ = select;
  return Status::Ok();
}

bool GpuSampler::fits(const SamplingParams& params, const std::vector<SampleRow>& rows) const {
  if (!available() || static_cast<int>(rows.size()) > maxRows_) return false;
  if (params.repetitionPenalty == 1.0f) return true;
  for (const SampleRow& r : rows) {
    if (r.history && static_cast<int64_t>(r.history->size()) > maxHistory_) return false;
  }
  return true;
}

Status GpuSampler::stage(const SamplingParams& params, const std::vector<SampleRow>& rows, cudaStream_t stream) {
  if (!fits(params, rows)) return Internal("gpu sampler: the step does not fit the sampling buffers");
  int32_t* a = argsHost_.as<int32_t>();
  a[0] = floatBits(params.temperature);
  a[1] = params.topK;
  a[2] = floatBits(params.topP);
  a[3] = floatBits(params.minP);
  a[4] = floatBits(params.repetitionPenalty);
  const bool penalty = params.repetitionPenalty != 1.0f;
  int64_t used = 0;  // history ints written
  int32_t* hist = a + kSampleHeaderInts + int64_t{kSampleRowInts} * maxRows_;
  for (size_t r = 0; r < rows.size(); ++r) {
    int32_t* row = a + kSampleHeaderInts + kSampleRowInts * static_cast<int64_t>(r);
    std::memcpy(row, &rows[r].uniform, 8);
    const int64_t n = penalty && rows[r].history ? static_cast<int64_t>(rows[r].history->size()) : 0;
    row[2] = static_cast<int32_t>(used);
    row[3] = static_cast<int32_t>(n);
    if (n > 0) std::memcpy(hist + used, rows[r].history->data(), n * 4);
    used += n;
  }
  const size_t bytes = (kSampleHeaderInts + int64_t{kSampleRowInts} * maxRows_ + used) * 4;
  LLMC_CUDA_CHECK(cudaMemcpyAsync(argsDev_.get(), argsHost_.get(), bytes, cudaMemcpyHostToDevice, stream));
  return Status::Ok();
}

Status CudaBackend::enqueueSampleTail(const float* logits, const int32_t* rowIds, int vocab, const StepShape& shape) {
  if (vocab != sampler_.vocab()) return Internal("cuda backend: the sampler was prepared for another vocabulary");
  auto viaLaunch = [this](cudaKernel_t k, dim3 grid, dim3 block, const char* what, auto... args) {
    return launch(k, grid, block, 0, what, args...);
  };
  return sampler_.enqueue(viaLaunch, logits, rowIds, shape.nseq);
}

Status CudaBackend::forwardSample(const StepBatch& batch, const SamplingParams& params, const std::vector<SampleRow>& rows,
                                  std::vector<int32_t>* tokens) {
  if (graph_) return graph_->forwardSample(batch, params, rows, tokens);
  LLMC_RETURN_IF_ERROR(Sampler::validate(params));
  if (rows.size() != batch.sequences.size()) return InvalidArgument("forwardSample: one SampleRow per sequence");
  if (!sampler_.fits(params, rows)) return Backend::forwardSample(batch, params, rows, tokens);
  if (!engine_) return Internal("cuda backend: forward before prepare");
  LLMC_CUDA_CHECK(cudaSetDevice(device_));
  // The arguments go first on the stream: the step (or its graph) reads them at their fixed address.
  LLMC_RETURN_IF_ERROR(sampler_.stage(params, rows, stream_.get()));
  StepShape shape;
  LLMC_RETURN_IF_ERROR(runStep(batch, Tail::kSample, &shape));
  const size_t bytes = static_cast<size_t>(shape.nseq) * 4;
  LLMC_CUDA_CHECK(cudaMemcpyAsync(sampler_.tokensHostBuffer(), sampler_.tokens(), bytes, cudaMemcpyDeviceToHost,
                                  stream_.get()));
  LLMC_RETURN_IF_ERROR(cudaStatus(cudaStreamSynchronize(stream_.get()), "running the step"));
  tokens->assign(sampler_.tokensHost(), sampler_.tokensHost() + shape.nseq);
  return Status::Ok();
}

}  // namespace llmc::cuda
