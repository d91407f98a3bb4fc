//===- EngineWriter.h - program + weights -> engine file --------*- C++ -*-===//
//
// Owned by the compiler (cc). Lays out and writes one engine file (docs/design.md, "The engine
// file") through the runtime's EngineFileWriter: sections meta, program, tokenizer,
// tokenizer_config (when given), weights. The weights section is streamed: each weight of
// plan.emitted is materialised from the checkpoint in turn, 4096-aligned, so the model is never
// held in memory. JSON is dumped from nlohmann::json objects (sorted keys, no whitespace), and
// nothing time- or path-dependent is written, so equal inputs give byte-identical files.
// The file appears only when everything succeeded (PATH.tmp.<pid> + rename).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/Codegen/WeightPlan.h"
#include "llmc/Codegen/WeightProvider.h"
#include "llmc/runtime/Status.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace llmc::codegen {

struct EngineContents {
  nlohmann::json model;    // meta.model (keys of docs/engine-format.md)
  nlohmann::json build;    // meta.build: flags, source, producer
  nlohmann::json report;   // meta.report: what the compiler did
  nlohmann::json program;  // the program section (null: none, a graph engine's is in extraSections)
  const WeightPlan *weights = nullptr;
  std::optional<std::string> tokenizerJson;        // verbatim
  std::optional<std::string> tokenizerConfigJson;  // verbatim
  // Further sections written as given, in order (the CUDA kernels: "kernels.sm_90", ...).
  std::vector<std::pair<std::string, std::string>> extraSections;
};

struct WrittenEngine {
  uint64_t fileBytes = 0;
  uint64_t weightBytes = 0;  // tensor bytes, padding excluded
  size_t numWeights = 0;
};

// The meta.weights index for `plan` (name, dtype, shape, offset, nbytes; offsets relative to
// the weights section, 4096-aligned) and the section's size.
nlohmann::json weightIndex(const WeightPlan &plan, uint64_t *sectionBytes);

// Writes the engine to `path`. Errors name the output file or the checkpoint file at fault.
StatusOr<WrittenEngine> writeEngine(const std::string &path, const EngineContents &contents,
                                    const WeightProvider &provider);

}  // namespace llmc::codegen
