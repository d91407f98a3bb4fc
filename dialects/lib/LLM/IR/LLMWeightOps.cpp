//===- LLMWeightOps.cpp - weight symbol ops: verifiers and derived shapes --===//
//
// llm.weight stores shape and dtype; llm.weight_concat / llm.weight_transpose derive theirs from
// the weights they name. Owner: mlir.
//
//===----------------------------------------------------------------------===//

#include "llmc/Dialect/LLM/IR/LLMOps.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace llmc::llm;

#include "llmc/Dialect/LLM/IR/LLMInterfaces.cpp.inc"

// Derived weights may name derived weights; a chain this deep can only be a cycle.
static constexpr unsigned kMaxWeightDepth = 32;

bool llmc::llm::isValidWeightDType(StringRef dtype) {
  return dtype == "f32" || dtype == "f16" || dtype == "bf16";
}

WeightOpInterface llmc::llm::lookupWeight(Operation *from, SymbolRefAttr ref,
                                          SymbolTableCollection &tables) {
  if (!ref)
    return nullptr;
  return dyn_cast_or_null<WeightOpInterface>(
      tables.lookupNearestSymbolFrom(from, ref));
}

WeightOpInterface llmc::llm::lookupWeight(Operation *from, SymbolRefAttr ref) {
  SymbolTableCollection tables;
  return lookupWeight(from, ref, tables);
}

FailureOr<SmallVector<int64_t>>
llmc::llm::getWeightShape(Operation *from, SymbolRefAttr ref,
                          SymbolTableCollection &tables) {
  WeightOpInterface w = lookupWeight(from, ref, tables);
  if (!w)
    return failure();
  return w.computeShape(tables, 0);
}

//===----------------------------------------------------------------------===//
// llm.weight
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (!isValidWeightDType(getDtype()))
    return emitOpError("dtype must be f32, f16 or bf16, got '") << getDtype() << "'";
  if (getShape().empty())
    return emitOpError("shape must have at least one dimension");
  if (llvm::any_of(getShape(), [](int64_t d) { return d <= 0; }))
    return emitOpError("shape dimensions must be positive");
  if (getSource().empty())
    return emitOpError("source name must not be empty");
  return success();
}

FailureOr<SmallVector<int64_t>> WeightOp::computeShape(SymbolTableCollection &,
                                                       unsigned) {
  return SmallVector<int64_t>(getShape());
}

FailureOr<StringRef> WeightOp::computeDType(SymbolTableCollection &, unsigned) {
  return getDtype();
}

//===----------------------------------------------------------------------===//
// llm.weight_concat
//===----------------------------------------------------------------------===//

/// Resolves `ref` from `op` for a derived weight at nesting `depth`, or null.
static WeightOpInterface resolvePart(Operation *op, Attribute ref,
                                     SymbolTableCollection &tables,
                                     unsigned depth) {
  if (depth >= kMaxWeightDepth)
    return nullptr;
  return lookupWeight(op, llvm::dyn_cast<SymbolRefAttr>(ref), tables);
}

FailureOr<SmallVector<int64_t>>
WeightConcatOp::computeShape(SymbolTableCollection &tables, unsigned depth) {
  SmallVector<int64_t> shape;
  int64_t axis = getAxis();
  for (Attribute part : getParts()) {
    WeightOpInterface w = resolvePart(*this, part, tables, depth);
    if (!w)
      return failure();
    FailureOr<SmallVector<int64_t>> ps = w.computeShape(tables, depth + 1);
    if (failed(ps) || axis < 0 || axis >= (int64_t)ps->size())
      return failure();
    if (shape.empty()) {
      shape = *ps;
      continue;
    }
    if (ps->size() != shape.size())
      return failure();
    for (size_t d = 0; d < shape.size(); ++d) {
      if ((int64_t)d == axis)
        shape[d] += (*ps)[d];
      else if (shape[d] != (*ps)[d])
        return failure();
    }
  }
  if (shape.empty())
    return failure();
  return shape;
}

FailureOr<StringRef>
WeightConcatOp::computeDType(SymbolTableCollection &tables, unsigned depth) {
  std::optional<StringRef> dtype;
  for (Attribute part : getParts()) {
    WeightOpInterface w = resolvePart(*this, part, tables, depth);
    if (!w)
      return failure();
    FailureOr<StringRef> d = w.computeDType(tables, depth + 1);
    if (failed(d) || (dtype && *dtype != *d))
      return failure();
    dtype = *d;
  }
  if (!dtype)
    return failure();
  return *dtype;
}

LogicalResult
WeightConcatOp::verifySymbolUses(SymbolTableCollection &tables) {
  if (getParts().empty())
    return emitOpError("needs at least one part");
  std::optional<SmallVector<int64_t>> first;
  std::optional<StringRef> firstDType;
  for (auto [i, part] : llvm::enumerate(getParts())) {
    WeightOpInterface w = resolvePart(*this, part, tables, 0);
    if (!w)
      return emitOpError("part ") << i << " (" << part
                                  << ") does not name a weight symbol";
    FailureOr<SmallVector<int64_t>> shape = w.computeShape(tables, 1);
    FailureOr<StringRef> dtype = w.computeDType(tables, 1);
    if (failed(shape) || failed(dtype))
      return emitOpError("part ") << i << " (" << part
                                  << ") has no derivable shape/dtype (cyclic or invalid)";
    int64_t axis = getAxis();
    if (axis < 0 || axis >= (int64_t)shape->size())
      return emitOpError("axis ") << axis << " out of range for part " << i
                                  << " of rank " << shape->size();
    if (!first) {
      first = *shape;
      firstDType = *dtype;
      continue;
    }
    if (*dtype != *firstDType)
      return emitOpError("part ") << i << " has dtype " << *dtype
                                  << ", part 0 has " << *firstDType;
    if (shape->size() != first->size())
      return emitOpError("part ") << i << " has rank " << shape->size()
                                  << ", part 0 has rank " << first->size();
    for (size_t d = 0; d < shape->size(); ++d)
      if ((int64_t)d != axis && (*shape)[d] != (*first)[d])
        return emitOpError("part ") << i << " differs from part 0 in dimension "
                                    << d << " (" << (*shape)[d] << " vs "
                                    << (*first)[d] << ")";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// llm.weight_transpose
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<int64_t>>
WeightTransposeOp::computeShape(SymbolTableCollection &tables, unsigned depth) {
  WeightOpInterface w = resolvePart(*this, getInputAttr(), tables, depth);
  if (!w)
    return failure();
  FailureOr<SmallVector<int64_t>> s = w.computeShape(tables, depth + 1);
  if (failed(s) || s->size() != 2)
    return failure();
  return SmallVector<int64_t>{(*s)[1], (*s)[0]};
}

FailureOr<StringRef>
WeightTransposeOp::computeDType(SymbolTableCollection &tables, unsigned depth) {
  WeightOpInterface w = resolvePart(*this, getInputAttr(), tables, depth);
  if (!w)
    return failure();
  return w.computeDType(tables, depth + 1);
}

LogicalResult
WeightTransposeOp::verifySymbolUses(SymbolTableCollection &tables) {
  WeightOpInterface w = resolvePart(*this, getInputAttr(), tables, 0);
  if (!w)
    return emitOpError("input ") << getInputAttr() << " does not name a weight symbol";
  FailureOr<SmallVector<int64_t>> s = w.computeShape(tables, 1);
  if (failed(s))
    return emitOpError("input ") << getInputAttr()
                                 << " has no derivable shape (cyclic or invalid)";
  if (s->size() != 2)
    return emitOpError("input must be 2-D, has rank ") << s->size();
  return success();
}
