//===- RaisingUtils.cpp - helpers shared by the raising patterns ----------===//
//
// Owner: onnx.
//
//===----------------------------------------------------------------------===//
#include "RaisingUtils.h"

#include "GenericEval.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

namespace llmc::raising {

using mlir::ShapedType;
using mlir::Value;

mlir::RankedTensorType tensorType(Value v) {
  return mlir::dyn_cast<mlir::RankedTensorType>(v.getType());
}

bool isActivation2D(Value v) {
  auto t = tensorType(v);
  return t && t.getRank() == 2 && t.isDynamicDim(0) && !t.isDynamicDim(1) &&
         t.getElementType().isF32();
}

bool isTokenRows(mlir::Type type) {
  auto t = mlir::dyn_cast<mlir::RankedTensorType>(type);
  if (!t || t.getRank() < 2 || !t.isDynamicDim(t.getRank() - 2) ||
      t.isDynamicDim(t.getRank() - 1) || !t.getElementType().isF32())
    return false;
  for (int64_t k = 0; k + 2 < t.getRank(); ++k)
    if (t.getDimSize(k) != 1)
      return false;
  return true;
}

llm::ElemBinaryOp binaryOf(Value v, llvm::StringRef fn) {
  auto op = v.getDefiningOp<llm::ElemBinaryOp>();
  return op && op.getFn() == fn ? op : llm::ElemBinaryOp();
}

llm::ElemUnaryOp unaryOf(Value v, llvm::StringRef fn) {
  auto op = v.getDefiningOp<llm::ElemUnaryOp>();
  return op && op.getFn() == fn ? op : llm::ElemUnaryOp();
}

std::optional<double> scalarConstant(Value v) {
  while (mlir::Operation *op = v.getDefiningOp()) {
    if (mlir::isa<llm::ReshapeOp, llm::ExpandOp, llm::CastOp>(op)) {
      v = op->getOperand(0);
      continue;
    }
    auto c = mlir::dyn_cast<llm::ConstantOp>(op);
    if (!c)
      return std::nullopt;
    auto dense = mlir::dyn_cast<mlir::DenseElementsAttr>(c.getValue());
    if (!dense || !dense.isSplat())
      return std::nullopt;
    if (mlir::isa<mlir::FloatType>(dense.getElementType()))
      return dense.getSplatValue<llvm::APFloat>().convertToDouble();
    return static_cast<double>(dense.getSplatValue<llvm::APInt>().getSExtValue());
  }
  return std::nullopt;
}

llm::WeightValueOp weightValueOf(Value v) {
  while (auto r = v.getDefiningOp<llm::ReshapeOp>())
    v = r.getInput();
  return v.getDefiningOp<llm::WeightValueOp>();
}

Value viewBase(Value v, llvm::SmallVectorImpl<mlir::Operation *> *chain) {
  llvm::SmallVector<mlir::Operation *> ops;
  while (!isActivation2D(v)) {
    mlir::Operation *op = v.getDefiningOp();
    if (!op || !mlir::isa<llm::ReshapeOp, llm::TransposeOp, llm::ExpandOp>(op))
      return Value();
    ops.push_back(op);
    v = op->getOperand(0);
  }
  if (chain) {
    chain->clear();
    chain->append(ops.rbegin(), ops.rend());
  }
  return v;
}

bool viewMatches(Value v, Value base,
                 const std::function<int64_t(const std::vector<int64_t> &, int64_t)> &expected) {
  const int64_t width = tensorType(base).getDimSize(1);
  for (int64_t T : kCheckLengths) {
    GenericEvaluator ev(T);
    std::vector<int64_t> idx(T * width);
    for (int64_t j = 0; j < T * width; ++j)
      idx[j] = j;
    ev.setOverride(base, eval::Tensor::ints({T, width}, std::move(idx)));
    std::optional<eval::Tensor> got = ev.evaluate(v);
    if (!got || got->isFloat())
      return false;
    const std::vector<int64_t> &shape = got->shape;
    std::vector<int64_t> coord(shape.size(), 0);
    for (int64_t j = 0; j < got->numel(); ++j) {
      if (got->i[j] != expected(coord, T))
        return false;
      for (int64_t k = static_cast<int64_t>(shape.size()) - 1; k >= 0; --k) {
        if (++coord[k] < shape[k])
          break;
        coord[k] = 0;
      }
    }
  }
  return true;
}

Value cloneChain(mlir::PatternRewriter &rewriter, llvm::ArrayRef<mlir::Operation *> chain,
                 Value newBase) {
  Value cur = newBase;
  for (mlir::Operation *op : chain) {
    mlir::IRMapping map;
    map.map(op->getOperand(0), cur);
    cur = rewriter.clone(*op, map)->getResult(0);
  }
  return cur;
}

Value as2D(mlir::PatternRewriter &rewriter, Value v) {
  if (isActivation2D(v))
    return v;
  auto t = tensorType(v);
  if (!t)
    return Value();
  const int64_t width = t.getRank() ? t.getDimSize(t.getRank() - 1) : 0;
  Value base = viewBase(v);
  if (base && tensorType(base).getDimSize(1) == width && isTokenRows(v.getType()) &&
      viewMatches(v, base, [&](const std::vector<int64_t> &c, int64_t) {
        return c[c.size() - 2] * width + c.back();
      }))
    return base;
  if (!isTokenRows(v.getType()))
    return Value();
  auto type = mlir::RankedTensorType::get({ShapedType::kDynamic, width}, t.getElementType());
  return rewriter.create<llm::ReshapeOp>(v.getLoc(), type, v);
}

Value from2D(mlir::PatternRewriter &rewriter, mlir::Location loc, Value v, mlir::Type type) {
  if (v.getType() == type)
    return v;
  return rewriter.create<llm::ReshapeOp>(loc, type, v);
}

mlir::FlatSymbolRefAttr transposedWeight(mlir::PatternRewriter &rewriter, mlir::Operation *user,
                                         mlir::FlatSymbolRefAttr w) {
  auto module = user->getParentOfType<mlir::ModuleOp>();
  const std::string name = (w.getValue() + ".t").str();
  mlir::SymbolTable table(module);
  if (auto existing = table.lookup<llm::WeightTransposeOp>(name))
    if (existing.getInput() == w.getValue())
      return mlir::FlatSymbolRefAttr::get(rewriter.getContext(), name);
  std::string unique = name;
  for (int k = 1; table.lookup(unique); ++k)
    unique = name + "_" + std::to_string(k);
  mlir::Operation *src = table.lookup(w.getValue());
  mlir::OpBuilder::InsertionGuard guard(rewriter);
  if (src)
    rewriter.setInsertionPointAfter(src);
  else
    rewriter.setInsertionPointToStart(module.getBody());
  rewriter.create<llm::WeightTransposeOp>(user->getLoc(), rewriter.getStringAttr(unique), w);
  return mlir::FlatSymbolRefAttr::get(rewriter.getContext(), unique);
}

}  // namespace llmc::raising
