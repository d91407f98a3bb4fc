//===- RaiseSdpa.cpp - softmax(Q·Kᵀ·s + mask)·V -> llm.sdpa ---------------===//
//
// Owner: onnx. llmc-raise-sdpa. Anchored on the second MatMul (probabilities · V). Scalar
// multiplies/divides on Q, on Kᵀ and on the scores are peeled into one scale (torch's export of
// scaled_dot_product_attention multiplies Q and Kᵀ by sqrt(scale) each). Kᵀ is re-transposed
// into K; the view chains left over are simplified by later passes.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"

#include "llmc/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llmc {
#define GEN_PASS_DEF_RAISESDPA
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;
using namespace llmc::raising;

namespace {

// Strips `x * c`, `c * x` and `x / c` with scalar constants c, multiplying `scale` accordingly.
Value peelScale(Value v, double &scale) {
  while (true) {
    auto b = v.getDefiningOp<llm::ElemBinaryOp>();
    if (!b)
      return v;
    if (b.getFn() == "mul") {
      if (auto c = scalarConstant(b.getRhs()); c && b.getLhs().getType() == b.getType()) {
        scale *= *c;
        v = b.getLhs();
        continue;
      }
      if (auto c = scalarConstant(b.getLhs()); c && b.getRhs().getType() == b.getType()) {
        scale *= *c;
        v = b.getRhs();
        continue;
      }
    } else if (b.getFn() == "div") {
      if (auto c = scalarConstant(b.getRhs()); c && *c != 0 && b.getLhs().getType() == b.getType()) {
        scale /= *c;
        v = b.getLhs();
        continue;
      }
    }
    return v;
  }
}

struct RaiseSdpaPattern : OpRewritePattern<llm::MatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::MatMulOp pv, PatternRewriter &rewriter) const override {
    if (pv.getType().getRank() != 4)
      return rewriter.notifyMatchFailure(pv, "not a 4-D matmul");
    Value p = pv.getLhs();
    // where(isnan(p), 0, p): torch's guard for fully masked rows (none in causal attention).
    if (auto w = p.getDefiningOp<llm::WhereOp>()) {
      auto isnan = unaryOf(w.getCond(), "isnan");
      std::optional<double> zero = scalarConstant(w.getLhs());
      if (isnan && zero && *zero == 0.0 && isnan.getInput() == w.getRhs())
        p = w.getRhs();
    }
    auto sm = p.getDefiningOp<llm::SoftmaxOp>();
    if (!sm || sm.getAxis() != 3)
      return rewriter.notifyMatchFailure(pv, "lhs is not a softmax over the last axis");
    double scale = 1.0;
    Value scores = peelScale(sm.getInput(), scale);
    Value mask;
    if (auto add = binaryOf(scores, "add")) {
      // The scores are the operand that is a (scaled) q·kᵀ matmul; the other one is the mask.
      double sl = scale, sr = scale;
      Value l = peelScale(add.getLhs(), sl), r = peelScale(add.getRhs(), sr);
      if (l.getDefiningOp<llm::MatMulOp>()) {
        scores = l, mask = add.getRhs(), scale = sl;
      } else if (r.getDefiningOp<llm::MatMulOp>()) {
        scores = r, mask = add.getLhs(), scale = sr;
      } else {
        return rewriter.notifyMatchFailure(pv, "neither addend of the scores is q·kᵀ");
      }
    }
    auto qk = scores.getDefiningOp<llm::MatMulOp>();
    if (!qk)
      return rewriter.notifyMatchFailure(pv, "scores are not a matmul");
    Value q = peelScale(qk.getLhs(), scale);
    Value kt = peelScale(qk.getRhs(), scale);
    if (tensorType(q).getRank() != 4 || tensorType(kt).getRank() != 4)
      return rewriter.notifyMatchFailure(pv, "q or kᵀ is not 4-D");
    auto ktt = tensorType(kt);
    auto kType = RankedTensorType::get({ktt.getDimSize(0), ktt.getDimSize(1), ktt.getDimSize(3),
                                        ktt.getDimSize(2)},
                                       ktt.getElementType());
    Value k = rewriter.create<llm::TransposeOp>(pv.getLoc(), kType, kt,
                                                rewriter.getDenseI64ArrayAttr({0, 1, 3, 2}));
    rewriter.replaceOpWithNewOp<llm::SdpaOp>(pv, pv.getType(), q, k, pv.getRhs(), mask,
                                             rewriter.getF32FloatAttr(static_cast<float>(scale)),
                                             rewriter.getBoolAttr(false));
    return success();
  }
};

struct RaiseSdpaPass : llmc::impl::RaiseSdpaBase<RaiseSdpaPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseSdpaPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
