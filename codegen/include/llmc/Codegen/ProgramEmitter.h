//===- ProgramEmitter.h - final llm IR -> engine Program JSON ---*- C++ -*-===//
//
// Owned by the compiler (cc). Walks func @forward of a module that went through the default
// pipeline (ops carry `llm.offset`, the function `llm.arena_per_token`) and produces the
// Program of docs/design.md, plus the WeightPlan of the weights the program references and a
// few statistics for the build report. Any op the runtime has no kernel for is an error naming it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/Codegen/WeightPlan.h"
#include "llmc/runtime/Status.h"

#include "mlir/IR/BuiltinOps.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>

namespace llmc::codegen {

struct EmittedProgram {
  nlohmann::json program;              // the engine's `program` section
  WeightPlan weights;                  // every weight symbol; `emitted` = the referenced ones
  std::map<std::string, int64_t> opCounts;  // op name (no "llm.") -> steps
  int64_t arenaPerToken = 0;
};

StatusOr<EmittedProgram> emitProgram(mlir::ModuleOp module);
// Fills plan.defs from the module's weight symbol ops (llm.weight, weight_concat, weight_transpose).
Status collectWeights(mlir::ModuleOp module, WeightPlan &plan);

}  // namespace llmc::codegen
