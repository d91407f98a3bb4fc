//===- RaiseEmbedding.cpp - gather(table, ids) -> llm.embedding -----------===//
//
// Owner: onnx. llmc-raise-embedding. The token ids reach the Gather as the function's [T] i32
// argument through the importer's cast to i64 and reshape to [1, T]; the table is a weight.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"

#include "llmc/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llmc {
#define GEN_PASS_DEF_RAISEEMBEDDING
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;
using namespace llmc::raising;

namespace {

// The function argument v is read from, through reshapes and integer casts.
BlockArgument idsArgument(Value v) {
  while (Operation *op = v.getDefiningOp()) {
    if (!isa<llm::ReshapeOp, llm::CastOp>(op))
      return BlockArgument();
    v = op->getOperand(0);
  }
  return dyn_cast<BlockArgument>(v);
}

struct RaiseEmbeddingPattern : OpRewritePattern<llm::GatherOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::GatherOp g, PatternRewriter &rewriter) const override {
    auto table = g.getData().getDefiningOp<llm::WeightValueOp>();
    if (!table || g.getAxis() != 0 || tensorType(table.getOutput()).getRank() != 2)
      return rewriter.notifyMatchFailure(g, "not a row gather from a 2-D weight");
    BlockArgument ids = idsArgument(g.getIndices());
    if (!ids || !isa<func::FuncOp>(ids.getOwner()->getParentOp()))
      return rewriter.notifyMatchFailure(g, "indices are not the token ids");
    auto it = tensorType(g.getIndices());
    for (int64_t k = 0; k < it.getRank(); ++k)
      if (!(it.isDynamicDim(k) || it.getDimSize(k) == 1))
        return rewriter.notifyMatchFailure(g, "indices are not one row of T tokens");
    if (!isTokenRows(g.getType()))
      return rewriter.notifyMatchFailure(g, "result is not [.., T, H] f32");
    const int64_t h = tensorType(table.getOutput()).getDimSize(1);
    auto type = RankedTensorType::get({ShapedType::kDynamic, h}, rewriter.getF32Type());
    Value e = rewriter.create<llm::EmbeddingOp>(g.getLoc(), type, ids, table.getWeightAttr(),
                                                rewriter.getF32FloatAttr(1.0f));
    rewriter.replaceOp(g, from2D(rewriter, g.getLoc(), e, g.getType()));
    return success();
  }
};

struct RaiseEmbeddingPass : llmc::impl::RaiseEmbeddingBase<RaiseEmbeddingPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseEmbeddingPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
