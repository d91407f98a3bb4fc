//===- RaiseLayerNorm.cpp - rms_norm(x - mean(x)) (+ b) -> llm.layer_norm --===//
//
// Owner: onnx. llmc-raise-layer-norm. LayerNorm is the RMS norm of the centred row:
//   (x - mean(x)) * reciprocal(sqrt(mean((x - mean(x))^2) + eps)) * w + b
// so llmc-raise-rms-norm (which runs first) has already turned everything but the centring and
// the bias into llm.rms_norm. This pass matches
//   llm.rms_norm(view(x - mean(x, -1)))  [+ an [H] bias weight]
// (the importer's expansion of LayerNormalization, or a decomposed torch LayerNorm) and
// replaces it by llm.layer_norm(x) with the bias, the HF importer's form for GPT-2.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"

#include "llmc/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llmc {
#define GEN_PASS_DEF_RAISELAYERNORM
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;
using namespace llmc::raising;

namespace {

// The x of `x - mean(x over the last axis, keepdims)`, or null.
Value centredInput(Value v) {
  // The [T, H] rows may be a reshape of [1, T, H] ones.
  if (auto r = v.getDefiningOp<llm::ReshapeOp>())
    if (isTokenRows(r.getInput().getType()) &&
        tensorType(r.getInput()).getShape().back() == tensorType(v).getShape().back())
      v = r.getInput();
  auto sub = binaryOf(v, "sub");
  if (!sub)
    return Value();
  auto mean = sub.getRhs().getDefiningOp<llm::ReduceOp>();
  if (!mean || mean.getFn() != "mean" || !mean.getKeepdims() || mean.getInput() != sub.getLhs())
    return Value();
  const int64_t rank = tensorType(mean.getInput()).getRank();
  if (mean.getAxes().size() != 1 || mean.getAxes()[0] != rank - 1)
    return Value();
  if (sub.getLhs().getType() != sub.getType())
    return Value();
  return sub.getLhs();
}

// The add of an [H] weight to the norm's result (through the reshape back to token rows), or
// null: `bias` gets the weight, `replaced` the add.
FlatSymbolRefAttr biasAdd(llm::RMSNormOp norm, Operation *&replaced) {
  Value y = norm.getResult();
  if (!y.hasOneUse())
    return FlatSymbolRefAttr();
  Operation *user = *y.getUsers().begin();
  if (auto r = dyn_cast<llm::ReshapeOp>(user)) {
    if (!r->hasOneUse())
      return FlatSymbolRefAttr();
    y = r.getResult();
    user = *r->getUsers().begin();
  }
  auto add = dyn_cast<llm::ElemBinaryOp>(user);
  if (!add || add.getFn() != "add" || add.getType() != y.getType())
    return FlatSymbolRefAttr();
  const int64_t h = tensorType(norm.getResult()).getDimSize(1);
  auto b = weightValueOf(add.getLhs() == y ? add.getRhs() : add.getLhs());
  if (!b || tensorType(b.getOutput()).getNumElements() != h ||
      tensorType(b.getOutput()).getShape().back() != h)
    return FlatSymbolRefAttr();
  replaced = add;
  return b.getWeightAttr();
}

struct RaiseLayerNormPattern : OpRewritePattern<llm::RMSNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::RMSNormOp norm, PatternRewriter &rewriter) const override {
    if (norm.getUnitOffset())
      return rewriter.notifyMatchFailure(norm, "a (1 + w) norm is not a LayerNorm");
    Value x = centredInput(norm.getInput());
    if (!x)
      return rewriter.notifyMatchFailure(norm, "input is not x - mean(x)");
    if (!isTokenRows(x.getType()) || tensorType(x).getShape().back() != norm.getType().getDimSize(1))
      return rewriter.notifyMatchFailure(norm, "x is not token rows of the norm's width");
    Value x2 = as2D(rewriter, x);
    Operation *replaced = norm;
    FlatSymbolRefAttr bias = biasAdd(norm, replaced);
    rewriter.setInsertionPoint(replaced);
    Value y = rewriter.create<llm::LayerNormOp>(norm.getLoc(), x2.getType(), x2,
                                                norm.getWeightAttr(), bias, norm.getEpsAttr());
    rewriter.replaceOp(replaced, from2D(rewriter, norm.getLoc(), y, replaced->getResult(0).getType()));
    return success();
  }
};

struct RaiseLayerNormPass : llmc::impl::RaiseLayerNormBase<RaiseLayerNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseLayerNormPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
