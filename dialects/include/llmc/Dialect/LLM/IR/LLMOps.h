//===- LLMOps.h - ops, traits and weight helpers of the llm dialect -*- C++ -*-===//
//
// Op classes generated from LLMOps.td, the C++ traits the ODS names, the KV-cache side-effect
// resource, and helpers that resolve weight symbol references. Owner: mlir.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECT_LLM_IR_LLMOPS_H
#define LLMC_DIALECT_LLM_IR_LLMOPS_H

#include "llmc/Dialect/LLM/IR/LLMDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace llmc {
namespace llm {

/// The implicit per-layer KV cache: attention ops read and append to it.
struct KVCacheResource
    : public mlir::SideEffects::Resource::Base<KVCacheResource> {
  llvm::StringRef getName() final { return "llm.kv_cache"; }
};

namespace OpTrait {
namespace impl {
mlir::LogicalResult verifyStaticWidths(mlir::Operation *op);
mlir::LogicalResult verifySameRows(mlir::Operation *op);
} // namespace impl

/// Every rank-2 tensor operand/result has a static width (dim 1).
template <typename ConcreteType>
class StaticWidths
    : public mlir::OpTrait::TraitBase<ConcreteType, StaticWidths> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) {
    return impl::verifyStaticWidths(op);
  }
};

/// Every shaped operand/result has the same row count (dim 0); `?` is compatible with anything.
template <typename ConcreteType>
class SameRows : public mlir::OpTrait::TraitBase<ConcreteType, SameRows> {
public:
  static mlir::LogicalResult verifyTrait(mlir::Operation *op) {
    return impl::verifySameRows(op);
  }
};
} // namespace OpTrait

} // namespace llm
} // namespace llmc

#include "llmc/Dialect/LLM/IR/LLMInterfaces.h.inc"

#define GET_OP_CLASSES
#include "llmc/Dialect/LLM/IR/LLMOps.h.inc"

namespace llmc {
namespace llm {

/// Resolves `ref` (as seen from `from`) to a weight symbol op, or returns null.
WeightOpInterface lookupWeight(mlir::Operation *from, mlir::SymbolRefAttr ref,
                               mlir::SymbolTableCollection &tables);
WeightOpInterface lookupWeight(mlir::Operation *from, mlir::SymbolRefAttr ref);

/// Shape of the weight `ref` names, or failure when it does not resolve or cannot be derived.
mlir::FailureOr<llvm::SmallVector<int64_t>>
getWeightShape(mlir::Operation *from, mlir::SymbolRefAttr ref,
               mlir::SymbolTableCollection &tables);

/// Engine dtypes a weight may have.
bool isValidWeightDType(llvm::StringRef dtype);

} // namespace llm
} // namespace llmc

#endif // LLMC_DIALECT_LLM_IR_LLMOPS_H
