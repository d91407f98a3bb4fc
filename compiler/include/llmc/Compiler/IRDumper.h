//===- IRDumper.h - write the IR after import and every pass ----*- C++ -*-===//
//
// Owned by the compiler (cc). `llmc build --dump-ir DIR`: 00-import.mlir, then one file per pass
// of the pipeline, numbered in execution order and named by the pass argument
// (01-canonicalize.mlir, 02-cse.mlir, 03-llmc-fuse-qkv.mlir, ...). Always the whole module.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/runtime/Status.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace llmc {

// Creates `dir` (and parents) if needed.
Status makeDirectories(const std::string &dir);
// Writes `module` to DIR/NAME.
Status dumpModule(mlir::ModuleOp module, const std::string &dir, const std::string &name);
// Makes `pm` write DIR/NN-<pass>.mlir after every pass, NN counting from `firstIndex`. The
// module's context must have multithreading disabled (module-scope printing needs it).
void enableIRDumps(mlir::PassManager &pm, const std::string &dir, int firstIndex);

}  // namespace llmc
