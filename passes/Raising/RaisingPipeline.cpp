//===- RaisingPipeline.cpp - the ONNX raising pipeline ---------------------===//
//
// Owner: onnx. Order matters: embeddings, norms, linears and the splits of fused linears first
// (their outputs become the [T, W] bases the view checks need; layer-norm refines what
// rms-norm matched), then attention (sdpa, then rope on the head views, then attention), GELU
// before the remaining elementwise ops (which would take its products apart), GLU after them,
// the last-token head, view cleanup and the final check.
//
//===----------------------------------------------------------------------===//

#include "llmc/Passes/Raising/Raising.h"

#include "llmc/Passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

void llmc::buildOnnxRaisingPipeline(mlir::OpPassManager &pm) {
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
  pm.addPass(createRaiseEmbedding());
  pm.addPass(createRaiseEmbeddingScale());
  pm.addPass(createRaisePositionEmbedding());
  pm.addPass(createRaiseRMSNorm());
  pm.addPass(createRaiseLayerNorm());
  pm.addPass(createRaiseLinear());
  pm.addPass(createRaiseSplit());
  pm.addPass(createRaiseSdpa());
  pm.addPass(createRaiseRope());
  pm.addPass(createRaiseAttention());
  pm.addPass(createRaiseGelu());
  pm.addPass(createRaiseElementwise());
  pm.addPass(createRaiseGlu());
  pm.addPass(createRaiseLastToken());
  pm.addPass(createCollapseViews());
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
  pm.addPass(createCheckRaised());
}

void llmc::buildOnnxPipeline(mlir::OpPassManager &pm) {
  buildOnnxRaisingPipeline(pm);
  buildDefaultPipeline(pm);
}

void llmc::registerRaisingPipelines() {
  mlir::PassPipelineRegistration<>(
      "llmc-raise-onnx", "Raise generic llm ops (ONNX import) to the per-token form",
      [](mlir::OpPassManager &pm) { buildOnnxRaisingPipeline(pm); });
  mlir::PassPipelineRegistration<>(
      "llmc-onnx", "The ONNX build pipeline: llmc-raise-onnx, then llmc-default",
      [](mlir::OpPassManager &pm) { buildOnnxPipeline(pm); });
}
