//===- RaiseLinear.cpp - matmul(x, W) (+ b) -> llm.linear -----------------===//
//
// Owner: onnx. llmc-raise-linear. Exporters store nn.Linear weights pre-transposed ([K, N],
// y = x · W); llm.linear's layout is [N, K], so a derived llm.weight_transpose is recorded and
// the engine writer transposes while streaming. A MatMul by transpose(W) of an [N, K] weight
// (an un-folded export) uses W as is.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"

#include "llmc/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llmc {
#define GEN_PASS_DEF_RAISELINEAR
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;
using namespace llmc::raising;

namespace {

struct RaiseLinearPattern : OpRewritePattern<llm::MatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::MatMulOp mm, PatternRewriter &rewriter) const override {
    if (!isTokenRows(mm.getType()))
      return rewriter.notifyMatchFailure(mm, "result is not [.., T, N] f32 token rows");
    FlatSymbolRefAttr weight, kn;
    Value rhs = mm.getRhs();
    if (auto w = rhs.getDefiningOp<llm::WeightValueOp>()) {
      if (tensorType(w.getOutput()).getRank() != 2)
        return rewriter.notifyMatchFailure(mm, "weight is not 2-D");
      kn = w.getWeightAttr();
    } else if (auto t = rhs.getDefiningOp<llm::TransposeOp>()) {
      auto w = t.getInput().getDefiningOp<llm::WeightValueOp>();
      if (!w || tensorType(w.getOutput()).getRank() != 2)
        return rewriter.notifyMatchFailure(mm, "rhs is a transpose of something not a weight");
      weight = w.getWeightAttr();
    } else {
      return rewriter.notifyMatchFailure(mm, "rhs is not a weight");
    }
    Value x = as2D(rewriter, mm.getLhs());
    if (!x)
      return rewriter.notifyMatchFailure(mm, "lhs is not [.., T, K] token rows");
    if (kn)
      weight = transposedWeight(rewriter, mm, kn);
    const int64_t n = mm.getType().getDimSize(mm.getType().getRank() - 1);
    // A following add of an [N] weight is the bias.
    FlatSymbolRefAttr bias;
    Operation *replaced = mm;
    if (mm->hasOneUse()) {
      if (auto add = dyn_cast<llm::ElemBinaryOp>(*mm->getUsers().begin())) {
        Value other = add.getLhs() == mm.getResult() ? add.getRhs() : add.getLhs();
        auto b = weightValueOf(other);
        if (add.getFn() == "add" && b && add.getType() == mm.getType() &&
            tensorType(b.getOutput()).getNumElements() == n &&
            tensorType(b.getOutput()).getShape().back() == n) {
          bias = b.getWeightAttr();
          replaced = add;
        }
      }
    }
    rewriter.setInsertionPoint(replaced);
    auto type = RankedTensorType::get({ShapedType::kDynamic, n}, rewriter.getF32Type());
    Value y = rewriter.create<llm::LinearOp>(mm.getLoc(), type, x, weight, bias);
    rewriter.replaceOp(replaced, from2D(rewriter, mm.getLoc(), y, mm.getType()));
    return success();
  }
};

struct RaiseLinearPass : llmc::impl::RaiseLinearBase<RaiseLinearPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseLinearPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
