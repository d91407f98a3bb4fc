//===- FuseRopeAttention.cpp - split + rope + attention -> qkv_attention ---===//
//
// llmc-fuse-rope-attention: after QKV fusion, an attention reads split(qkv) with q and k rotated;
// llm.qkv_attention does the split and rotation inside the attention kernel, so q, k, v are never
// written out separately. Owner: mlir.
//
//===----------------------------------------------------------------------===//

#include "llmc/Dialect/LLM/IR/LLMOps.h"
#include "llmc/Passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llmc {
#define GEN_PASS_DEF_FUSEROPEATTENTION
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

struct FuseRopeAttentionPattern : OpRewritePattern<llm::AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::AttentionOp attn,
                                PatternRewriter &rewriter) const override {
    auto qRope = attn.getQ().getDefiningOp<llm::RopeOp>();
    auto kRope = attn.getK().getDefiningOp<llm::RopeOp>();
    if (!qRope || !kRope)
      return rewriter.notifyMatchFailure(
          attn, "q and k are not both llm.rope results (qkv_attention always rotates q, k)");
    auto split = qRope.getInput().getDefiningOp<llm::SplitOp>();
    if (!split || split.getNumResults() != 3 || qRope.getInput() != split.getResult(0) ||
        kRope.getInput() != split.getResult(1) || attn.getV() != split.getResult(2))
      return rewriter.notifyMatchFailure(
          attn, "q, k, v are not results 0, 1, 2 of one 3-way llm.split");
    if (qRope.getHeadDim() != kRope.getHeadDim() ||
        qRope.getRotaryDim() != kRope.getRotaryDim() ||
        qRope.getInvFreq() != kRope.getInvFreq() ||
        qRope.getInterleaved() != kRope.getInterleaved())
      return rewriter.notifyMatchFailure(attn, "q and k ropes have different attributes");
    if (qRope.getHeadDim() != attn.getHeadDim())
      return rewriter.notifyMatchFailure(attn, "rope head_dim differs from attention head_dim");
    // qkv_attention does not expose the rotated q, k.
    if (!qRope->hasOneUse() || !kRope->hasOneUse())
      return rewriter.notifyMatchFailure(attn, "rotated q or k has another user");

    rewriter.replaceOpWithNewOp<llm::QKVAttentionOp>(
        attn, attn.getOutput().getType(), split.getInput(), attn.getLayerAttr(),
        attn.getNumHeadsAttr(), attn.getNumKvHeadsAttr(), attn.getHeadDimAttr(),
        attn.getScaleAttr(), attn.getSlidingWindowAttr(), qRope.getRotaryDimAttr(),
        qRope.getInvFreqAttr(), qRope.getInterleavedAttr());
    return success();
  }
};

struct FuseRopeAttentionPass : llmc::impl::FuseRopeAttentionBase<FuseRopeAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseRopeAttentionPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
