// CpuGraphBackend.h - runs a token-LM graph program behind the Backend interface.
//
// A graph program has no KV cache, so each step recomputes every sequence from its first token
// and keeps the last logits row. The token ids themselves are what this backend caches: the
// KVCacheManager's blocks hold ids ([num_blocks, block_size] i32) instead of keys and values, so
// the Executor's bookkeeping (block tables, prefix sharing, copy-on-write) works unchanged.
#pragma once

#include <memory>
#include <vector>

#include "GraphInterpreter.h"
#include "llmc/runtime/Backend.h"

namespace llmc::cpu::graph {

class CpuGraphBackend : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  Status prepare(const Engine& engine, const BackendOptions& options) override;
  int64_t kvBlockCount() const override { return blocks_; }
  Status forward(const StepBatch& batch, std::vector<float>* logits) override;
  Status copyBlock(int32_t src, int32_t dst) override;

 private:
  const Engine* engine_ = nullptr;
  BackendOptions options_;
  int64_t blocks_ = 0;
  std::vector<int32_t> ids_;  // [blocks, block_size]
  std::unique_ptr<GraphInterpreter> interp_;
};

}  // namespace llmc::cpu::graph
