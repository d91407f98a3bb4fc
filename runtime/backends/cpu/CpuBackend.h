// CpuBackend.h - the CPU backend: f32 arena, f32 paged KV cache, OpenBLAS sgemm and a thread pool.
//
// Owns: the converted weights (CpuWeights), the activation arena (arena_per_token * maxBatchTokens
// f32), scratch buffers for steps whose outputs alias their inputs, and one KV-cache pool per layer
// ([num_blocks, 2, num_kv_heads, block_size, head_dim] f32). Borrows the Engine (must outlive it).
#pragma once

#include <memory>
#include <vector>

#include "CpuKernels.h"
#include "CpuWeights.h"
#include "ThreadPool.h"
#include "graph/CpuGraphBackend.h"
#include "llmc/runtime/Backend.h"
#include "llmc/runtime/Engine.h"

namespace llmc::cpu {

class CpuBackend : public Backend {
 public:
  std::string name() const override { return "cpu"; }
  Status prepare(const Engine& engine, const BackendOptions& options) override;
  int64_t kvBlockCount() const override { return graph_ ? graph_->kvBlockCount() : kvBlocks_; }
  bool runsGraphPrograms() const override { return true; }
  Status forward(const StepBatch& batch, std::vector<float>* logits) override;
  Status copyBlock(int32_t src, int32_t dst) override;
  StatusOr<DeviceLimits> measureLimits() override;  // CpuLimits.cpp

 private:
  Status checkBatch(const StepBatch& batch) const;
  Status runStep(const Step& step, const StepBatch& batch, int64_t T);
  int64_t chooseKvBlocks() const;

  const Engine* engine_ = nullptr;
  std::unique_ptr<Backend> graph_;      // set when the engine holds a graph program
  BackendOptions options_;
  std::unique_ptr<ThreadPool> pool_;
  CpuWeights weights_;
  std::unique_ptr<float[]> arena_;      // [arena_per_token * maxBatchTokens]
  std::unique_ptr<float[]> scratch_;    // outputs that alias inputs, then copied back
  std::unique_ptr<float[]> qkvScratch_; // qkv_attention: q, k, v after split + rope
  int64_t scratchElems_ = 0;
  int64_t qkvScratchElems_ = 0;
  int64_t kvBlocks_ = 0;
  std::vector<std::unique_ptr<float[]>> kv_;  // per layer
  std::vector<KVLayerView> kvViews_;
  // Per step: token positions and sequence slices of the current batch.
  std::vector<int32_t> positions_;
};

}  // namespace llmc::cpu
