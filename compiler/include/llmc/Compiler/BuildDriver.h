//===- BuildDriver.h - `llmc build`: checkpoint -> engine file --*- C++ -*-===//
//
// Owned by the compiler (cc). The library entry point the `llmc build` command calls:
// import (HF folder) -> llm dialect -> default pass pipeline -> program + weight plan -> engine.
// Errors are Status values naming the file and the problem; a failed build leaves no output file.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/runtime/Status.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace llmc {

struct BuildOptions {
  // An HF model folder (config.json + model.safetensors[.index.json] [+ tokenizer.json]).
  // Or a .onnx file (docs/onnx.md; compiler/import/onnx/OnnxBuild.cpp).
  std::string inputPath;
  std::string outputPath;
  // Engine weight dtype: "auto" (the checkpoint's predominant dtype), "f32", "f16", "bf16".
  std::string dtype = "auto";
  // When set, the IR is written there after import (00-import.mlir) and after every pass
  // (01-<pass>.mlir, 02-...); the folder is created if needed.
  std::string dumpIrDir;
  // CUDA targets, comma-separated ("sm_80,sm_90"); recorded in meta.build.flags.gpu_archs
  // (as a list) for now.
  std::string gpuArchs;
  bool verbose = false;
  // Where verbose progress lines go (default: stderr).
  std::function<void(const std::string &)> log;

  // Writes a progress line when verbose: to `log`, else to stderr as "llmc build: <line>".
  void progress(const std::string &line) const;
};

// What a successful build produced (for the CLI's summary line).
struct BuildSummary {
  std::string architecture;  // HF model_type
  std::string dtype;         // engine dtype
  uint64_t fileBytes = 0;
  uint64_t weightBytes = 0;
  size_t numWeights = 0;
  size_t numSteps = 0;
  int64_t arenaPerToken = 0;
};

Status buildEngine(const BuildOptions &options, BuildSummary *summary = nullptr);

}  // namespace llmc
