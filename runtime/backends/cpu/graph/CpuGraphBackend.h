// CpuGraphBackend.h - runs a token-LM graph program on the CPU interpreter (GraphTokenBackend.h
// says how a step recomputes each sequence).
#pragma once

#include <memory>

#include "GraphInterpreter.h"
#include "GraphTokenBackend.h"

namespace llmc::cpu::graph {

class CpuGraphBackend : public GraphTokenBackend {
 public:
  std::string name() const override { return "cpu"; }

 private:
  Status prepareRunner(const Engine& engine, const BackendOptions& options) override;
  Status lastLogits(GTensor ids, int64_t T, int64_t vocab, float* row) override;

  std::unique_ptr<GraphInterpreter> interp_;
};

}  // namespace llmc::cpu::graph
