// CudaGraphBackend.cpp - GraphRunner behind GraphTokenBackend, and the tensors entry point.
#include "CudaGraphBackend.h"

#include <cstdlib>

namespace llmc::cuda::graph {

using cpu::graph::GTensor;

Status CudaGraphBackend::prepareRunner(const Engine& engine, const BackendOptions& options) {
  (void)options;
  LLMC_ASSIGN_OR_RETURN(runner_, GraphRunner::create(engine, device_));
  return Status::Ok();
}

Status CudaGraphBackend::lastLogits(GTensor ids, int64_t T, int64_t vocab, float* row) {
  std::vector<GTensor> ins;
  ins.push_back(std::move(ids));
  std::vector<DTensor> outs;
  LLMC_RETURN_IF_ERROR(runner_->run(ins, T, &outs));
  const DTensor& out = outs[0];
  if (out.numel() < vocab || !out.isFloat())
    return Internal("cuda backend: the graph's logits are smaller than the vocabulary");
  LLMC_ASSIGN_OR_RETURN(GTensor last, runner_->download(out, out.numel() - vocab, vocab));
  for (int64_t j = 0; j < vocab; ++j) row[j] = static_cast<float>(last.f[j]);
  return Status::Ok();
}

StatusOr<std::vector<GTensor>> runGraphOnCuda(const Engine& engine, std::vector<GTensor> inputs) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n <= 0) {
    cudaGetLastError();
    return Unavailable("cuda backend: no CUDA device");
  }
  const char* d = std::getenv("LLMC_CUDA_DEVICE");
  const int device = d && *d ? std::atoi(d) : 0;
  if (device < 0 || device >= n) return InvalidArgument("LLMC_CUDA_DEVICE: this machine has " + std::to_string(n) + " CUDA device(s)");
  LLMC_ASSIGN_OR_RETURN(auto runner, GraphRunner::create(engine, device));
  std::vector<DTensor> outs;
  LLMC_RETURN_IF_ERROR(runner->run(inputs, 0, &outs));
  std::vector<GTensor> result;
  for (const DTensor& t : outs) {
    LLMC_ASSIGN_OR_RETURN(GTensor h, runner->download(t));
    result.push_back(std::move(h));
  }
  return result;
}

}  // namespace llmc::cuda::graph
