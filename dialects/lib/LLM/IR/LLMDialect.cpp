//===- LLMDialect.cpp - the llm dialect ------------------------------------===//
//
// Registers the llm ops with the dialect. Owner: mlir.
//
//===----------------------------------------------------------------------===//

#include "llmc/Dialect/LLM/IR/LLMDialect.h"
#include "llmc/Dialect/LLM/IR/LLMOps.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace llmc::llm;

#include "llmc/Dialect/LLM/IR/LLMDialect.cpp.inc"

void LLMDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "llmc/Dialect/LLM/IR/LLMOps.cpp.inc"
      >();
}

LogicalResult LLMDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == "llm.offset") {
    auto offsets = llvm::dyn_cast<DenseI64ArrayAttr>(attr.getValue());
    if (!offsets || (size_t)offsets.size() != op->getNumResults())
      return op->emitOpError("'llm.offset' must be array<i64> with one entry per result (")
             << op->getNumResults() << ")";
    if (llvm::any_of(offsets.asArrayRef(), [](int64_t o) { return o < 0; }))
      return op->emitOpError("'llm.offset' entries must be >= 0");
    return success();
  }
  if (name == "llm.arena_per_token") {
    auto arena = llvm::dyn_cast<IntegerAttr>(attr.getValue());
    if (!arena || arena.getInt() < 0)
      return op->emitOpError("'llm.arena_per_token' must be a non-negative integer");
    return success();
  }
  // Other llm.* discardable attributes are left to their producers.
  return success();
}
