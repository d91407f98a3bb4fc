//===- CollapseViews.cpp - reshape(view chain of x) -> x ------------------===//
//
// Owner: onnx. llmc-collapse-views. After raising, a [T, W] activation often reaches its
// consumer through the views the ONNX graph used around the replaced ops, e.g. attention's
// [T, H*D] -> [1, T, H, D] -> [1, H, T, D] -> [1, T, H, D] -> [1, T, H*D] -> [T, H*D]. A reshape
// back to [T, W] of a chain that keeps every element in place (checked by evaluation) is the
// chain's base itself.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"

#include "llmc/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llmc {
#define GEN_PASS_DEF_COLLAPSEVIEWS
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;
using namespace llmc::raising;

namespace {

struct CollapseViewsPattern : OpRewritePattern<llm::ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::ReshapeOp op, PatternRewriter &rewriter) const override {
    if (!isActivation2D(op.getOutput()))
      return rewriter.notifyMatchFailure(op, "not a reshape to [T, W]");
    Value base = viewBase(op.getInput());
    if (!base || base.getType() != op.getType())
      return rewriter.notifyMatchFailure(op, "no [T, W] base of the same type");
    const int64_t w = op.getType().getDimSize(1);
    if (!viewMatches(op.getOutput(), base, [&](const std::vector<int64_t> &c, int64_t) {
          return c[0] * w + c[1];
        }))
      return rewriter.notifyMatchFailure(op, "the chain moves elements");
    rewriter.replaceOp(op, base);
    return success();
  }
};

struct CollapseViewsPass : llmc::impl::CollapseViewsBase<CollapseViewsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<CollapseViewsPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
