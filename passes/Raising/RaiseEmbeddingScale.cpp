//===- RaiseEmbeddingScale.cpp - embedding * c -> llm.embedding {scale} ---===//
//
// Owner: onnx. llmc-raise-embedding-scale. Gemma multiplies the token embeddings by
// sqrt(hidden) (a constant in the export): mul(view(llm.embedding), c) with c a scalar constant
// becomes the embedding's `scale`, the HF importer's form. Runs after llmc-raise-embedding.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"

#include "llmc/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llmc {
#define GEN_PASS_DEF_RAISEEMBEDDINGSCALE
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;
using namespace llmc::raising;

namespace {

struct RaiseEmbeddingScalePattern : OpRewritePattern<llm::ElemBinaryOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::ElemBinaryOp mul, PatternRewriter &rewriter) const override {
    if (mul.getFn() != "mul" || !isTokenRows(mul.getType()))
      return rewriter.notifyMatchFailure(mul, "not a mul producing token rows");
    for (auto [ev, cv] : {std::pair(mul.getLhs(), mul.getRhs()), std::pair(mul.getRhs(), mul.getLhs())}) {
      std::optional<double> c = scalarConstant(cv);
      if (!c || ev.getType() != mul.getType())
        continue;
      Value e = ev;
      if (auto r = e.getDefiningOp<llm::ReshapeOp>())
        e = r.getInput();  // the [T, H] rows viewed as [1, T, H]
      auto emb = e.getDefiningOp<llm::EmbeddingOp>();
      if (!emb || emb.getType().getDimSize(1) != mul.getType().getShape().back())
        continue;
      if (emb.getScale().convertToDouble() != 1.0)
        return rewriter.notifyMatchFailure(mul, "the embedding is scaled already");
      rewriter.setInsertionPoint(mul);
      Value y = rewriter.create<llm::EmbeddingOp>(
          emb.getLoc(), emb.getType(), emb.getIds(), emb.getWeightAttr(),
          rewriter.getF32FloatAttr(static_cast<float>(*c)));
      rewriter.replaceOp(mul, from2D(rewriter, mul.getLoc(), y, mul.getType()));
      return success();
    }
    return rewriter.notifyMatchFailure(mul, "not an embedding times a scalar constant");
  }
};

struct RaiseEmbeddingScalePass : llmc::impl::RaiseEmbeddingScaleBase<RaiseEmbeddingScalePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseEmbeddingScalePattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
