// RunSetup.cpp - device flags and engine loading shared by run and bench (see RunSetup.h).
#include "RunSetup.h"

#include "TokenizerSource.h"
#include "llmc/runtime/Backend.h"

namespace llmc::cli {

void declareSetupFlags(Flags& f, SetupFlags& s) {
  f.addString("--device", &s.device, "cpu, cuda or auto (default: cuda when a GPU is present)");
  f.addInt("--threads", &s.threads, 0, 4096, "CPU worker threads (default: all cores)");
  f.addInt("--max-batch-tokens", &s.maxBatchTokens, 1, 1 << 20, "most tokens per step; longer prompts are chunked");
  f.addInt("--max-sequences", &s.maxSequences, 1, 4096, "most sequences per step");
  f.addDouble("--gpu-memory-fraction", &s.gpuMemoryFraction, 0.01, 1.0,
              "share of free GPU memory the KV cache may take (default 0.9)");
  f.addBool("--no-verify", &s.noVerify, "skip the weights checksum when loading (faster for large engines)");
}

Status checkSetupFlags(const SetupFlags& s) {
  if (s.device != "cpu" && s.device != "cuda" && s.device != "auto")
    return InvalidArgument("--device: '" + s.device + "' is not one of cpu, cuda, auto");
  return Status::Ok();
}

StatusOr<RunContext> loadForRun(const std::string& enginePath, const SetupFlags& setup) {
  RunContext ctx;
  EngineFileOptions fileOptions;
  fileOptions.verifyWeights = !setup.noVerify;
  LLMC_ASSIGN_OR_RETURN(ctx.engine, Engine::load(enginePath, fileOptions));
  LLMC_ASSIGN_OR_RETURN(ctx.tokenizer, engineTokenizer(*ctx.engine));
  // `auto` takes the GPU only for an engine that carries kernels (not one built with --gpu-arch none).
  LLMC_ASSIGN_OR_RETURN(auto backend,
                        createBackend(setup.device == "auto" && !ctx.engine->hasKernels() ? "cpu" : setup.device));
  BackendOptions options;
  options.threads = static_cast<int>(setup.threads);
  options.maxBatchTokens = static_cast<int>(setup.maxBatchTokens);
  options.maxSequences = static_cast<int>(setup.maxSequences);
  options.memoryFraction = setup.gpuMemoryFraction;
  LLMC_ASSIGN_OR_RETURN(ctx.executor, Executor::create(*ctx.engine, std::move(backend), options));
  return ctx;
}

}  // namespace llmc::cli
