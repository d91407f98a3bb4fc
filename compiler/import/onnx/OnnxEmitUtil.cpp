//===- OnnxEmitUtil.cpp - building generic llm ops with derived types -----===//
//
// Owner: onnx.
//
//===----------------------------------------------------------------------===//
#include "OnnxEmitUtil.h"

#include "llmc/Dialect/LLM/IR/LLMOps.h"

#include <algorithm>

namespace llmc::onnx_import {

using mlir::ShapedType;

mlir::RankedTensorType typeOfValue(mlir::Value v) {
  return mlir::cast<mlir::RankedTensorType>(v.getType());
}

std::vector<int64_t> broadcastDims(mlir::RankedTensorType a, mlir::RankedTensorType b) {
  const int64_t r = std::max(a.getRank(), b.getRank());
  std::vector<int64_t> out(r, 1);
  for (int64_t k = 0; k < r; ++k) {
    int64_t da = k < r - a.getRank() ? 1 : a.getDimSize(k - (r - a.getRank()));
    int64_t db = k < r - b.getRank() ? 1 : b.getDimSize(k - (r - b.getRank()));
    out[k] = da == 1 ? db : da;
  }
  return out;
}

static bool isComparison(const std::string &fn) {
  return fn == "eq" || fn == "lt" || fn == "le" || fn == "gt" || fn == "ge";
}

mlir::Value emitBinary(mlir::OpBuilder &b, mlir::Location loc, const std::string &fn,
                       mlir::Value lhs, mlir::Value rhs) {
  auto ta = typeOfValue(lhs), tb = typeOfValue(rhs);
  mlir::Type et = isComparison(fn) ? b.getI1Type() : ta.getElementType();
  auto type = mlir::RankedTensorType::get(broadcastDims(ta, tb), et);
  return b.create<llm::ElemBinaryOp>(loc, type, lhs, rhs, b.getStringAttr(fn));
}

mlir::Value emitUnary(mlir::OpBuilder &b, mlir::Location loc, const std::string &fn,
                      mlir::Value x) {
  auto t = typeOfValue(x);
  if (fn == "isnan" || fn == "isinf")
    t = mlir::RankedTensorType::get(t.getShape(), b.getI1Type());
  return b.create<llm::ElemUnaryOp>(loc, t, x, b.getStringAttr(fn));
}

mlir::Value emitScalar(mlir::OpBuilder &b, mlir::Location loc, double value, mlir::Type et) {
  auto type = mlir::RankedTensorType::get({}, et);
  mlir::DenseElementsAttr attr;
  if (auto ft = mlir::dyn_cast<mlir::FloatType>(et)) {
    llvm::APFloat x(value);
    bool lost = false;
    x.convert(ft.getFloatSemantics(), llvm::APFloat::rmNearestTiesToEven, &lost);
    attr = mlir::DenseElementsAttr::get(type, x);
  } else {
    attr = mlir::DenseElementsAttr::get(
        type, llvm::APInt(et.getIntOrFloatBitWidth(), static_cast<uint64_t>(value), true));
  }
  return b.create<llm::ConstantOp>(loc, type, attr);
}

mlir::Value emitReshape(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                        const std::vector<int64_t> &shape) {
  auto t = mlir::RankedTensorType::get(shape, typeOfValue(x).getElementType());
  if (t == x.getType())
    return x;
  return b.create<llm::ReshapeOp>(loc, t, x);
}

mlir::Value emitTranspose(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                          const std::vector<int64_t> &perm) {
  auto t = typeOfValue(x);
  std::vector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(t.getDimSize(p));
  return b.create<llm::TransposeOp>(loc, mlir::RankedTensorType::get(shape, t.getElementType()),
                                    x, b.getDenseI64ArrayAttr(perm));
}

mlir::Value emitSlice(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x, int64_t axis,
                      int64_t start, int64_t end) {
  auto t = typeOfValue(x);
  std::vector<int64_t> shape(t.getShape().begin(), t.getShape().end());
  shape[axis] = end - start;
  return b.create<llm::SliceOp>(loc, mlir::RankedTensorType::get(shape, t.getElementType()), x,
                                b.getDenseI64ArrayAttr({start}), b.getDenseI64ArrayAttr({end}),
                                b.getDenseI64ArrayAttr({axis}), b.getDenseI64ArrayAttr({1}));
}

mlir::Value emitConcat(mlir::OpBuilder &b, mlir::Location loc, const std::vector<mlir::Value> &xs,
                       int64_t axis) {
  auto t = typeOfValue(xs[0]);
  std::vector<int64_t> shape(t.getShape().begin(), t.getShape().end());
  shape[axis] = 0;
  for (mlir::Value x : xs) {
    int64_t d = typeOfValue(x).getDimSize(axis);
    shape[axis] = (ShapedType::isDynamic(d) || ShapedType::isDynamic(shape[axis]))
                      ? ShapedType::kDynamic
                      : shape[axis] + d;
  }
  return b.create<llm::ConcatOp>(loc, mlir::RankedTensorType::get(shape, t.getElementType()),
                                 mlir::ValueRange(xs), b.getI64IntegerAttr(axis));
}

mlir::Value emitReduce(mlir::OpBuilder &b, mlir::Location loc, const std::string &fn,
                       mlir::Value x, const std::vector<int64_t> &axes) {
  auto t = typeOfValue(x);
  std::vector<int64_t> shape(t.getShape().begin(), t.getShape().end());
  for (int64_t a : axes)
    shape[a] = 1;
  return b.create<llm::ReduceOp>(loc, mlir::RankedTensorType::get(shape, t.getElementType()), x,
                                 b.getStringAttr(fn), b.getDenseI64ArrayAttr(axes),
                                 b.getBoolAttr(true));
}

}  // namespace llmc::onnx_import
