//===- LLMInterfaces.td - interfaces of the llm dialect -*- tablegen -*-===//
//
// WeightOpInterface: implemented by the module-level weight symbol ops so that users (verifiers,
// passes, the codegen's weight table) can ask any of them for its shape and engine dtype.
// Owner: mlir.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECT_LLM_IR_LLMINTERFACES_TD
#define LLMC_DIALECT_LLM_IR_LLMINTERFACES_TD

include "mlir/IR/OpBase.td"

def LLM_WeightOpInterface : OpInterface<"WeightOpInterface"> {
  let cppNamespace = "::llmc::llm";
  let description = [{
    A module-level weight symbol. `llm.weight` stores its shape; derived weights
    (`llm.weight_concat`, `llm.weight_transpose`) compute it from the weights they name, which
    are resolved through `tables`. `depth` guards against cyclic definitions.
  }];
  let methods = [
    InterfaceMethod<"Shape of the weight, or failure if it cannot be derived.",
      "::mlir::FailureOr<::llvm::SmallVector<int64_t>>", "computeShape",
      (ins "::mlir::SymbolTableCollection &":$tables, "unsigned":$depth)>,
    InterfaceMethod<"Engine dtype (f32, f16, bf16), or failure if it cannot be derived.",
      "::mlir::FailureOr<::llvm::StringRef>", "computeDType",
      (ins "::mlir::SymbolTableCollection &":$tables, "unsigned":$depth)>,
  ];
  let extraClassDeclaration = [{
    /// Convenience forms with a fresh symbol-table cache.
    ::mlir::FailureOr<::llvm::SmallVector<int64_t>> getWeightShape() {
      ::mlir::SymbolTableCollection tables;
      return computeShape(tables, 0);
    }
    ::mlir::FailureOr<::llvm::StringRef> getWeightDType() {
      ::mlir::SymbolTableCollection tables;
      return computeDType(tables, 0);
    }
  }];
}

#endif // LLMC_DIALECT_LLM_IR_LLMINTERFACES_TD
