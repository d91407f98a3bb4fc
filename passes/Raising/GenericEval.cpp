//===- GenericEval.cpp - evaluate generic llm ops for a probe length ------===//
//
// Owner: onnx.
//
//===----------------------------------------------------------------------===//
#include "GenericEval.h"

#include "llmc/Dialect/LLM/IR/LLMOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

namespace llmc::raising {

using eval::Kind;
using eval::Tensor;

std::vector<int64_t> shapeAt(mlir::Type t, int64_t T) {
  auto st = mlir::cast<mlir::ShapedType>(t);
  std::vector<int64_t> s;
  for (int64_t d : st.getShape())
    s.push_back(mlir::ShapedType::isDynamic(d) ? T : d);
  return s;
}

namespace {

Kind kindOfType(mlir::Type t) {
  mlir::Type et = mlir::cast<mlir::ShapedType>(t).getElementType();
  if (mlir::isa<mlir::FloatType>(et))
    return Kind::kFloat;
  return et.isInteger(1) ? Kind::kBool : Kind::kInt;
}

// Largest tensor the evaluator builds (a [T, T] mask or a [T, W] index tensor at small T).
constexpr int64_t kMaxElements = int64_t{1} << 22;

std::optional<Tensor> fromAttr(mlir::ElementsAttr attr) {
  auto dense = mlir::dyn_cast<mlir::DenseElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  auto type = mlir::cast<mlir::ShapedType>(dense.getType());
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  if (mlir::isa<mlir::FloatType>(type.getElementType())) {
    std::vector<double> v;
    for (const llvm::APFloat &x : dense.getValues<llvm::APFloat>())
      v.push_back(x.convertToDouble() == x.convertToDouble() ? x.convertToDouble() : NAN);
    return Tensor::floats(shape, std::move(v));
  }
  std::vector<int64_t> v;
  const bool isBool = type.getElementType().isInteger(1);
  for (const llvm::APInt &x : dense.getValues<llvm::APInt>())
    v.push_back(isBool ? static_cast<int64_t>(x.getZExtValue() != 0) : x.getSExtValue());
  return Tensor::ints(shape, std::move(v), isBool ? Kind::kBool : Kind::kInt);
}

}  // namespace

std::optional<Tensor> GenericEvaluator::evaluate(mlir::Value v) {
  auto it = memo_.find(v);
  if (it != memo_.end())
    return it->second;
  if (++depth_ > 2000) {  // pathological chains: give up rather than overflow the stack
    --depth_;
    return std::nullopt;
  }
  std::optional<Tensor> r = compute(v);
  --depth_;
  if (r)
    memo_[v] = *r;
  return r;
}

std::optional<Tensor> GenericEvaluator::compute(mlir::Value v) {
  mlir::Operation *op = v.getDefiningOp();
  if (!op)
    return std::nullopt;
  const std::vector<int64_t> outShape = shapeAt(v.getType(), T_);
  if (eval::numelOf(outShape) > kMaxElements)
    return std::nullopt;
  std::string err;
  auto arg = [&](unsigned k) { return evaluate(op->getOperand(k)); };
  auto ok = [&](bool b, Tensor &t) -> std::optional<Tensor> {
    if (!b)
      return std::nullopt;
    return t;
  };
  Tensor out;
  return llvm::TypeSwitch<mlir::Operation *, std::optional<Tensor>>(op)
      .Case([&](llm::ConstantOp c) { return fromAttr(c.getValue()); })
      .Case([&](llm::PositionsOp) {
        std::vector<int64_t> p(T_);
        for (int64_t t = 0; t < T_; ++t)
          p[t] = t;
        return std::optional<Tensor>(Tensor::ints({T_}, std::move(p)));
      })
      .Case([&](llm::AffineIntsOp c) {
        std::vector<int64_t> vals;
        for (auto [s, o] : llvm::zip(c.getScale(), c.getOffset()))
          vals.push_back(s * T_ + o);
        return std::optional<Tensor>(Tensor::ints(outShape, std::move(vals)));
      })
      .Case([&](llm::CausalMaskOp c) -> std::optional<Tensor> {
        const int64_t w = c.getSlidingWindow();
        const bool isBool = kindOfType(v.getType()) == Kind::kBool;
        const double masked = c.getMaskedValue() ? c.getMaskedValue()->convertToDouble() : 0;
        std::vector<int64_t> b(T_ * T_);
        std::vector<double> f(T_ * T_);
        for (int64_t i = 0; i < T_; ++i)
          for (int64_t j = 0; j < T_; ++j) {
            bool allow = j <= i && (w == 0 || i - j < w);
            b[i * T_ + j] = allow;
            f[i * T_ + j] = allow ? 0.0 : masked;
          }
        return isBool ? Tensor::ints(outShape, std::move(b), Kind::kBool)
                      : Tensor::floats(outShape, std::move(f));
      })
      .Case([&](llm::ElemUnaryOp u) -> std::optional<Tensor> {
        auto a = arg(0);
        if (!a)
          return std::nullopt;
        return ok(eval::unary(u.getFn().str(), *a, out, err), out);
      })
      .Case([&](llm::ElemBinaryOp b) -> std::optional<Tensor> {
        auto x = arg(0), y = arg(1);
        if (!x || !y)
          return std::nullopt;
        return ok(eval::binary(b.getFn().str(), *x, *y, out, err), out);
      })
      .Case([&](llm::WhereOp) -> std::optional<Tensor> {
        auto c = arg(0), x = arg(1), y = arg(2);
        if (!c || !x || !y)
          return std::nullopt;
        return ok(eval::where(*c, *x, *y, out, err), out);
      })
      .Case([&](llm::CastOp) -> std::optional<Tensor> {
        auto x = arg(0);
        if (!x)
          return std::nullopt;
        return eval::cast(*x, kindOfType(v.getType()));
      })
      .Case([&](llm::MatMulOp) -> std::optional<Tensor> {
        auto x = arg(0), y = arg(1);
        if (!x || !y)
          return std::nullopt;
        return ok(eval::matmul(*x, *y, out, err), out);
      })
      .Case([&](llm::ReduceOp r) -> std::optional<Tensor> {
        auto x = arg(0);
        if (!x)
          return std::nullopt;
        std::vector<int64_t> axes(r.getAxes().begin(), r.getAxes().end());
        if (axes.empty())
          return std::nullopt;  // an empty list means all axes in eval::reduce, not here
        return ok(eval::reduce(r.getFn().str(), *x, axes, r.getKeepdims(), out, err), out);
      })
      .Case([&](llm::SoftmaxOp s) -> std::optional<Tensor> {
        auto x = arg(0);
        if (!x)
          return std::nullopt;
        return ok(eval::softmax(*x, s.getAxis(), out, err), out);
      })
      .Case([&](llm::CumSumOp s) -> std::optional<Tensor> {
        auto x = arg(0);
        if (!x)
          return std::nullopt;
        return ok(eval::cumsum(*x, s.getAxis(), s.getExclusive(), s.getReverse(), out, err), out);
      })
      .Case([&](llm::ReshapeOp) -> std::optional<Tensor> {
        auto x = arg(0);
        if (!x)
          return std::nullopt;
        return ok(eval::reshape(*x, outShape, out, err), out);
      })
      .Case([&](llm::TransposeOp t) -> std::optional<Tensor> {
        auto x = arg(0);
        if (!x)
          return std::nullopt;
        std::vector<int64_t> perm(t.getPerm().begin(), t.getPerm().end());
        return ok(eval::transpose(*x, perm, out, err), out);
      })
      .Case([&](llm::ExpandOp) -> std::optional<Tensor> {
        auto x = arg(0);
        if (!x)
          return std::nullopt;
        return ok(eval::expand(*x, outShape, out, err), out);
      })
      .Case([&](llm::SliceOp s) -> std::optional<Tensor> {
        auto x = arg(0);
        if (!x)
          return std::nullopt;
        std::vector<int64_t> st(s.getStarts().begin(), s.getStarts().end()),
            en(s.getEnds().begin(), s.getEnds().end()), ax(s.getAxes().begin(), s.getAxes().end()),
            sp(s.getSteps().begin(), s.getSteps().end());
        return ok(eval::slice(*x, st, en, ax, sp, out, err), out);
      })
      .Case([&](llm::ConcatOp c) -> std::optional<Tensor> {
        std::vector<Tensor> parts;
        for (unsigned k = 0; k < op->getNumOperands(); ++k) {
          auto x = arg(k);
          if (!x)
            return std::nullopt;
          parts.push_back(std::move(*x));
        }
        std::vector<const Tensor *> ptrs;
        for (const Tensor &t : parts)
          ptrs.push_back(&t);
        return ok(eval::concat(ptrs, c.getAxis(), out, err), out);
      })
      .Case([&](llm::GatherOp g) -> std::optional<Tensor> {
        auto d = arg(0), i = arg(1);
        if (!d || !i)
          return std::nullopt;
        return ok(eval::gather(*d, *i, g.getAxis(), out, err), out);
      })
      .Case([&](llm::GatherNDOp g) -> std::optional<Tensor> {
        auto d = arg(0), i = arg(1);
        if (!d || !i)
          return std::nullopt;
        return ok(eval::gatherND(*d, *i, g.getBatchDims(), out, err), out);
      })
      .Case([&](llm::RangeOp) -> std::optional<Tensor> {
        auto s = arg(0), l = arg(1), d = arg(2);
        if (!s || !l || !d)
          return std::nullopt;
        return ok(eval::range(*s, *l, *d, out, err), out);
      })
      .Case([&](llm::TriluOp t) -> std::optional<Tensor> {
        auto x = arg(0);
        if (!x)
          return std::nullopt;
        return ok(eval::trilu(*x, t.getK(), t.getUpper(), out, err), out);
      })
      .Default([](mlir::Operation *) { return std::nullopt; });
}

}  // namespace llmc::raising
