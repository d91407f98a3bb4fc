// CpuGraphBackend.cpp - the CPU interpreter behind GraphTokenBackend.
#include "CpuGraphBackend.h"

#include <cblas.h>

#include <algorithm>
#include <thread>

namespace llmc::cpu::graph {

Status CpuGraphBackend::prepareRunner(const Engine& engine, const BackendOptions& options) {
  const int threads = options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  openblas_set_num_threads(std::max(threads, 1));
  interp_ = std::make_unique<GraphInterpreter>(engine);
  return Status::Ok();
}

Status CpuGraphBackend::lastLogits(GTensor ids, int64_t T, int64_t vocab, float* row) {
  std::vector<GTensor> outs, ins;
  ins.push_back(std::move(ids));
  LLMC_RETURN_IF_ERROR(interp_->run(std::move(ins), T, &outs));
  const GTensor& out = outs[0];
  if (out.numel() < vocab) return Internal("cpu backend: the graph's logits are smaller than the vocabulary");
  const int64_t base = out.numel() - vocab;  // the last row
  for (int64_t j = 0; j < vocab; ++j) row[j] = static_cast<float>(out.f[base + j]);
  return Status::Ok();
}

}  // namespace llmc::cpu::graph
