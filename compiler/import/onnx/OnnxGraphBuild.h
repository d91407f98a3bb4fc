//===- OnnxGraphBuild.h - `llmc build` of a graph-program engine -*- C++ -*-===//
//
// Owner: graph. Internal to compiler/import/onnx. Writes an engine holding a graph program
// (docs/graph-program.md) instead of a per-token program, for
//  - a tensor graph (not a token LM: @forward has llm.graph_inputs), e.g. an ONNX node test;
//  - a token LM whose raising left generic ops: the imported (unraised) module runs as a whole on
//    the CPU interpreter, recomputing the sequence for every token; the build report says what
//    raising recognised and what it did not.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/Compiler/BuildDriver.h"
#include "llmc/Compiler/Import/ONNX/OnnxImporter.h"

#include "mlir/IR/BuiltinOps.h"

namespace llmc::onnx_import {

// True when the imported module is a tensor graph (named inputs/outputs, no token ids).
bool isTensorGraphModule(mlir::ModuleOp module);

// `generic`: the module as imported (generic ops only). `raised`: the module after the raising
// pipeline failed (null for a tensor graph) and `reason` its message: they feed the report.
Status buildOnnxGraphEngine(const BuildOptions &opt, OnnxImport &imp, mlir::ModuleOp generic,
                            mlir::ModuleOp raised, const std::string &reason, BuildSummary *summary);

}  // namespace llmc::onnx_import
