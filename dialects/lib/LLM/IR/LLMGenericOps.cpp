//===- LLMGenericOps.cpp - generic tensor ops: verifiers and folders -------===//
//
// Owner: onnx. Local checks only (known function names, permutation sizes, attribute lengths);
// shape inference is the importer's job, which states every result type.
//
//===----------------------------------------------------------------------===//

#include "llmc/Dialect/LLM/IR/LLMOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace llmc::llm;

LogicalResult ConstantOp::verify() {
  auto t = llvm::dyn_cast<ShapedType>(getValue().getType());
  if (!t || t != getType())
    return emitOpError("value type ") << getValue().getType() << " differs from the result type "
                                      << getType();
  return success();
}

LogicalResult WeightValueOp::verifySymbolUses(SymbolTableCollection &tables) {
  FailureOr<SmallVector<int64_t>> shape = getWeightShape(*this, getWeightAttr(), tables);
  if (failed(shape))
    return emitOpError("weight ") << getWeightAttr() << " does not name a weight with a shape";
  if (ArrayRef<int64_t>(*shape) != getType().getShape())
    return emitOpError("weight ") << getWeightAttr() << " shape does not match the result type "
                                  << getType();
  return success();
}

LogicalResult AffineIntsOp::verify() {
  if (getScale().size() != getOffset().size())
    return emitOpError("scale and offset must have the same length");
  auto t = getType();
  if (!t.hasStaticShape() || t.getNumElements() != static_cast<int64_t>(getScale().size()))
    return emitOpError("result must be static with one element per scale entry");
  return success();
}

LogicalResult CausalMaskOp::verify() {
  auto t = getType();
  if (t.getRank() < 2 || !t.isDynamicDim(t.getRank() - 1) || !t.isDynamicDim(t.getRank() - 2))
    return emitOpError("result must be [..., T, T] (last two dims dynamic)");
  for (int64_t k = 0; k + 2 < t.getRank(); ++k)
    if (t.getDimSize(k) != 1)
      return emitOpError("leading dims must be 1");
  bool isBool = t.getElementType().isInteger(1);
  if (isBool == getMaskedValue().has_value())
    return emitOpError("an i1 mask has no masked_value; a float mask needs one");
  if (getSlidingWindow() < 0)
    return emitOpError("sliding_window must be >= 0");
  return success();
}

static bool isUnaryName(StringRef fn) {
  return llvm::is_contained({"neg", "sqrt", "reciprocal", "exp", "log", "sigmoid", "tanh", "erf",
                             "cos", "sin", "abs", "relu", "not", "isnan", "isinf", "floor",
                             "ceil", "identity"},
                            fn);
}
static bool isBinaryName(StringRef fn) {
  return llvm::is_contained({"add", "sub", "mul", "div", "pow", "max", "min", "mod", "and", "or",
                             "xor", "eq", "lt", "le", "gt", "ge"},
                            fn);
}

LogicalResult ElemUnaryOp::verify() {
  if (!isUnaryName(getFn()))
    return emitOpError("unknown unary function '") << getFn() << "'";
  return success();
}

LogicalResult ElemBinaryOp::verify() {
  if (!isBinaryName(getFn()))
    return emitOpError("unknown binary function '") << getFn() << "'";
  return success();
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

LogicalResult ReduceOp::verify() {
  if (!llvm::is_contained({"mean", "sum", "max", "min", "prod"}, getFn()))
    return emitOpError("unknown reduction '") << getFn() << "'";
  int64_t rank = getInput().getType().getRank();
  for (int64_t a : getAxes())
    if (a < 0 || a >= rank)
      return emitOpError("axis ") << a << " out of range";
  return success();
}

LogicalResult SdpaOp::verify() {
  for (Value v : {getQ(), getK(), getV()})
    if (llvm::cast<ShapedType>(v.getType()).getRank() != 4)
      return emitOpError("q, k, v must be [B, H, S, D]");
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // reshape(reshape(x)) -> reshape(x): only the final shape matters.
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

LogicalResult TransposeOp::verify() {
  int64_t rank = getInput().getType().getRank();
  if (static_cast<int64_t>(getPerm().size()) != rank)
    return emitOpError("perm must have one entry per dimension");
  SmallVector<bool> seen(rank, false);
  for (int64_t p : getPerm()) {
    if (p < 0 || p >= rank || seen[p])
      return emitOpError("perm is not a permutation");
    seen[p] = true;
  }
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  for (auto [k, p] : llvm::enumerate(getPerm()))
    if (static_cast<int64_t>(k) != p)
      return {};
  return getInput();
}

OpFoldResult ExpandOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

LogicalResult SliceOp::verify() {
  size_t n = getAxes().size();
  if (getStarts().size() != n || getEnds().size() != n || getSteps().size() != n)
    return emitOpError("starts, ends, axes and steps must have the same length");
  int64_t rank = getInput().getType().getRank();
  for (int64_t a : getAxes())
    if (a < 0 || a >= rank)
      return emitOpError("axis ") << a << " out of range";
  for (int64_t s : getSteps())
    if (s == 0)
      return emitOpError("step 0");
  return success();
}
