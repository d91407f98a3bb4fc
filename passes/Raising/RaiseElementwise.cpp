//===- RaiseElementwise.cpp - silu, add, mul on token rows ----------------===//
//
// Owner: onnx. llmc-raise-elementwise.
//   x * sigmoid(x)                      -> llm.silu
//   a + b, a * b (same [1.., T, W] type) -> llm.add / llm.mul on the [T, W] rows
// Runs after the structural patterns (norms, rope, attention), which need the generic form of
// the products they match.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"

#include "llmc/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llmc {
#define GEN_PASS_DEF_RAISEELEMENTWISE
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;
using namespace llmc::raising;

namespace {

struct RaiseElementwisePattern : OpRewritePattern<llm::ElemBinaryOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::ElemBinaryOp op, PatternRewriter &rewriter) const override {
    const bool isMul = op.getFn() == "mul";
    if (!(isMul || op.getFn() == "add") || !isTokenRows(op.getType()))
      return rewriter.notifyMatchFailure(op, "not an add/mul of token rows");
    if (op.getLhs().getType() != op.getType() && op.getRhs().getType() != op.getType())
      return rewriter.notifyMatchFailure(op, "broadcasting operands");
    if (isMul) {
      for (auto [x, s] : {std::pair(op.getLhs(), op.getRhs()), std::pair(op.getRhs(), op.getLhs())}) {
        auto sig = unaryOf(s, "sigmoid");
        if (!sig || sig.getInput() != x || x.getType() != op.getType())
          continue;
        Value x2 = as2D(rewriter, x);
        if (!x2)
          return rewriter.notifyMatchFailure(op, "silu input is not token rows");
        Value y = rewriter.create<llm::SiluOp>(op.getLoc(), x2.getType(), x2);
        rewriter.replaceOp(op, from2D(rewriter, op.getLoc(), y, op.getType()));
        return success();
      }
    }
    if (op.getLhs().getType() != op.getType() || op.getRhs().getType() != op.getType())
      return rewriter.notifyMatchFailure(op, "broadcasting operands");
    Value a = as2D(rewriter, op.getLhs()), b = as2D(rewriter, op.getRhs());
    if (!a || !b)
      return rewriter.notifyMatchFailure(op, "operands are not token rows");
    Value y = isMul ? rewriter.create<llm::MulOp>(op.getLoc(), a, b).getResult()
                    : rewriter.create<llm::AddOp>(op.getLoc(), a, b).getResult();
    rewriter.replaceOp(op, from2D(rewriter, op.getLoc(), y, op.getType()));
    return success();
  }
};

struct RaiseElementwisePass : llmc::impl::RaiseElementwiseBase<RaiseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseElementwisePattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
