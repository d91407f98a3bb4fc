// CpuWeights.h - the CPU backend's f32 view of every weight the program uses.
//
// f32 weights are used in place (pointers into the engine's mapping: tensors are 4096-aligned);
// f16/bf16 weights are widened to f32 once, here, and owned by this object.
#pragma once

#include <memory>
#include <vector>

#include "llmc/runtime/Engine.h"
#include "llmc/runtime/Status.h"

namespace llmc::cpu {

class ThreadPool;

class CpuWeights {
 public:
  Status load(const Engine& engine, ThreadPool* pool);
  // f32 data of weight `index` (Engine::weights() order), or nullptr for index -1 / unused weights.
  const float* get(int index) const {
    return index < 0 ? nullptr : ptrs_[static_cast<size_t>(index)];
  }
  // Bytes this object allocated (widened copies).
  size_t ownedBytes() const { return ownedBytes_; }

 private:
  std::vector<const float*> ptrs_;
  std::vector<std::unique_ptr<float[]>> owned_;
  size_t ownedBytes_ = 0;
};

}  // namespace llmc::cpu
