// Engine.h - a loaded engine: the verified file, the model config, the weight table and the program.
//
// Engine::load maps and verifies the file (EngineFile), then parses `meta` and `program` and checks
// the program against the weight table (unknown ops, value indices, missing weights, weights past
// the section, widths and shapes that do not fit). Weight views point into the mapping: the Engine
// must outlive every backend prepared from it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "llmc/runtime/EngineFile.h"
#include "llmc/runtime/GraphProgram.h"
#include "llmc/runtime/ModelConfig.h"
#include "llmc/runtime/Program.h"
#include "llmc/runtime/Status.h"
#include "llmc/runtime/WeightTable.h"

namespace llmc {

class Engine {
 public:
  static StatusOr<std::unique_ptr<Engine>> load(const std::string& path,
                                                const EngineFileOptions& options = {});
  // Parses an already verified file (takes ownership).
  static StatusOr<std::unique_ptr<Engine>> fromFile(std::unique_ptr<EngineFile> file);

  const std::string& path() const { return file_->path(); }
  const EngineFile& file() const { return *file_; }
  const ModelConfig& config() const { return config_; }
  const Program& program() const { return program_; }
  // The graph program (generic tensor ops) of an engine that has one instead of a per-token
  // program (docs/graph-program.md); null otherwise. Backends that cannot run it refuse it.
  const GraphProgram* graph() const { return graph_.get(); }
  const std::vector<WeightInfo>& weights() const { return weights_; }
  // Index of the weight named `name`, or -1.
  int findWeight(std::string_view name) const;
  WeightView weight(int index) const;

  // The raw `meta` JSON (build flags, report: for `llmc inspect`).
  std::string_view metaJson() const;
  bool hasTokenizer() const { return !tokenizerJson().empty(); }
  // Whether the engine carries GPU kernels (a `kernels.*` section; none with --gpu-arch none).
  bool hasKernels() const;
  // tokenizer.json / tokenizer_config.json bytes as embedded; empty when absent.
  std::string_view tokenizerJson() const;
  std::string_view tokenizerConfigJson() const;

 private:
  Engine() = default;
  // fromFile for an engine with a `graph` section (GraphEngineLoad.cpp).
  static StatusOr<std::unique_ptr<Engine>> loadGraphEngine(std::unique_ptr<EngineFile> file);

  std::unique_ptr<EngineFile> file_;
  ModelConfig config_;
  std::vector<WeightInfo> weights_;
  Program program_;
  std::unique_ptr<GraphProgram> graph_;
  const uint8_t* weightsBase_ = nullptr;
};

}  // namespace llmc
