//===- RaiseRMSNorm.cpp - decomposed RMSNorm -> llm.rms_norm --------------===//
//
// Owner: onnx. llmc-raise-rms-norm. Anchored on the multiply by the [H] weight:
//   w * (x * reciprocal(sqrt(mean(x^2, -1) + eps)))      (torch export, importer's opset 23)
//   w * (x / sqrt(mean(x^2, -1) + eps))
// with x^2 as pow(x, 2) or x * x, operands of commutative ops in either order.
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

// x * reciprocal(rms) or x / rms: sets x and eps.
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
    auto rec = unaryOf(r, "reciprocal");
    Value xx;
    if (rec && matchRootMeanSquare(rec.getInput(), xx, eps) && xx == a) {
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
      auto w = weightValueOf(wv);
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
                                                rewriter.getBoolAttr(false));
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
