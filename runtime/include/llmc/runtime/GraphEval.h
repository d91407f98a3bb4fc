// GraphEval.h - runs an engine's tensors graph program on named host tensors (`llmc eval`).
//
// For engines whose graph program is of kind `tensors` (docs/graph-program.md): the inputs are
// matched by name (every program input must be given, with its exact element type and shape), the
// program runs on the CPU interpreter or the GPU, and every program output comes back as little-endian bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llmc/runtime/Engine.h"
#include "llmc/runtime/GraphProgram.h"
#include "llmc/runtime/Status.h"

namespace llmc {

struct HostTensor {
  std::string name;
  GType type = GType::kF32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;  // row-major, little-endian, prod(shape) * gtypeBytes(type)
};

// `device`: "cpu" (the interpreter), "cuda" (the CUDA backend's graph runner) or "auto" (cuda
// when this llmc has the CUDA backend and the machine a device, else cpu).
// `threads`: OpenBLAS threads of the CPU interpreter (0 = all cores).
StatusOr<std::vector<HostTensor>> evalGraph(const Engine& engine, const std::vector<HostTensor>& inputs,
                                            int threads = 0, const std::string& device = "cpu");

}  // namespace llmc
