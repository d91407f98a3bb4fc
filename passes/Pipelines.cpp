//===- Pipelines.cpp - the default llmc pipeline and registration ----------===//
//
// One definition of the pass order, used by `llmc build` (compiler/) and by
// `llmc-opt --llmc-default` / `--pass-pipeline=builtin.module(llmc-default)`. Owner: mlir.
//
//===----------------------------------------------------------------------===//

#include "llmc/Passes/Passes.h"
#include "llmc/Passes/Raising/Raising.h"

#include "llmc/Dialect/LLM/IR/LLMDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void llmc::buildDefaultPipeline(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // QKV first: rope+attention fusion matches the split it leaves behind.
  pm.addPass(createFuseQKV());
  pm.addPass(createFuseRopeAttention());
  pm.addPass(createFuseGateUp());
  pm.addPass(createFuseAddRMSNorm());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Last: offsets are only valid for the final op list.
  pm.addNestedPass<func::FuncOp>(createPlanMemory());
}

void llmc::registerAllPasses() {
  registerLLMCPasses();
  PassPipelineRegistration<>(
      "llmc-default",
      "The llmc default pipeline (what `llmc build` runs): canonicalize, cse, fusions, "
      "plan-memory",
      [](OpPassManager &pm) { buildDefaultPipeline(pm); });
  registerRaisingPipelines();  // llmc-raise-onnx, llmc-onnx (owner: onnx)
}

void llmc::registerLLMDialect(DialectRegistry &registry) {
  registry.insert<llm::LLMDialect, func::FuncDialect, arith::ArithDialect>();
}
