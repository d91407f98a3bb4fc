//===- GpuKernels.h - CUDA kernels of an engine, compiled at build time -*- C++ -*-===//
//
// The build step between emitting the program and writing the engine: specialise the CUDA kernel
// templates for this program and compile them with NVRTC for every --gpu-arch (no GPU needed).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/Codegen/EngineWriter.h"
#include "llmc/Compiler/BuildDriver.h"

#include <functional>
#include <string>

namespace llmc {

// Adds the `kernels.*` sections for `contents.program` to `contents.extraSections` and what was
// compiled to `contents.report["kernels"]`. `--gpu-arch none` builds a CPU-only engine; in an llmc
// built without the CUDA toolkit, any other explicit --gpu-arch is an error and the default is none.
Status addGpuKernels(const BuildOptions &options, codegen::EngineContents &contents,
                     const std::function<void(const std::string &)> &log);

} // namespace llmc
