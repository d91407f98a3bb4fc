//===- llmc-opt.cpp - mlir-opt for the llm dialect -------------------------===//
//
// Thin driver: parses IR, runs passes given as flags (--llmc-fuse-qkv, --llmc-default, ...),
// prints IR. Used by the lit tests. Owner: mlir.
//
//===----------------------------------------------------------------------===//

#include "llmc/Passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  llmc::registerLLMDialect(registry);
  llmc::registerAllPasses();
  // Upstream passes the default pipeline uses, also usable on their own.
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "llmc optimizer driver\n", registry));
}
