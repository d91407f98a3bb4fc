//===- GraphEmitter.h - generic llm IR -> engine graph program --*- C++ -*-===//
//
// Owner: graph. Serialises func @forward of a module of generic llm ops (LLMGenericOps.td) into
// the engine's `graph` section (docs/graph-program.md): one value per function argument and op
// result (element type, shape with -1 for T), one op per generic op (attributes as JSON,
// constants as hex bytes, weights by weight-table name), the arguments as inputs and the returned
// values as outputs. Used when raising leaves generic ops (the runtime interprets them) and for
// graphs that are not LLMs (ONNX node tests). Any other op is an error naming it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/Codegen/WeightPlan.h"
#include "llmc/runtime/Status.h"

#include "mlir/IR/BuiltinOps.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace llmc::codegen {

struct GraphSignature {
  bool tokenLM = true;                  // one [?] i32 input (ids), one logits output
  std::vector<std::string> inputNames;  // one per function argument
  std::vector<std::string> outputNames; // one per returned value
};

struct EmittedGraph {
  nlohmann::json graph;                     // the engine's `graph` section
  WeightPlan weights;                       // `emitted` = the weights weight_value ops read
  std::map<std::string, int64_t> opCounts;  // "binary.mul", "matmul", ... -> ops
};

StatusOr<EmittedGraph> emitGraph(mlir::ModuleOp module, const GraphSignature &signature);

}  // namespace llmc::codegen
