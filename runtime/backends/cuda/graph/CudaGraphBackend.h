// CudaGraphBackend.h - runs a token-LM graph program on the GPU (GraphRunner): the CUDA backend
// hands a graph engine to it. GraphTokenBackend.h says how a step recomputes each sequence; only
// the last logits row of each comes back to the host.
#pragma once

#include <memory>

#include "../../cpu/graph/GraphTokenBackend.h"
#include "GraphRunner.h"

namespace llmc::cuda::graph {

class CudaGraphBackend : public cpu::graph::GraphTokenBackend {
 public:
  explicit CudaGraphBackend(int device) : device_(device) {}
  std::string name() const override { return "cuda"; }

 private:
  Status prepareRunner(const Engine& engine, const BackendOptions& options) override;
  Status lastLogits(cpu::graph::GTensor ids, int64_t T, int64_t vocab, float* row) override;

  int device_ = 0;
  std::unique_ptr<GraphRunner> runner_;
};

// `llmc eval --device cuda`: runs a tensors graph program on the GPU and brings every output back.
StatusOr<std::vector<cpu::graph::GTensor>> runGraphOnCuda(const Engine& engine, std::vector<cpu::graph::GTensor> inputs);

}  // namespace llmc::cuda::graph
