// WeightTable.h - one entry of an engine's weight index (`meta.weights`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llmc/runtime/EngineFormat.h"

namespace llmc {

struct WeightInfo {
  std::string name;              // weight-table name the program refers to
  engine::DType dtype = engine::DType::kF32;
  std::vector<int64_t> shape;    // row-major; a linear weight is [N, K]
  uint64_t offset = 0;           // bytes from the start of the `weights` section, 4096-aligned
  uint64_t nbytes = 0;           // == numel * dtypeBytes(dtype)

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

// A weight's bytes inside the mapped engine file.
struct WeightView {
  const WeightInfo* info = nullptr;
  const void* data = nullptr;
};

}  // namespace llmc
