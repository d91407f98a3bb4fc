// GpuEngineUtil.h - tiny CUDA engines for the backend tests: a runtime-test TinyLlama written with
// kernel sections compiled here by the real codegen (NVRTC) for the given archs.
#pragma once

#include <string>
#include <vector>

#include "TinyLlama.h"
#include "llmc/runtime/Status.h"

namespace llmc::gputest {

// Writes `model` to `path` with kernel sections for `archs` ("sm_90", "compute_90", ...), and
// `programJson` instead of the model's own program when given (the same steps with another
// memory plan).
Status writeTinyCudaEngine(const test::TinyLlama& model, const std::string& path, const std::vector<std::string>& archs,
                           const std::string& programJson = "");
// "sm_XY" of device 0.
std::string deviceArchName();
// A path in the temporary directory, unique to this process.
std::string tempEnginePath(const std::string& name);

}  // namespace llmc::gputest
