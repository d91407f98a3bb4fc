//===- RaiseRope.cpp - x * cos + rotate_half(x) * sin -> llm.rope ---------===//
//
// Owner: onnx. llmc-raise-rope. Anchored on the add of
//   x * C  and  concat(-x[.., D/2:], x[.., :D/2]) * S
// (operands in either order) where x is a [1, H, T, D] head view of a [T, H*D] activation.
// C and S must depend on the positions only: they are evaluated at probe lengths and must equal
// cos(t * f) and sin(t * f) with f = [g, g] (HF's rotate-half layout). g is llm.rope's inv_freq,
// so scaled variants (linear, llama3, ...) come out right whatever the exporter computed. The
// rotated activation gets x's view chain again, so the consumers see the same shape.
// Partial rotary (Phi-3 with partial_rotary_factor < 1): x = v[.., :r] of a head view v and the
// add's only user is concat(add, v[.., r:]): that concat becomes llm.rope {rotary_dim = r}.
//
//===----------------------------------------------------------------------===//

#include "GenericEval.h"
#include "RaisingUtils.h"

#include "llmc/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace llmc {
#define GEN_PASS_DEF_RAISEROPE
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;
using namespace llmc::raising;

namespace {

// rotate_half(x) = concat(-x[.., h:], x[.., :h]) along the last axis: returns x.
Value rotateHalfInput(Value r) {
  auto cat = r.getDefiningOp<llm::ConcatOp>();
  if (!cat || cat.getInputs().size() != 2)
    return Value();
  const int64_t rank = tensorType(r).getRank();
  if (cat.getAxis() != rank - 1)
    return Value();
  auto neg = unaryOf(cat.getInputs()[0], "neg");
  if (!neg)
    return Value();
  auto hi = neg.getInput().getDefiningOp<llm::SliceOp>();
  auto lo = cat.getInputs()[1].getDefiningOp<llm::SliceOp>();
  if (!hi || !lo || hi.getInput() != lo.getInput())
    return Value();
  const int64_t d = tensorType(r).getShape().back();
  auto isSlice = [&](llm::SliceOp s, int64_t start, int64_t end) {
    return s.getAxes().size() == 1 && s.getAxes()[0] == rank - 1 && s.getSteps()[0] == 1 &&
           s.getStarts()[0] == start && (s.getEnds()[0] == end || (end == d && s.getEnds()[0] > d));
  };
  if (!isSlice(lo, 0, d / 2) || !isSlice(hi, d / 2, d))
    return Value();
  return lo.getInput();
}

// Reads the frequencies g (D/2 values) from position tables C = cos(t f), S = sin(t f),
// f = [g, g], checking every entry at each probe length.
bool readFrequencies(Value c, Value s, int64_t d, std::vector<float> &invFreq) {
  std::vector<double> f;
  for (int64_t T : kCheckLengths) {
    GenericEvaluator ev(T);
    std::optional<eval::Tensor> ct = ev.evaluate(c), st = ev.evaluate(s);
    if (!ct || !st || !ct->isFloat() || !st->isFloat() || ct->shape != st->shape)
      return false;
    // [1, .., 1, T, D] (leading dims 1).
    const auto &shape = ct->shape;
    if (shape.size() < 2 || shape.back() != d || shape[shape.size() - 2] != T ||
        ct->numel() != T * d)
      return false;
    if (f.empty()) {
      for (int64_t i = 0; i < d; ++i)
        f.push_back(std::atan2(st->f[d + i], ct->f[d + i]));  // row t = 1
      for (int64_t i = 0; i < d / 2; ++i)
        if (std::fabs(f[i] - f[i + d / 2]) > 1e-9 * std::max(1.0, std::fabs(f[i])))
          return false;
    }
    for (int64_t t = 0; t < T; ++t)
      for (int64_t i = 0; i < d; ++i) {
        const double a = static_cast<double>(t) * f[i];
        if (std::fabs(ct->f[t * d + i] - std::cos(a)) > 1e-6 ||
            std::fabs(st->f[t * d + i] - std::sin(a)) > 1e-6)
          return false;
      }
  }
  for (int64_t i = 0; i < d / 2; ++i)
    invFreq.push_back(static_cast<float>(f[i]));
  return true;
}

// Partial rotary: when x = v[.., 0:r] (r < D) of a 4-D v and the add's only user is
// concat(add, v[.., r:D]) on the last axis, that concat.
llm::ConcatOp partialRotary(llm::ElemBinaryOp add, Value x) {
  auto lo = x.getDefiningOp<llm::SliceOp>();
  if (!lo || !add->hasOneUse())
    return llm::ConcatOp();
  Value v = lo.getInput();
  auto vt = tensorType(v);
  if (vt.getRank() != 4 || vt.isDynamicDim(3))
    return llm::ConcatOp();
  const int64_t d = vt.getDimSize(3), r = tensorType(x).getDimSize(3);
  auto isSlice = [&](llm::SliceOp sl, int64_t start, int64_t end) {
    return sl && sl.getInput() == v && sl.getAxes().size() == 1 &&
           sl.getAxes()[0] == 3 && sl.getSteps()[0] == 1 &&
           sl.getStarts()[0] == start && (sl.getEnds()[0] == end || (end == d && sl.getEnds()[0] > d));
  };
  auto cat = dyn_cast<llm::ConcatOp>(*add->getUsers().begin());
  if (!cat || r >= d || !isSlice(lo, 0, r) || cat.getInputs().size() != 2 ||
      cat.getAxis() != 3 || cat.getInputs()[0] != add.getResult() ||
      !isSlice(cat.getInputs()[1].getDefiningOp<llm::SliceOp>(), r, d))
    return llm::ConcatOp();
  return cat;
}

struct RaiseRopePattern : OpRewritePattern<llm::ElemBinaryOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::ElemBinaryOp add, PatternRewriter &rewriter) const override {
    if (add.getFn() != "add" || add.getType().getRank() != 4)
      return rewriter.notifyMatchFailure(add, "not a 4-D add");
    auto m1 = binaryOf(add.getLhs(), "mul"), m2 = binaryOf(add.getRhs(), "mul");
    if (!m1 || !m2)
      return rewriter.notifyMatchFailure(add, "not a sum of two products");
    // Find (x, C) and (rotate_half(x), S) among the four operand arrangements.
    Value x, c, s;
    for (auto [a, b] : {std::pair(m1, m2), std::pair(m2, m1)}) {
      for (auto [rv, sv] : {std::pair(b.getLhs(), b.getRhs()), std::pair(b.getRhs(), b.getLhs())}) {
        Value rx = rotateHalfInput(rv);
        if (!rx)
          continue;
        if (a.getLhs() == rx)
          x = rx, c = a.getRhs(), s = sv;
        else if (a.getRhs() == rx)
          x = rx, c = a.getLhs(), s = sv;
      }
      if (x)
        break;
    }
    if (!x || x.getType() != add.getType())
      return rewriter.notifyMatchFailure(add, "not x * C + rotate_half(x) * S");
    const int64_t rot = tensorType(x).getDimSize(3);
    Operation *replaced = add;
    if (llm::ConcatOp cat = partialRotary(add, x)) {
      x = x.getDefiningOp<llm::SliceOp>().getInput();
      replaced = cat;
    }
    auto xt = tensorType(x);
    if (xt.getDimSize(0) != 1 || !xt.isDynamicDim(2) || xt.isDynamicDim(1) || xt.isDynamicDim(3))
      return rewriter.notifyMatchFailure(add, "x is not [1, H, T, D]");
    const int64_t heads = xt.getDimSize(1), d = xt.getDimSize(3);
    std::vector<float> invFreq;
    if (!readFrequencies(c, s, rot, invFreq))
      return rewriter.notifyMatchFailure(add, "cos/sin are not position tables of one frequency "
                                              "vector in rotate-half layout");
    SmallVector<Operation *> chain;
    Value base = viewBase(x, &chain);
    if (!base || tensorType(base).getDimSize(1) != heads * d)
      return rewriter.notifyMatchFailure(add, "x is not a view of a [T, H*D] activation");
    const int64_t w = heads * d;
    if (!viewMatches(x, base, [&](const std::vector<int64_t> &k, int64_t) {
          return k[2] * w + k[1] * d + k[3];
        }))
      return rewriter.notifyMatchFailure(add, "x is not the head view [1, H, T, D] of its base");
    rewriter.setInsertionPointAfterValue(base);
    Value r = rewriter.create<llm::RopeOp>(
        add.getLoc(), base.getType(), base, rewriter.getI64IntegerAttr(d),
        rewriter.getI64IntegerAttr(rot), rewriter.getDenseF32ArrayAttr(invFreq),
        rewriter.getBoolAttr(false));
    rewriter.setInsertionPoint(replaced);
    rewriter.replaceOp(replaced, cloneChain(rewriter, chain, r));
    return success();
  }
};

struct RaiseRopePass : llmc::impl::RaiseRopeBase<RaiseRopePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseRopePattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
