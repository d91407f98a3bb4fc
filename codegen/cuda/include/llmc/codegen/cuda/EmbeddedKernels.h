//===- EmbeddedKernels.h - the kernel templates compiled into llmc -*- C++ -*-===//
//
// Owned by the CUDA codegen. codegen/cuda/kernels/*.cuh are embedded as strings by a CMake step
// (cmake/EmbedKernels.cmake), so `llmc build` carries its kernel sources and needs no files next
// to the binary; NVRTC sees them as headers under their file names.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <vector>

namespace llmc::codegen::cuda {

struct EmbeddedSource {
  const char *name;  // "gemv.cuh"
  std::string text;
};

const std::vector<EmbeddedSource> &embeddedKernelSources();

} // namespace llmc::codegen::cuda
