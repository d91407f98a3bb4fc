//===- llmc-import-onnx.cpp - print the IR the ONNX importer produces ------===//
//
// Owner: onnx. Thin driver for the lit tests and for looking at a model:
//   llmc-import-onnx model.onnx            # generic llm ops, as imported
//   llmc-import-onnx model.onnx --raise    # after the raising passes (per-token form)
//   llmc-import-onnx --list-ops            # supported ops: domain op min-version versions...
// Errors go to stderr as one line; exit 2 for bad input, 1 for internal errors.
//
//===----------------------------------------------------------------------===//
#include "llmc/Compiler/Import/ONNX/OnnxImporter.h"
#include "llmc/Compiler/Import/ONNX/OnnxOps.h"
#include "llmc/Passes/Passes.h"
#include "llmc/Passes/Raising/Raising.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <iostream>

int main(int argc, char **argv) {
  std::string path;
  bool raise = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--raise") == 0)
      raise = true;
    else if (std::strcmp(argv[i], "--list-ops") == 0) {
      for (const llmc::onnx_import::SupportedOp &op : llmc::onnx_import::supportedOps()) {
        std::cout << (op.domain.empty() ? "ai.onnx" : op.domain) << " " << op.opType << " "
                  << op.minVersion;
        for (int64_t v : op.versions)
          std::cout << " " << v;
        std::cout << "\n";
      }
      return 0;
    }
    else if (argv[i][0] == '-') {
      std::cerr << "usage: llmc-import-onnx MODEL.onnx [--raise]\n";
      return 2;
    } else
      path = argv[i];
  }
  if (path.empty()) {
    std::cerr << "usage: llmc-import-onnx MODEL.onnx [--raise]\n";
    return 2;
  }
  mlir::MLIRContext ctx(mlir::MLIRContext::Threading::DISABLED);
  mlir::DialectRegistry registry;
  llmc::registerLLMDialect(registry);
  ctx.appendDialectRegistry(registry);
  llmc::StatusOr<llmc::onnx_import::OnnxImport> imported =
      llmc::onnx_import::importOnnxFile(ctx, path, "auto");
  if (!imported.ok()) {
    std::cerr << "error: " << imported.status().message() << "\n";
    return imported.status().code() == llmc::StatusCode::kInternal ? 1 : 2;
  }
  mlir::ModuleOp module = *imported->module;
  if (raise) {
    mlir::PassManager pm(&ctx, mlir::ModuleOp::getOperationName());
    llmc::buildOnnxRaisingPipeline(pm);
    if (mlir::failed(pm.run(module)))
      return 1;
  }
  module.print(llvm::outs());
  llvm::outs() << "\n";
  return 0;
}
