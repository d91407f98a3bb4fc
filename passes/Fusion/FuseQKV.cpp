//===- FuseQKV.cpp - one linear for the q, k, v projections ----------------===//
//
// llmc-fuse-qkv: the three projections feeding an attention become one GEMM over a derived
// llm.weight_concat [wq; wk; wv] followed by llm.split, so the GEMM reads x once and runs wider.
// Owner: mlir.
//
//===----------------------------------------------------------------------===//

#include "llmc/Dialect/LLM/IR/LLMOps.h"
#include "llmc/Passes/Passes.h"
#include "Utils/WeightSymbols.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llmc {
#define GEN_PASS_DEF_FUSEQKV
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

/// The projection feeding `v`, looking through one llm.rope when `throughRope`.
llm::LinearOp projectionOf(Value v, bool throughRope) {
  if (throughRope)
    if (auto rope = v.getDefiningOp<llm::RopeOp>())
      v = rope.getInput();
  return v.getDefiningOp<llm::LinearOp>();
}

struct FuseQKVPattern : OpRewritePattern<llm::AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::AttentionOp attn,
                                PatternRewriter &rewriter) const override {
    llm::LinearOp q = projectionOf(attn.getQ(), true);
    llm::LinearOp k = projectionOf(attn.getK(), true);
    llm::LinearOp v = projectionOf(attn.getV(), false);
    if (!q || !k || !v)
      return rewriter.notifyMatchFailure(
          attn, "q, k (possibly through llm.rope) and v are not all produced by llm.linear");
    if (q == k || k == v || q == v)
      return rewriter.notifyMatchFailure(attn, "q, k, v share a projection");
    Value x = q.getInput();
    if (k.getInput() != x || v.getInput() != x)
      return rewriter.notifyMatchFailure(attn, "q, k, v projections read different inputs");
    Block *block = q->getBlock();
    if (k->getBlock() != block || v->getBlock() != block)
      return rewriter.notifyMatchFailure(attn, "q, k, v projections are in different blocks");
    int numBiases = (q.getBiasAttr() != nullptr) + (k.getBiasAttr() != nullptr) +
                    (v.getBiasAttr() != nullptr);
    if (numBiases != 0 && numBiases != 3)
      return rewriter.notifyMatchFailure(
          attn, "only some of q, k, v have a bias; the fused bias would need zeros that "
                "the checkpoint does not have");

    SmallVector<FlatSymbolRefAttr> weights = {q.getWeightAttr(), k.getWeightAttr(),
                                              v.getWeightAttr()};
    std::string why;
    if (failed(passes::checkConcatenable(attn, weights, 2, why)))
      return rewriter.notifyMatchFailure(attn, "weights: " + why);
    SmallVector<FlatSymbolRefAttr> biases;
    if (numBiases == 3) {
      biases = {q.getBiasAttr(), k.getBiasAttr(), v.getBiasAttr()};
      if (failed(passes::checkConcatenable(attn, biases, 1, why)))
        return rewriter.notifyMatchFailure(attn, "biases: " + why);
    }

    // x dominates all three projections, so the fused linear goes before the first of them;
    // every use of a projection comes after that point.
    Operation *first = q;
    for (Operation *op : {k.getOperation(), v.getOperation()})
      if (op->isBeforeInBlock(first))
        first = op;

    FlatSymbolRefAttr wqkv = passes::createWeightConcat(rewriter, attn, weights, ".qkv");
    FlatSymbolRefAttr bqkv;
    if (!biases.empty())
      bqkv = passes::createWeightConcat(rewriter, attn, biases, ".qkv");

    SmallVector<int64_t> sizes;
    SmallVector<Type> splitTypes;
    int64_t total = 0;
    for (llm::LinearOp p : {q, k, v}) {
      auto t = llvm::cast<RankedTensorType>(p.getOutput().getType());
      sizes.push_back(t.getDimSize(1));
      splitTypes.push_back(t);
      total += t.getDimSize(1);
    }
    auto xType = llvm::cast<RankedTensorType>(x.getType());
    auto fusedType = RankedTensorType::get({xType.getDimSize(0), total},
                                           xType.getElementType());

    rewriter.setInsertionPoint(first);
    auto fused = rewriter.create<llm::LinearOp>(q.getLoc(), fusedType, x, wqkv, bqkv);
    auto split = rewriter.create<llm::SplitOp>(q.getLoc(), splitTypes, fused.getOutput(),
                                               sizes);
    rewriter.replaceOp(q, split.getResult(0));
    rewriter.replaceOp(k, split.getResult(1));
    rewriter.replaceOp(v, split.getResult(2));
    return success();
  }
};

struct FuseQKVPass : llmc::impl::FuseQKVBase<FuseQKVPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseQKVPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
