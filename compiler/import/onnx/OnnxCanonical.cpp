//===- OnnxCanonical.cpp - canonical forms of symbol-only values ----------===//
//
// Owner: onnx. A value that depends only on the sequence length T (and constants) is known at
// every probe length. Rather than emitting the subgraph that computed it (exporters build
// causal masks from Range/CumSum/GatherND/Equal/And chains that differ between versions), the
// importer recognises what the value *is* from its probe values and emits one op:
//
//   same at every probe            -> llm.constant (or a weight symbol for float initializers)
//   small int vector, linear in T  -> llm.affine_ints
//   0, 1, ..., T-1 along one axis  -> llm.positions (+ cast, reshape)
//   [.., T, T] causal pattern      -> llm.causal_mask (bool, or additive with a masked value)
//   one repeated value, T-shaped   -> llm.expand of a scalar constant
//
// Anything else is emitted op by op from its producer (a RoPE cos table: positions * inv_freq
// through Cos), which the raising passes then read.
//
//===----------------------------------------------------------------------===//
#include "OnnxImporterImpl.h"

#include "llmc/Dialect/LLM/IR/LLMOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/APFloat.h"

#include <cmath>

namespace llmc::onnx_import {
namespace {

bool sameAtEveryProbe(const ProbeValue *probes) {
  for (int p = 1; p < kNumProbes; ++p)
    if (!probes[p].data.sameValues(probes[0].data))
      return false;
  return true;
}

// The one axis of length T (others 1) at probe p, or -1.
int iotaAxis(const ProbeValue &v, int64_t T) {
  int axis = -1;
  for (size_t k = 0; k < v.shape.size(); ++k) {
    if (v.shape[k] == T && axis < 0)
      axis = static_cast<int>(k);
    else if (v.shape[k] != 1)
      return -1;
  }
  return axis;
}

bool isIota(const ProbeValue *probes) {
  for (int p = 0; p < kNumProbes; ++p) {
    const ProbeValue &v = probes[p];
    if (iotaAxis(v, kProbeLengths[p]) < 0)
      return false;
    for (int64_t t = 0; t < kProbeLengths[p]; ++t)
      if (v.data.at(t) != static_cast<double>(t))
        return false;
  }
  return true;
}

// Causal mask check: [1.., T, T], allowed(i, j) = j <= i && (W == 0 || i - j < W). Sets the
// window and, for float masks, the masked value.
bool isCausalMask(const ProbeValue *probes, int64_t &window, double &masked, bool &isBool) {
  isBool = probes[0].data.kind == eval::Kind::kBool;
  bool haveMasked = false;
  window = 0;
  // The window shows only at probe lengths longer than it: read it at the longest probe.
  {
    const ProbeValue &v = probes[kNumProbes - 1];
    const int64_t T = kProbeLengths[kNumProbes - 1];
    if (v.shape.size() < 2 || v.data.numel() != T * T)
      return false;
    int64_t allowed = 0;
    for (int64_t j = 0; j < T; ++j) {
      double x = v.data.at((T - 1) * T + j);
      allowed += isBool ? x != 0 : x == 0;
    }
    if (allowed < T)
      window = allowed;
  }
  for (int p = 0; p < kNumProbes; ++p) {
    const ProbeValue &v = probes[p];
    const int64_t T = kProbeLengths[p];
    const int64_t r = static_cast<int64_t>(v.shape.size());
    if (r < 2 || v.shape[r - 1] != T || v.shape[r - 2] != T || v.data.numel() != T * T)
      return false;
    if ((v.data.kind == eval::Kind::kBool) != isBool)
      return false;
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j < T; ++j) {
        const bool want = j <= i && (window == 0 || i - j < window);
        const double x = v.data.at(i * T + j);
        if (isBool) {
          if ((x != 0) != want)
            return false;
          continue;
        }
        if (want) {
          if (x != 0)
            return false;
        } else if (!haveMasked) {
          masked = x;
          haveMasked = true;
        } else if (!(x == masked)) {
          return false;
        }
      }
  }
  // An additive mask must effectively remove the entries it masks.
  return isBool || (haveMasked && masked <= -1e4);
}

}  // namespace

StatusOr<mlir::Value> OnnxImporterImpl::constant(const eval::Tensor &t, mlir::RankedTensorType type) {
  mlir::Type et = type.getElementType();
  const int64_t n = t.numel();
  if (n > kMaxEvalElements)
    return Unsupported(model_.path() + ": a constant of " + std::to_string(n) +
                       " elements is too large to inline");
  mlir::DenseElementsAttr attr;
  if (auto ft = mlir::dyn_cast<mlir::FloatType>(et)) {
    std::vector<llvm::APFloat> v;
    v.reserve(n);
    for (int64_t j = 0; j < n; ++j) {
      llvm::APFloat x(t.at(j));
      bool lost = false;
      x.convert(ft.getFloatSemantics(), llvm::APFloat::rmNearestTiesToEven, &lost);
      v.push_back(x);
    }
    attr = mlir::DenseElementsAttr::get(type, v);
  } else {
    const unsigned bits = et.getIntOrFloatBitWidth();
    std::vector<llvm::APInt> v;
    v.reserve(n);
    for (int64_t j = 0; j < n; ++j)
      v.push_back(llvm::APInt(bits, static_cast<uint64_t>(t.atInt(j)), /*isSigned=*/true));
    attr = mlir::DenseElementsAttr::get(type, v);
  }
  return b_.create<llm::ConstantOp>(loc_, type, attr).getResult();
}

StatusOr<mlir::Value> OnnxImporterImpl::weightValue(const std::string &name,
                                                    const InitializerData &d) {
  if (!(d.dtype == kOnnxFloat || d.dtype == kOnnxFloat16 || d.dtype == kOnnxBFloat16))
    return Unsupported(model_.path() + ": initializer '" + name + "' is " +
                       onnxTypeName(d.dtype) + "; weights must be float32, float16 or bfloat16");
  mlir::FlatSymbolRefAttr ref;
  auto it = weights_.find(name);
  if (it != weights_.end()) {
    ref = it->second;
  } else {
    // The symbol is the initializer's name (unique within a graph); `source` names it too.
    std::string sym = name;
    for (int k = 1; symbolNames_.count(sym) || sym == "forward"; ++k)
      sym = name + "_" + std::to_string(k);
    symbolNames_.insert(sym);
    mlir::OpBuilder::InsertionGuard guard(b_);
    // Weights are listed before @forward, in first-use order.
    b_.setInsertionPoint(module_.getBody(), std::prev(module_.getBody()->end()));
    b_.create<llm::WeightOp>(loc_, sym, name, d.shape, engine::dtypeName(dtype_));
    ref = mlir::FlatSymbolRefAttr::get(&ctx_, sym);
    weights_[name] = ref;
  }
  LLMC_ASSIGN_OR_RETURN(mlir::Type et, elemType(d.dtype, model_.path()));
  auto type = mlir::RankedTensorType::get(d.shape, et);
  return b_.create<llm::WeightValueOp>(loc_, type, ref).getResult();
}

StatusOr<mlir::Value> OnnxImporterImpl::canonical(const std::string &name, const ValueState &vs,
                                                  bool &found) {
  found = true;
  const ProbeValue *pr = vs.probes;
  const std::string where = model_.path() + ": value '" + name + "'";
  if (sameAtEveryProbe(pr) && (!pr[0].data.isFloat() || pr[0].data.numel() <= kMaxInlineFloats)) {
    LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType type, typeOf(name, where));
    return constant(pr[0].data, type);
  }
  const bool staticShape = [&] {
    for (int p = 1; p < kNumProbes; ++p)
      if (pr[p].shape != pr[0].shape)
        return false;
    return true;
  }();
  // A shape value mentioning T: [1, T], T - 1, ...
  if (staticShape && pr[0].data.kind == eval::Kind::kInt && pr[0].data.numel() <= 64) {
    StatusOr<std::vector<Affine>> aff = affineOf(name, where);
    if (aff.ok()) {
      std::vector<int64_t> scale, offset;
      for (const Affine &a : *aff)
        scale.push_back(a.a), offset.push_back(a.b);
      LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType type, typeOf(name, where));
      return b_.create<llm::AffineIntsOp>(loc_, type, b_.getDenseI64ArrayAttr(scale),
                                          b_.getDenseI64ArrayAttr(offset))
          .getResult();
    }
  }
  if (isIota(pr)) {
    LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType type, typeOf(name, where));
    auto i64 = mlir::RankedTensorType::get({mlir::ShapedType::kDynamic}, b_.getI64Type());
    mlir::Value v = b_.create<llm::PositionsOp>(loc_, i64);
    if (type.getElementType() != b_.getI64Type())
      v = b_.create<llm::CastOp>(
          loc_, mlir::RankedTensorType::get({mlir::ShapedType::kDynamic}, type.getElementType()), v);
    if (type.getRank() != 1)
      v = b_.create<llm::ReshapeOp>(loc_, type, v);
    return v;
  }
  int64_t window = 0;
  double masked = 0;
  bool isBool = false;
  if (isCausalMask(pr, window, masked, isBool)) {
    LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType type, typeOf(name, where));
    mlir::FloatAttr mv;
    if (!isBool) {
      if (!type.getElementType().isF32())
        return Unsupported(where + ": an additive mask must be float32");
      mv = b_.getF32FloatAttr(static_cast<float>(masked));
    }
    return b_.create<llm::CausalMaskOp>(loc_, type, b_.getI64IntegerAttr(window), mv).getResult();
  }
  // One value repeated over a T-dependent shape (attention_mask = ones(1, T)).
  {
    bool uniform = true;
    for (int p = 0; p < kNumProbes && uniform; ++p)
      for (int64_t j = 0; j < pr[p].data.numel() && uniform; ++j)
        uniform = pr[p].data.at(j) == pr[0].data.at(0);
    if (uniform && pr[0].data.numel() > 0) {
      StatusOr<mlir::RankedTensorType> type = typeOf(name, where);
      if (type.ok()) {
        auto scalarType = mlir::RankedTensorType::get(
            std::vector<int64_t>(type->getRank(), 1), type->getElementType());
        eval::Tensor one = pr[0].data;
        one.shape.assign(type->getRank(), 1);
        if (one.isFloat())
          one.f.resize(1);
        else
          one.i.resize(1);
        LLMC_ASSIGN_OR_RETURN(mlir::Value c, constant(one, scalarType));
        return b_.create<llm::ExpandOp>(loc_, *type, c).getResult();
      }
    }
  }
  found = false;
  return mlir::Value();
}

}  // namespace llmc::onnx_import
