//===- HFImporter.h - HF config + safetensors -> llm dialect ----*- C++ -*-===//
//
// Owned by the compiler (cc). Builds the module of docs/design.md from a parsed ModelConfig, the
// family's ArchitectureSpec and the checkpoint's tensor table: one llm.weight symbol per tensor
// used (source = its checkpoint name, dtype = the engine dtype), and func @forward(%ids) ->
// logits of the last token. Weight data is never copied into the IR; every tensor's existence
// and shape are checked against the config here, so a mismatched checkpoint fails at import with
// the file and tensor named.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/Codegen/WeightProvider.h"
#include "llmc/Models/ModelConfig.h"
#include "llmc/Models/ModelFamily.h"
#include "llmc/runtime/EngineFormat.h"
#include "llmc/runtime/Status.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

namespace llmc::hf {

struct ImportInputs {
  const models::ModelConfig *config = nullptr;
  const models::ArchitectureSpec *spec = nullptr;
  const codegen::WeightProvider *weights = nullptr;
  engine::DType dtype = engine::DType::kF32;  // engine dtype of every weight
  std::string configFile = "config.json";     // named in shape-mismatch errors
};

// Loads the llm and func dialects into `ctx` and builds the module. The result verifies.
StatusOr<mlir::OwningOpRef<mlir::ModuleOp>> importHFModel(mlir::MLIRContext &ctx,
                                                          const ImportInputs &in);

}  // namespace llmc::hf
