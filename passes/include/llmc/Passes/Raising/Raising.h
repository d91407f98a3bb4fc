//===- Raising.h - the ONNX raising pipeline ---------------------*- C++ -*-===//
//
// Owner: onnx. Pass factories are generated from RaisingPasses.td (createRaiseLinear(), ...,
// declared in llmc/Passes/Passes.h). `llmc build model.onnx` runs buildOnnxPipeline.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_PASSES_RAISING_RAISING_H
#define LLMC_PASSES_RAISING_RAISING_H

#include "mlir/Pass/PassManager.h"

namespace llmc {

/// canonicalize, cse, raise-embedding, raise-embedding-scale, raise-position-embedding,
/// raise-rms-norm, raise-layer-norm, raise-linear, raise-split, raise-sdpa, raise-rope,
/// raise-attention, raise-gelu, raise-elementwise, raise-glu, raise-last-token, collapse-views,
/// canonicalize, cse, check-raised.
void buildOnnxRaisingPipeline(mlir::OpPassManager &pm);
/// buildOnnxRaisingPipeline, then buildDefaultPipeline (what `llmc build model.onnx` runs).
void buildOnnxPipeline(mlir::OpPassManager &pm);
/// Registers `llmc-raise-onnx` and `llmc-onnx` for llmc-opt's --pass-pipeline.
void registerRaisingPipelines();

} // namespace llmc

#endif // LLMC_PASSES_RAISING_RAISING_H
