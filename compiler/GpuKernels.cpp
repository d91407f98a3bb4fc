//===- GpuKernels.cpp - CUDA kernels of an engine, compiled at build time -===//
#include "llmc/Compiler/GpuKernels.h"

#ifdef LLMC_HAVE_CUDA_CODEGEN
#include "llmc/codegen/cuda/KernelCompiler.h"
#endif

namespace llmc {

Status addGpuKernels(const BuildOptions &opt, codegen::EngineContents &contents,
                     const std::function<void(const std::string &)> &log) {
  if (opt.gpuArchs == "none") {
    contents.report["kernels"] = nlohmann::json::array();
    return Status::Ok();
  }
#ifdef LLMC_HAVE_CUDA_CODEGEN
  uint64_t sectionBytes = 0;
  nlohmann::json index = codegen::weightIndex(*contents.weights, &sectionBytes);
  auto bundle = codegen::cuda::compileKernelsForEngine(contents.program, index, opt.gpuArchs);
  if (!bundle.ok())
    return bundle.status();
  nlohmann::json report = nlohmann::json::array();
  for (const auto &s : bundle->sections) {
    contents.extraSections.emplace_back(s.name, s.bytes);
    // No cache flag here: the engine must not depend on what the cache held.
    report.push_back({{"section", s.name}, {"arch", s.arch}, {"bytes", s.bytes.size()}});
    log("kernels for " + s.arch + ": " + std::to_string(s.bytes.size()) + " bytes" +
        (s.fromCache ? " (cached)" : ""));
  }
  contents.report["kernels"] = report;
  return Status::Ok();
#else
  (void)log;
  if (!opt.gpuArchs.empty())
    return Unsupported("--gpu-arch " + opt.gpuArchs +
                       ": this llmc was built without the CUDA toolkit, so it cannot compile GPU kernels "
                       "(use --gpu-arch none, or rebuild llmc with CUDA)");
  contents.report["kernels"] = nlohmann::json::array();
  return Status::Ok();
#endif
}

} // namespace llmc
