//===- OnnxImporter.h - ONNX model -> llm dialect (generic ops) --*- C++ -*-===//
//
// Owner: onnx. Imports a `.onnx` file exported from a decoder-only LLM (torch.onnx.export with
// dynamo=True, opsets 13-25) into a module of generic llm tensor ops (docs/onnx.md): one
// llm.weight symbol per initializer the graph uses as a weight (source = the initializer's
// name; the data stays in the file or its external-data file), and func @forward(%ids:
// tensor<?xi32>) returning the graph's logits. Shape subgraphs are folded for the symbolic
// sequence length; position and mask subgraphs become llm.positions / llm.causal_mask.
// The raising pipeline (passes/Raising) then produces the per-token form.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/Codegen/WeightProvider.h"
#include "llmc/runtime/EngineFormat.h"
#include "llmc/runtime/Status.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <memory>
#include <string>

namespace llmc::onnx_import {

struct OnnxImport {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  // The opened model: owns the parsed protobuf and the external-data mappings that the weight
  // symbols refer to. Keep it alive until the engine is written.
  std::shared_ptr<codegen::WeightProvider> weights;
  engine::DType dtype = engine::DType::kF32;
  int64_t opset = 0;
  int64_t numNodes = 0;
  int64_t numInitializers = 0;
  std::map<std::string, int64_t> onnxOps;  // op type -> node count
  std::string producer;                    // producer_name + version
};

// Opens and validates `path` and imports it. `dtype` is the requested engine dtype ("auto",
// "f32", "f16", "bf16"). Errors name the file: not ONNX / truncated, unsupported opset, the list
// of every unsupported (domain, op, opset) with its first node, a graph input or a dimension
// that cannot be mapped to the per-token form.
StatusOr<OnnxImport> importOnnxFile(mlir::MLIRContext &ctx, const std::string &path,
                                    const std::string &dtype);

}  // namespace llmc::onnx_import
