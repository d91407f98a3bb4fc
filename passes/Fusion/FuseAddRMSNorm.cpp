//===- FuseAddRMSNorm.cpp - residual add + rms_norm -> add_rms_norm --------===//
//
// llmc-fuse-add-rmsnorm: the residual add and the next norm read the same rows; one kernel
// writes both the new residual stream (sum) and the normed rows. Owner: mlir.
//
//===----------------------------------------------------------------------===//

#include "llmc/Dialect/LLM/IR/LLMOps.h"
#include "llmc/Passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llmc {
#define GEN_PASS_DEF_FUSEADDRMSNORM
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

struct FuseAddRMSNormPattern : OpRewritePattern<llm::RMSNormOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::RMSNormOp norm,
                                PatternRewriter &rewriter) const override {
    auto add = norm.getInput().getDefiningOp<llm::AddOp>();
    if (!add)
      return rewriter.notifyMatchFailure(norm, "input is not produced by llm.add");
    // Only the residual stream is worth it: when the norm is the sum's only reader, nothing
    // needs the sum written out.
    if (add->hasOneUse())
      return rewriter.notifyMatchFailure(
          norm, "the sum has no other user (not a residual stream)");

    // At the add's position both operands dominate, and the results dominate every use of
    // the sum (all after the add) and of the norm (after the norm, which follows the add).
    rewriter.setInsertionPoint(add);
    auto fused = rewriter.create<llm::AddRMSNormOp>(
        norm.getLoc(), add.getOutput().getType(), norm.getOutput().getType(), add.getLhs(),
        add.getRhs(), norm.getWeightAttr(), norm.getEpsAttr(), norm.getUnitOffsetAttr());
    rewriter.replaceOp(norm, fused.getOutput());
    rewriter.replaceOp(add, fused.getSum());
    return success();
  }
};

struct FuseAddRMSNormPass : llmc::impl::FuseAddRMSNormBase<FuseAddRMSNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAddRMSNormPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
