//===- FuseGateUp.cpp - one linear + llm.glu for gated MLPs ----------------===//
//
// llmc-fuse-gate-up: mul(act(linear_g(x)), linear_u(x)) -> glu{act}(linear_gu(x)) over a derived
// llm.weight_concat [wg; wu]: one GEMM instead of two, and the activation and product fuse into
// one elementwise kernel. Owner: mlir.
//
//===----------------------------------------------------------------------===//

#include "llmc/Dialect/LLM/IR/LLMOps.h"
#include "llmc/Passes/Passes.h"
#include "Utils/WeightSymbols.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llmc {
#define GEN_PASS_DEF_FUSEGATEUP
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

/// If `v` is act(linear(..)) with a supported activation, returns the activation op and sets
/// `glu` to llm.glu's name for it.
Operation *matchActivation(Value v, StringRef &glu) {
  Operation *op = v.getDefiningOp();
  if (isa_and_nonnull<llm::SiluOp>(op)) {
    glu = "silu";
    return op;
  }
  if (auto gelu = dyn_cast_or_null<llm::GeluOp>(op)) {
    glu = gelu.getApproximate() == "tanh" ? "gelu_tanh" : "gelu";
    return op;
  }
  return nullptr;
}

struct FuseGateUpPattern : OpRewritePattern<llm::MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::MulOp mul, PatternRewriter &rewriter) const override {
    // The product commutes: try act(gate) on either side.
    StringRef glu;
    Value upValue = mul.getRhs();
    Operation *act = matchActivation(mul.getLhs(), glu);
    if (!act) {
      act = matchActivation(mul.getRhs(), glu);
      upValue = mul.getLhs();
    }
    if (!act)
      return rewriter.notifyMatchFailure(mul, "neither operand is llm.silu / llm.gelu");
    auto gate = act->getOperand(0).getDefiningOp<llm::LinearOp>();
    auto up = upValue.getDefiningOp<llm::LinearOp>();
    if (!gate || !up || gate == up)
      return rewriter.notifyMatchFailure(
          mul, "not act(linear_g(x)) * linear_u(x) with two distinct linears");
    if (gate.getInput() != up.getInput())
      return rewriter.notifyMatchFailure(mul, "gate and up projections read different inputs");
    if (gate->getBlock() != up->getBlock())
      return rewriter.notifyMatchFailure(mul, "gate and up projections are in different blocks");
    // llm.glu only yields the product, so the intermediates must have no other reader.
    if (!act->getResult(0).hasOneUse() || !gate->getResult(0).hasOneUse() ||
        !up->getResult(0).hasOneUse())
      return rewriter.notifyMatchFailure(
          mul, "the gate, its activation or the up projection has another user");
    if ((gate.getBiasAttr() == nullptr) != (up.getBiasAttr() == nullptr))
      return rewriter.notifyMatchFailure(
          mul, "only one of gate and up has a bias; the fused bias would need zeros that the "
               "checkpoint does not have");

    SmallVector<FlatSymbolRefAttr> weights = {gate.getWeightAttr(), up.getWeightAttr()};
    std::string why;
    if (failed(passes::checkConcatenable(mul, weights, 2, why)))
      return rewriter.notifyMatchFailure(mul, "weights: " + why);
    SmallVector<FlatSymbolRefAttr> biases;
    if (gate.getBiasAttr()) {
      biases = {gate.getBiasAttr(), up.getBiasAttr()};
      if (failed(passes::checkConcatenable(mul, biases, 1, why)))
        return rewriter.notifyMatchFailure(mul, "biases: " + why);
    }

    FlatSymbolRefAttr wgu = passes::createWeightConcat(rewriter, mul, weights, ".gate_up");
    FlatSymbolRefAttr bgu;
    if (!biases.empty())
      bgu = passes::createWeightConcat(rewriter, mul, biases, ".gate_up");

    // The input dominates both projections; put the fused one before the earlier.
    Operation *first = gate->isBeforeInBlock(up) ? gate.getOperation() : up.getOperation();
    Value x = gate.getInput();
    auto xType = llvm::cast<RankedTensorType>(x.getType());
    auto outType = llvm::cast<RankedTensorType>(mul.getOutput().getType());
    auto fusedType = RankedTensorType::get({xType.getDimSize(0), 2 * outType.getDimSize(1)},
                                           xType.getElementType());
    rewriter.setInsertionPoint(first);
    auto fused = rewriter.create<llm::LinearOp>(gate.getLoc(), fusedType, x, wgu, bgu);
    rewriter.setInsertionPoint(mul);
    auto gluOp = rewriter.create<llm::GluOp>(mul.getLoc(), outType, fused.getOutput(),
                                             rewriter.getStringAttr(glu));
    rewriter.replaceOp(mul, gluOp.getOutput());
    rewriter.eraseOp(act);
    rewriter.eraseOp(gate);
    rewriter.eraseOp(up);
    return success();
  }
};

struct FuseGateUpPass : llmc::impl::FuseGateUpBase<FuseGateUpPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseGateUpPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
