// RunSetup.h - what `llmc run` and `llmc bench` share: device flags, and loading an engine into an
// Executor on the chosen backend with its tokenizer.
#pragma once

#include <memory>
#include <string>

#include "Flags.h"
#include "llmc/runtime/Engine.h"
#include "llmc/runtime/Executor.h"
#include "llmc/runtime/Tokenizer.h"

namespace llmc::cli {

struct SetupFlags {
  std::string device = "auto";
  int64_t threads = 0;
  int64_t maxBatchTokens = 512;
  int64_t maxSequences = 8;
  double gpuMemoryFraction = 0.9;
  bool noVerify = false;
};

void declareSetupFlags(Flags& flags, SetupFlags& setup);
Status checkSetupFlags(const SetupFlags& setup);

struct RunContext {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Tokenizer> tokenizer;  // null when the engine has none
  std::unique_ptr<Executor> executor;
};

StatusOr<RunContext> loadForRun(const std::string& enginePath, const SetupFlags& setup);

}  // namespace llmc::cli
