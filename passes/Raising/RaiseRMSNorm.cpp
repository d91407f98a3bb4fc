//===- RaiseRMSNorm.cpp - decomposed RMSNorm -> llm.rms_norm --------------===//
//
// Owner: onnx. llmc-raise-rms-norm. Anchored on the multiply by the [H] weight:
//   w * (x * reciprocal(sqrt(mean(x^2, -1) + eps)))      (torch export, importer's opset 23)
//   w * (x / sqrt(mean(x^2, -1) + eps))
//   w * (x * (1 / sqrt(mean(x^2, -1) + eps)))           (TorchScript export)
// with x^2 as pow(x, 2) or x * x, operands of commutative ops in either order. A weight computed
// as (w + 1) at run time (Gemma's norms, when the exporter did not fold it into a constant)
// gives unit_offset = true with w, the HF importer's form.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"

#include "llmc/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llmc {
#define GEN_PASS_DEF_RAISERMSNORM
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;
using namespace llmc::raising;

namespace {

// The norm weight of `v`: a weight, or (w + 1) of one (unitOffset).
llm::WeightValueOp normWeight(Value v, bool &unitOffset) {
  unitOffset = false;
  if (auto w = weightValueOf(v))
    return w;
  while (auto r = v.getDefiningOp<llm::ReshapeOp>())
    v = r.getInput();
  auto add = binaryOf(v, "add");
  if (!add)
    return llm::WeightValueOp();
  for (auto [wv, one] : {std::pair(add.getLhs(), add.getRhs()), std::pair(add.getRhs(), add.getLhs())}) {
    std::optional<double> c = scalarConstant(one);
    auto w = weightValueOf(wv);
    if (w && c && *c == 1.0 && wv.getType() == add.getType()) {
      unitOffset = true;
      return w;
    }
  }
  return llm::WeightValueOp();
}

// sqrt(mean(x^2 over the last axis) + eps): sets x and eps.
bool matchRootMeanSquare(Value s, Value &x, double &eps) {
  auto sq = unaryOf(s, "sqrt");
  if (!sq)
    return false;
  auto add = binaryOf(sq.getInput(), "add");
  if (!add)
    return false;
  Value meanV = add.getLhs();
  std::optional<double> e = scalarConstant(add.getRhs());
  if (!e) {
    meanV = add.getRhs();
    e = scalarConstant(add.getLhs());
  }
  if (!e)
    return false;
  auto mean = meanV.getDefiningOp<llm::ReduceOp>();
  if (!mean || mean.getFn() != "mean" || !mean.getKeepdims())
    return false;
  const int64_t rank = tensorType(mean.getInput()).getRank();
  if (mean.getAxes().size() != 1 || mean.getAxes()[0] != rank - 1)
    return false;
  Value in = mean.getInput();
  if (auto p = binaryOf(in, "pow")) {
    std::optional<double> two = scalarConstant(p.getRhs());
    if (!two || *two != 2.0)
      return false;
    x = p.getLhs();
  } else if (auto m = binaryOf(in, "mul")) {
    if (m.getLhs() != m.getRhs())
      return false;
    x = m.getLhs();
  } else {
    return false;
  }
  eps = *e;
  return true;
}

// x * reciprocal(rms), x * (1 / rms) or x / rms: sets x and eps.
bool matchNormalized(Value v, Value &x, double &eps) {
  if (auto d = binaryOf(v, "div")) {
    Value xx;
    if (matchRootMeanSquare(d.getRhs(), xx, eps) && xx == d.getLhs()) {
      x = xx;
      return true;
    }
    return false;
  }
  auto m = binaryOf(v, "mul");
  if (!m)
    return false;
  for (auto [a, r] : {std::pair(m.getLhs(), m.getRhs()), std::pair(m.getRhs(), m.getLhs())}) {
    Value rms;
    if (auto rec = unaryOf(r, "reciprocal"))
      rms = rec.getInput();
    else if (auto d = binaryOf(r, "div"); d && scalarConstant(d.getLhs()) == 1.0)
      rms = d.getRhs();
    Value xx;
    if (rms && matchRootMeanSquare(rms, xx, eps) && xx == a) {
      x = xx;
      return true;
    }
  }
  return false;
}

struct RaiseRMSNormPattern : OpRewritePattern<llm::ElemBinaryOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::ElemBinaryOp mul, PatternRewriter &rewriter) const override {
    if (mul.getFn() != "mul" || !isTokenRows(mul.getType()))
      return rewriter.notifyMatchFailure(mul, "not a mul producing token rows");
    const int64_t h = mul.getType().getShape().back();
    for (auto [wv, nv] : {std::pair(mul.getLhs(), mul.getRhs()), std::pair(mul.getRhs(), mul.getLhs())}) {
      bool unitOffset = false;
      auto w = normWeight(wv, unitOffset);
      if (!w || tensorType(w.getOutput()).getNumElements() != h ||
          tensorType(wv).getShape().back() != h)
        continue;
      Value x;
      double eps = 0;
      if (!matchNormalized(nv, x, eps) || x.getType() != mul.getType())
        continue;
      Value x2 = as2D(rewriter, x);
      if (!x2)
        return rewriter.notifyMatchFailure(mul, "input is not token rows");
      if (tensorType(w.getOutput()).getRank() != 1)
        return rewriter.notifyMatchFailure(mul, "norm weight is not 1-D");
      Value y = rewriter.create<llm::RMSNormOp>(mul.getLoc(), x2.getType(), x2, w.getWeightAttr(),
                                                rewriter.getF32FloatAttr(static_cast<float>(eps)),
                                                rewriter.getBoolAttr(unitOffset));
      rewriter.replaceOp(mul, from2D(rewriter, mul.getLoc(), y, mul.getType()));
      return success();
    }
    return rewriter.notifyMatchFailure(mul, "not w * x / rms(x)");
  }
};

struct RaiseRMSNormPass : llmc::impl::RaiseRMSNormBase<RaiseRMSNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseRMSNormPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
