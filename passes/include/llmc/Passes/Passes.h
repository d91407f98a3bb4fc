//===- Passes.h - llmc passes and the default pipeline -----------*- C++ -*-===//
//
// Pass factories (generated from Passes.td: createFuseQKV(), createFuseGateUp(),
// createFuseRopeAttention(), createFuseAddRMSNorm(), createPlanMemory()), the default pipeline
// and registration helpers. Owner: mlir.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_PASSES_PASSES_H
#define LLMC_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace mlir {
class DialectRegistry;
namespace func {
class FuncOp;
} // namespace func
} // namespace mlir

namespace llmc {

#define GEN_PASS_DECL
#include "llmc/Passes/Passes.h.inc"

/// The pipeline `llmc build` runs (and `llmc-opt --llmc-default`): canonicalize, cse,
/// fuse-qkv, fuse-rope-attention, fuse-gate-up, fuse-add-rmsnorm, canonicalize, cse,
/// plan-memory (nested on func.func). `pm` must be anchored on builtin.module.
void buildDefaultPipeline(mlir::OpPassManager &pm);

/// Registers every llmc pass flag and the `llmc-default` pipeline with the global registry.
void registerAllPasses();

/// Inserts the dialects llmc IR uses: llm, func, arith.
void registerLLMDialect(mlir::DialectRegistry &registry);

#define GEN_PASS_REGISTRATION
#include "llmc/Passes/Passes.h.inc"

} // namespace llmc

#endif // LLMC_PASSES_PASSES_H
