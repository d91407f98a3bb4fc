//===- PlanMemory.cpp - activation arena offsets by liveness ---------------===//
//
// llmc-plan-memory (docs/design.md, "Memory plan"). Offsets are in f32 elements per token: a
// value of width W at offset O lives in [O*T, (O+W)*T) of the arena, so one plan serves every
// step size T <= T_max. Owner: mlir.
//
//===----------------------------------------------------------------------===//

#include "llmc/Dialect/LLM/IR/LLMOps.h"
#include "llmc/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace llmc {
#define GEN_PASS_DEF_PLANMEMORY
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

/// One planned value: width per token, live range [start, end] in op indices, offset.
struct Interval {
  int64_t width = 0;
  size_t start = 0, end = 0;
  int64_t offset = 0;
};

/// Lowest offset at which [offset, offset + width) overlaps none of `live` (first fit).
int64_t firstFit(SmallVector<const Interval *> live, int64_t width) {
  llvm::sort(live, [](const Interval *a, const Interval *b) {
    return a->offset != b->offset ? a->offset < b->offset : a->width < b->width;
  });
  int64_t candidate = 0;
  for (const Interval *iv : live) {
    if (candidate + width <= iv->offset)
      break; // fits in the gap before iv
    candidate = std::max(candidate, iv->offset + iv->width);
  }
  return candidate;
}

struct PlanMemoryPass : llmc::impl::PlanMemoryBase<PlanMemoryPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    if (!func.getBody().hasOneBlock()) {
      func.emitOpError("llmc-plan-memory needs a single-block function");
      return signalPassFailure();
    }
    Block &body = func.getBody().front();

    // Number the ops; each result's range starts at its op, ends at its last user's op
    // (users in nested regions count at their ancestor in this block).
    DenseMap<Operation *, size_t> index;
    for (auto [i, op] : llvm::enumerate(body))
      index[&op] = i;
    std::vector<Interval> intervals;
    DenseMap<Value, size_t> slot;
    for (Operation &op : body) {
      for (Value r : op.getResults()) {
        auto type = llvm::dyn_cast<RankedTensorType>(r.getType());
        if (!type || type.getRank() != 2 || type.isDynamicDim(1)) {
          op.emitOpError("llmc-plan-memory: result is not a [T, W] activation with static W: ")
              << r.getType();
          return signalPassFailure();
        }
        Interval iv;
        iv.width = type.getDimSize(1);
        iv.start = iv.end = index[&op];
        for (Operation *user : r.getUsers()) {
          Operation *anc = body.findAncestorOpInBlock(*user);
          if (anc)
            iv.end = std::max(iv.end, index[anc]);
        }
        slot[r] = intervals.size();
        intervals.push_back(iv);
      }
    }

    // Place in definition order among the values still live at the definition. A range is
    // inclusive at both ends, so an op's results never share space with its operands.
    int64_t arena = 0;
    for (size_t i = 0; i < intervals.size(); ++i) {
      SmallVector<const Interval *> live;
      for (size_t j = 0; j < i; ++j)
        if (intervals[j].end >= intervals[i].start)
          live.push_back(&intervals[j]);
      intervals[i].offset = firstFit(live, intervals[i].width);
      arena = std::max(arena, intervals[i].offset + intervals[i].width);
    }

    Builder b(func.getContext());
    for (Operation &op : body) {
      if (op.getNumResults() == 0)
        continue;
      SmallVector<int64_t> offsets;
      for (Value r : op.getResults())
        offsets.push_back(intervals[slot[r]].offset);
      op.setAttr("llm.offset", b.getDenseI64ArrayAttr(offsets));
    }
    func->setAttr("llm.arena_per_token", b.getI64IntegerAttr(arena));
  }
};

} // namespace
