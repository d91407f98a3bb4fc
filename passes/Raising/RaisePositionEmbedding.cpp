//===- RaisePositionEmbedding.cpp - x + gather(wpe, positions) ------------===//
//
// Owner: onnx. llmc-raise-position-embedding. GPT-2's learned absolute positions:
//   x + gather(table [P, H], positions, axis 0)   ->   llm.position_embedding x {weight = @table}
// The indices must evaluate to 0..T-1 at every probe length (llm.positions, a Range, through
// casts, reshapes and unsqueezes: whatever the exporter built), so a gather by anything else
// (token ids, an offset) is left alone.
//
//===----------------------------------------------------------------------===//

#include "GenericEval.h"
#include "RaisingUtils.h"

#include "llmc/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llmc {
#define GEN_PASS_DEF_RAISEPOSITIONEMBEDDING
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;
using namespace llmc::raising;

namespace {

// True when v evaluates to 0..T-1 (any leading 1-dims) at each probe length.
bool isPositions(Value v) {
  for (int64_t T : kCheckLengths) {
    GenericEvaluator ev(T);
    std::optional<eval::Tensor> t = ev.evaluate(v);
    if (!t || t->isFloat() || t->numel() != T || t->shape.empty() || t->shape.back() != T)
      return false;
    for (int64_t j = 0; j < T; ++j)
      if (t->i[j] != j)
        return false;
  }
  return true;
}

// The table of a row gather by the positions (through reshapes of its result), or null.
llm::WeightValueOp positionTable(Value v) {
  while (auto r = v.getDefiningOp<llm::ReshapeOp>())
    v = r.getInput();
  auto g = v.getDefiningOp<llm::GatherOp>();
  if (!g || g.getAxis() != 0)
    return llm::WeightValueOp();
  auto table = g.getData().getDefiningOp<llm::WeightValueOp>();
  if (!table || tensorType(table.getOutput()).getRank() != 2 || !isPositions(g.getIndices()))
    return llm::WeightValueOp();
  return table;
}

struct RaisePositionEmbeddingPattern : OpRewritePattern<llm::ElemBinaryOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::ElemBinaryOp add, PatternRewriter &rewriter) const override {
    if (add.getFn() != "add" || !isTokenRows(add.getType()))
      return rewriter.notifyMatchFailure(add, "not an add producing token rows");
    const int64_t h = add.getType().getShape().back();
    for (auto [x, pv] : {std::pair(add.getLhs(), add.getRhs()), std::pair(add.getRhs(), add.getLhs())}) {
      if (x.getType() != add.getType() || pv.getType() != add.getType())
        continue;
      llm::WeightValueOp table = positionTable(pv);
      if (!table || tensorType(table.getOutput()).getDimSize(1) != h)
        continue;
      Value x2 = as2D(rewriter, x);
      Value y = rewriter.create<llm::PositionEmbeddingOp>(add.getLoc(), x2.getType(), x2,
                                                          table.getWeightAttr());
      rewriter.replaceOp(add, from2D(rewriter, add.getLoc(), y, add.getType()));
      return success();
    }
    return rewriter.notifyMatchFailure(add, "not x + gather(table, positions)");
  }
};

struct RaisePositionEmbeddingPass
    : llmc::impl::RaisePositionEmbeddingBase<RaisePositionEmbeddingPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaisePositionEmbeddingPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
