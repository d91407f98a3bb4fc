//===- RaiseSplit.cpp - column slices of token rows -> llm.split -----------===//
//
// Owner: onnx. llmc-raise-split. A fused projection (Phi-3's qkv_proj and gate_up_proj,
// GPT-2's c_attn) is one linear whose output the graph slices along the last axis:
//   %a = slice %y[.., 0:64], %b = slice %y[.., 64:96], %c = slice %y[.., 96:128]
//   ->  %a, %b, %c = llm.split %y2 {sizes = [64, 32, 32]}      (%y2: %y as [T, 128])
// the HF importer's form. Only [T, N] / [1, T, N] values are split: slices of 4-D head views
// are rotate-half and partial-rotary pieces, which llmc-raise-rope matches. Pieces that no slice
// reads (a gap) become unused results; overlapping slices are left alone.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"

#include "llmc/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <set>

namespace llmc {
#define GEN_PASS_DEF_RAISESPLIT
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;
using namespace llmc::raising;

namespace {

// [start, end) of a step-1 slice of the last axis with static bounds, or nullopt.
std::optional<std::pair<int64_t, int64_t>> columnRange(llm::SliceOp s) {
  auto it = tensorType(s.getInput());
  const int64_t rank = it.getRank(), n = it.getShape().back();
  if (s.getAxes().size() != 1 || s.getSteps()[0] != 1)
    return std::nullopt;
  if (s.getAxes()[0] != rank - 1)
    return std::nullopt;
  auto clampIndex = [&](int64_t v) { return std::clamp(v < 0 ? v + n : v, int64_t(0), n); };
  int64_t start = clampIndex(s.getStarts()[0]), end = clampIndex(s.getEnds()[0]);
  if (start >= end)
    return std::nullopt;
  return std::pair(start, end);
}

struct RaiseSplitPattern : OpRewritePattern<llm::SliceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::SliceOp slice, PatternRewriter &rewriter) const override {
    Value in = slice.getInput();
    auto it = tensorType(in);
    if (!it || it.getRank() > 3 || !(isActivation2D(in) || isTokenRows(it)))
      return rewriter.notifyMatchFailure(slice, "input is not [T, N] or [1, T, N] f32 rows");
    // Every column slice of `in`, and the boundaries they cut at.
    const int64_t n = it.getShape().back();
    SmallVector<std::pair<llm::SliceOp, std::pair<int64_t, int64_t>>> slices;
    std::set<int64_t> cuts = {0, n};
    for (Operation *user : in.getUsers()) {
      auto s = dyn_cast<llm::SliceOp>(user);
      if (!s || s.getInput() != in)
        continue;
      std::optional<std::pair<int64_t, int64_t>> r = columnRange(s);
      if (!r)
        continue;
      slices.push_back({s, *r});
      cuts.insert(r->first);
      cuts.insert(r->second);
    }
    if (slices.empty() || !columnRange(slice))
      return rewriter.notifyMatchFailure(slice, "not a column slice");
    std::vector<int64_t> bounds(cuts.begin(), cuts.end());
    auto piece = [&](std::pair<int64_t, int64_t> r) -> int64_t {
      auto lo = std::find(bounds.begin(), bounds.end(), r.first);
      return lo + 1 < bounds.end() && lo[1] == r.second ? lo - bounds.begin() : -1;
    };
    for (auto &[s, r] : slices)
      if (piece(r) < 0)
        return rewriter.notifyMatchFailure(slice, "column slices overlap");
    SmallVector<int64_t> sizes;
    SmallVector<Type> types;
    for (size_t k = 0; k + 1 < bounds.size(); ++k) {
      sizes.push_back(bounds[k + 1] - bounds[k]);
      types.push_back(RankedTensorType::get({ShapedType::kDynamic, sizes.back()},
                                            rewriter.getF32Type()));
    }
    rewriter.setInsertionPointAfterValue(in);
    Value x2 = as2D(rewriter, in);
    auto split = rewriter.create<llm::SplitOp>(slice.getLoc(), types, x2,
                                               rewriter.getDenseI64ArrayAttr(sizes));
    for (auto &[s, r] : slices) {
      rewriter.setInsertionPoint(s);
      rewriter.replaceOp(s, from2D(rewriter, s.getLoc(), split.getResult(piece(r)), s.getType()));
    }
    return success();
  }
};

struct RaiseSplitPass : llmc::impl::RaiseSplitBase<RaiseSplitPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseSplitPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
