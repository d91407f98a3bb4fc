//===- WeightSymbols.cpp - helpers for passes that derive weights ----------===//
//
// Owner: mlir.
//
//===----------------------------------------------------------------------===//

#include "Utils/WeightSymbols.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace llmc;

FlatSymbolRefAttr passes::createWeightConcat(RewriterBase &rewriter, Operation *user,
                                             ArrayRef<FlatSymbolRefAttr> parts,
                                             StringRef suffix) {
  auto module = user->getParentOfType<ModuleOp>();
  // Unique, deterministic name: first part's name + suffix, then _1, _2, ...
  std::string base = (parts.front().getValue() + suffix).str();
  std::string name = base;
  for (unsigned i = 1; SymbolTable::lookupSymbolIn(module, name); ++i)
    name = base + "_" + std::to_string(i);

  // Place it right after the last (in module order) of its parts.
  Operation *last = nullptr;
  for (FlatSymbolRefAttr p : parts) {
    Operation *op = SymbolTable::lookupSymbolIn(module, p.getAttr());
    if (op && (!last || last->isBeforeInBlock(op)))
      last = op;
  }
  OpBuilder::InsertionGuard guard(rewriter);
  if (last)
    rewriter.setInsertionPointAfter(last);
  else
    rewriter.setInsertionPointToStart(module.getBody());
  SmallVector<Attribute> partAttrs(parts.begin(), parts.end());
  rewriter.create<llm::WeightConcatOp>(user->getLoc(), name,
                                       rewriter.getArrayAttr(partAttrs),
                                       /*axis=*/0);
  return FlatSymbolRefAttr::get(rewriter.getContext(), name);
}

LogicalResult passes::checkConcatenable(Operation *user,
                                        ArrayRef<FlatSymbolRefAttr> refs,
                                        int64_t rank, std::string &why) {
  SymbolTableCollection tables;
  std::optional<SmallVector<int64_t>> first;
  std::optional<StringRef> firstDType;
  for (FlatSymbolRefAttr ref : refs) {
    llm::WeightOpInterface w = llm::lookupWeight(user, ref, tables);
    if (!w) {
      why = ("@" + ref.getValue() + " does not name a weight symbol").str();
      return failure();
    }
    FailureOr<SmallVector<int64_t>> shape = w.computeShape(tables, 0);
    FailureOr<StringRef> dtype = w.computeDType(tables, 0);
    if (failed(shape) || failed(dtype) || (int64_t)shape->size() != rank) {
      why = ("@" + ref.getValue() + " has no derivable shape of rank " +
             std::to_string(rank)).str();
      return failure();
    }
    if (!first) {
      first = *shape;
      firstDType = *dtype;
      continue;
    }
    if (*dtype != *firstDType) {
      why = ("weights have different dtypes (" + *firstDType + " vs " + *dtype +
             "); a concatenation has one dtype").str();
      return failure();
    }
    for (int64_t d = 1; d < rank; ++d)
      if ((*shape)[d] != (*first)[d]) {
        why = "weights differ in a dimension other than 0";
        return failure();
      }
  }
  return success();
}
