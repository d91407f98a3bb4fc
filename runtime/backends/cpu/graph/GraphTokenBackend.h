// GraphTokenBackend.h - a token-LM graph program behind the Backend interface, on any device.
//
// A graph program has no KV cache, so each step recomputes every sequence from its first token
// and keeps the last logits row. The token ids themselves are what this backend caches: the
// KVCacheManager's blocks hold ids ([num_blocks, block_size] i32) instead of keys and values, so
// the Executor's bookkeeping (block tables, prefix sharing, copy-on-write) works unchanged. The
// device that runs the program is the subclass's: CpuGraphBackend (the interpreter here) or the
// CUDA backend's graph runner (runtime/backends/cuda/graph).
#pragma once

#include <vector>

#include "GTensor.h"
#include "llmc/runtime/Backend.h"
#include "llmc/runtime/Engine.h"

namespace llmc::cpu::graph {

class GraphTokenBackend : public Backend {
 public:
  Status prepare(const Engine& engine, const BackendOptions& options) override;
  int64_t kvBlockCount() const override { return blocks_; }
  Status forward(const StepBatch& batch, std::vector<float>* logits) override;
  Status copyBlock(int32_t src, int32_t dst) override;
  bool runsGraphPrograms() const override { return true; }

 protected:
  // Sets up the device side; prepare() calls it once, after its checks.
  virtual Status prepareRunner(const Engine& engine, const BackendOptions& options) = 0;
  // Runs the program on the ids [T] of one sequence and writes its last `vocab` logits to `row`.
  virtual Status lastLogits(GTensor ids, int64_t T, int64_t vocab, float* row) = 0;

 private:
  const Engine* engine_ = nullptr;
  BackendOptions options_;
  int64_t blocks_ = 0;
  std::vector<int32_t> ids_;  // [blocks, block_size]
};

}  // namespace llmc::cpu::graph
