// EngineParse.h - parsers for the engine's meta/program JSON (internal to llmc_runtime).
//
// Messages name the JSON path; Engine::load puts the file name in front.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "llmc/runtime/GraphProgram.h"
#include "llmc/runtime/ModelConfig.h"
#include "llmc/runtime/Program.h"
#include "llmc/runtime/Status.h"
#include "llmc/runtime/WeightTable.h"

namespace llmc::detail {

// meta.model
Status parseModelConfig(const nlohmann::json& model, ModelConfig* out);
// meta.weights; sectionBytes: size of the `weights` section (0 when it is absent).
Status parseWeightTable(const nlohmann::json& weights, uint64_t sectionBytes,
                        std::vector<WeightInfo>* out);
// The program section (syntax, op names, attribute types, value indices, weight names).
Status parseProgram(const nlohmann::json& program, const std::vector<WeightInfo>& weights,
                    Program* out);
// Semantic checks: SSA order, widths, weight shapes, rows, memory plan, KV layers; fills kvLayers.
Status checkProgram(const ModelConfig& config, const std::vector<WeightInfo>& weights,
                    Program* program);

// The graph section (GraphParse.cpp): syntax, types, SSA order, constants, weights, inputs/outputs.
Status parseGraphProgram(const nlohmann::json& graph, const std::vector<WeightInfo>& weights,
                         GraphProgram* out);

}  // namespace llmc::detail
