//===- RaiseAttention.cpp - causal llm.sdpa on head views -> llm.attention -===//
//
// Owner: onnx. llmc-raise-attention. q must be the [1, H, T, D] head view of a [T, H*D]
// activation; k and v head views of [T, Hkv*D] activations, either with Hkv heads or repeated
// to H heads (GQA's repeat_kv: head h reads kv head h / (H / Hkv)); the mask causal
// (llm.causal_mask, with its sliding window, or is_causal). The result is re-viewed as
// [1, H, T, D] for the sdpa's users. Attention layers are numbered in program order afterwards.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"

#include "llmc/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llmc {
#define GEN_PASS_DEF_RAISEATTENTION
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;
using namespace llmc::raising;

namespace {

// The [T, heads*d] activation x is a head view of, with `group` query heads per stored head
// (x has heads*group heads). Null if x is not such a view.
Value headBase(Value x, int64_t d, int64_t &storedHeads) {
  auto xt = tensorType(x);
  if (xt.getRank() != 4 || xt.getDimSize(0) != 1 || !xt.isDynamicDim(2) || xt.getDimSize(3) != d)
    return Value();
  Value base = viewBase(x);
  if (!base || tensorType(base).getDimSize(1) % d != 0)
    return Value();
  const int64_t w = tensorType(base).getDimSize(1), hkv = w / d, h = xt.getDimSize(1);
  if (h % hkv != 0)
    return Value();
  const int64_t group = h / hkv;
  if (!viewMatches(x, base, [&](const std::vector<int64_t> &k, int64_t) {
        return k[2] * w + (k[1] / group) * d + k[3];
      }))
    return Value();
  storedHeads = hkv;
  return base;
}

// Sliding window of a causal mask value (0 = none), or nullopt if it is not causal.
std::optional<int64_t> causalWindow(Value mask) {
  while (Operation *op = mask.getDefiningOp()) {
    if (isa<llm::ExpandOp, llm::ReshapeOp>(op) && tensorType(op->getOperand(0)).getRank() >= 2) {
      mask = op->getOperand(0);
      continue;
    }
    break;
  }
  auto cm = mask.getDefiningOp<llm::CausalMaskOp>();
  if (!cm)
    return std::nullopt;
  if (cm.getMaskedValue() && cm.getMaskedValue()->convertToDouble() > -1e4)
    return std::nullopt;
  return cm.getSlidingWindow();
}

struct RaiseAttentionPattern : OpRewritePattern<llm::SdpaOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::SdpaOp op, PatternRewriter &rewriter) const override {
    auto qt = tensorType(op.getQ());
    if (qt.getDimSize(0) != 1 || qt.isDynamicDim(1) || qt.isDynamicDim(3))
      return rewriter.notifyMatchFailure(op, "q is not [1, H, T, D]");
    const int64_t h = qt.getDimSize(1), d = qt.getDimSize(3);
    int64_t window = 0;
    if (op.getMask()) {
      std::optional<int64_t> w = causalWindow(op.getMask());
      if (!w)
        return rewriter.notifyMatchFailure(op, "the mask is not causal");
      window = *w;
    } else if (!op.getIsCausal()) {
      return rewriter.notifyMatchFailure(op, "no causal mask");
    }
    int64_t hq = 0, hk = 0, hv = 0;
    Value q = headBase(op.getQ(), d, hq);
    Value k = headBase(op.getK(), d, hk);
    Value v = headBase(op.getV(), d, hv);
    if (!q || hq != h)
      return rewriter.notifyMatchFailure(op, "q is not a head view of a [T, H*D] activation");
    if (!k || !v || hk != hv || h % hk != 0)
      return rewriter.notifyMatchFailure(op, "k or v is not a (grouped) head view");
    auto outType = RankedTensorType::get({ShapedType::kDynamic, h * d}, rewriter.getF32Type());
    Value a = rewriter.create<llm::AttentionOp>(
        op.getLoc(), outType, q, k, v, rewriter.getI64IntegerAttr(0), rewriter.getI64IntegerAttr(h),
        rewriter.getI64IntegerAttr(hk), rewriter.getI64IntegerAttr(d), op.getScaleAttr(),
        rewriter.getI64IntegerAttr(window));
    // [T, H*D] -> [1, T, H, D] -> [1, H, T, D]
    auto r4 = RankedTensorType::get({1, ShapedType::kDynamic, h, d}, rewriter.getF32Type());
    Value r = rewriter.create<llm::ReshapeOp>(op.getLoc(), r4, a);
    rewriter.replaceOpWithNewOp<llm::TransposeOp>(op, op.getType(), r,
                                                  rewriter.getDenseI64ArrayAttr({0, 2, 1, 3}));
    return success();
  }
};

struct RaiseAttentionPass : llmc::impl::RaiseAttentionBase<RaiseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseAttentionPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // The KV cache is addressed by layer: number the attention ops in program order.
    getOperation().walk([](func::FuncOp f) {
      int64_t layer = 0;
      f.walk([&](llm::AttentionOp a) {
        a.setLayerAttr(IntegerAttr::get(IntegerType::get(a.getContext(), 64), layer++));
      });
    });
  }
};

} // namespace
