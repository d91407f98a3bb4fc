// BackendRegistry.cpp - createBackend: "cpu", "cuda" (when built) and "auto".
#include "llmc/runtime/Backend.h"

#include "../backends/cpu/CpuBackend.h"

namespace llmc {

std::unique_ptr<Backend> createCpuBackend() { return std::make_unique<cpu::CpuBackend>(); }

StatusOr<std::unique_ptr<Backend>> createBackend(const std::string& name) {
  if (name == "cpu") return createCpuBackend();
  if (name == "cuda" || name == "auto") {
#ifdef LLMC_HAVE_CUDA_BACKEND
    StatusOr<std::unique_ptr<Backend>> cuda = createCudaBackend();
    // auto falls back to the CPU only when there is no device, not on a configuration error.
    if (cuda.ok() || name == "cuda" || cuda.status().code() != StatusCode::kUnavailable) return cuda;
#else
    if (name == "cuda") return Unavailable("backend 'cuda': this llmc was built without the CUDA backend");
#endif
    return createCpuBackend();
  }
  return InvalidArgument("unknown backend '" + name + "' (cpu, cuda, auto)");
}

}  // namespace llmc
