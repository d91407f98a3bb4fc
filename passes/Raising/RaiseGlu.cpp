//===- RaiseGlu.cpp - act(gu[:, :I]) * gu[:, I:] -> llm.glu ---------------===//
//
// Owner: onnx. llmc-raise-glu. Phi-3's gate_up_proj is one linear whose output is split into
// gate and up halves (llmc-raise-split); the MLP is act(gate) * up. That is llm.glu of the
// packed [T, 2I] value, the HF importer's form:
//   %g, %u = llm.split %gu {sizes = [I, I]} ; llm.mul (llm.silu %g), %u   ->   llm.glu %gu
// act is llm.silu or llm.gelu (tanh or exact). Runs after llmc-raise-elementwise and
// llmc-raise-gelu, which produce the activation and the mul.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"

#include "llmc/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llmc {
#define GEN_PASS_DEF_RAISEGLU
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;
using namespace llmc::raising;

namespace {

// The llm.glu activation name of a silu / gelu op, or "".
StringRef activationName(Operation *op, Value &input) {
  if (auto s = dyn_cast_or_null<llm::SiluOp>(op)) {
    input = s.getInput();
    return "silu";
  }
  if (auto g = dyn_cast_or_null<llm::GeluOp>(op)) {
    input = g.getInput();
    return g.getApproximate() == "tanh" ? "gelu_tanh" : "gelu";
  }
  return "";
}

struct RaiseGluPattern : OpRewritePattern<llm::MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::MulOp mul, PatternRewriter &rewriter) const override {
    for (auto [av, up] : {std::pair(mul.getLhs(), mul.getRhs()), std::pair(mul.getRhs(), mul.getLhs())}) {
      Value gate;
      StringRef act = activationName(av.getDefiningOp(), gate);
      if (act.empty())
        continue;
      auto split = gate.getDefiningOp<llm::SplitOp>();
      if (!split || split.getNumResults() != 2 || split.getResult(0) != gate ||
          split.getResult(1) != up || split.getSizes()[0] != split.getSizes()[1])
        continue;
      Value y = rewriter.create<llm::GluOp>(mul.getLoc(), mul.getType(), split.getInput(),
                                            rewriter.getStringAttr(act));
      rewriter.replaceOp(mul, y);
      return success();
    }
    return rewriter.notifyMatchFailure(mul, "not act(gate) * up of one [gate | up] split");
  }
};

struct RaiseGluPass : llmc::impl::RaiseGluBase<RaiseGluPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseGluPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
