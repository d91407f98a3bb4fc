// GpuEngineUtil.cpp - see GpuEngineUtil.h.
#include "GpuEngineUtil.h"

#include <unistd.h>

#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "GpuTestUtil.h"
#include "KernelPlan.h"
#include "llmc/codegen/cuda/KernelCompiler.h"
#include "llmc/runtime/EngineFileWriter.h"
#include "llmc/runtime/EngineFormat.h"

namespace llmc::gputest {

Status writeTinyCudaEngine(const test::TinyLlama& model, const std::string& path, const std::vector<std::string>& archs,
                           const std::string& programJson) {
  const std::string programText = programJson.empty() ? model.programJson() : programJson;
  const nlohmann::json program = nlohmann::json::parse(programText);
  std::map<std::string, cuda::WeightDesc> descs;
  for (const auto& [name, shape] : model.shapes) descs[name] = cuda::WeightDesc{model.cfg.dtype, shape};
  auto lookup = [&](const std::string& n) -> const cuda::WeightDesc* {
    auto it = descs.find(n);
    return it == descs.end() ? nullptr : &it->second;
  };
  LLMC_ASSIGN_OR_RETURN(codegen::cuda::KernelRequest req, codegen::cuda::requestFromProgram(program, lookup, archs));
  LLMC_ASSIGN_OR_RETURN(codegen::cuda::KernelBundle bundle, codegen::cuda::compileKernels(req));
  EngineFileWriter w("llmc-gpu-test");
  LLMC_RETURN_IF_ERROR(w.addSection(engine::kSectionMeta, model.metaJson()));
  LLMC_RETURN_IF_ERROR(w.addSection(engine::kSectionProgram, programText));
  std::map<std::string, uint64_t> offsets;
  LLMC_RETURN_IF_ERROR(w.addSection(engine::kSectionWeights, model.weightsSection(&offsets)));
  for (const auto& s : bundle.sections) LLMC_RETURN_IF_ERROR(w.addSection(s.name, s.bytes));
  return w.write(path);
}

std::string deviceArchName() { return "sm_" + std::to_string(deviceCc()); }

std::string tempEnginePath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("llmc-gpu-" + std::to_string(::getpid()) + "-" + name)).string();
}

}  // namespace llmc::gputest
