//===- RaiseLastToken.cpp - logits of the last token only ------------------===//
//
// Owner: onnx. llmc-raise-last-token. The ONNX graph returns logits for every position
// ([1, T, V]) or, exported with logits_to_keep=1, a slice of the last row ([1, 1, V]). The
// per-token form returns [1, V] and computes the head only for the last row:
//   return view(linear(x))           ->   return linear(last_token(x))
// @forward's type is updated.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"

#include "llmc/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <limits>

namespace llmc {
#define GEN_PASS_DEF_RAISELASTTOKEN
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;
using namespace llmc::raising;

namespace {

// Looks through reshapes and a slice keeping the last row of the token axis.
Value rowsSource(Value v) {
  while (Operation *op = v.getDefiningOp()) {
    if (auto r = dyn_cast<llm::ReshapeOp>(op)) {
      v = r.getInput();
      continue;
    }
    if (auto s = dyn_cast<llm::SliceOp>(op)) {
      auto it = tensorType(s.getInput());
      if (s.getAxes().size() == 1 && it.isDynamicDim(s.getAxes()[0]) && s.getStarts()[0] == -1 &&
          s.getSteps()[0] == 1 && s.getEnds()[0] == std::numeric_limits<int64_t>::max()) {
        v = s.getInput();
        continue;
      }
    }
    break;
  }
  return v;
}

struct RaiseLastTokenPass : llmc::impl::RaiseLastTokenBase<RaiseLastTokenPass> {
  void runOnOperation() override {
    getOperation().walk([&](func::FuncOp f) {
      if (f.getName() != "forward" || f.getNumResults() != 1 || f.isExternal())
        return;
      auto ret = cast<func::ReturnOp>(f.getBody().front().getTerminator());
      Value out = ret.getOperand(0);
      auto ot = tensorType(out);
      if (!ot || ot.getRank() == 2 && ot.getDimSize(0) == 1)
        return;  // already the last row
      auto lin = rowsSource(out).getDefiningOp<llm::LinearOp>();
      // Not a linear head: left as is; llmc-check-raised reports what remains.
      if (!lin || !lin->hasOneUse())
        return;
      auto in = tensorType(lin.getInput());
      OpBuilder b(lin);
      Value last = b.create<llm::LastTokenOp>(
          lin.getLoc(), RankedTensorType::get({1, in.getDimSize(1)}, in.getElementType()),
          lin.getInput());
      const int64_t v = lin.getType().getDimSize(1);
      auto type = RankedTensorType::get({1, v}, b.getF32Type());
      b.setInsertionPoint(ret);
      Value logits = b.create<llm::LinearOp>(lin.getLoc(), type, last, lin.getWeightAttr(),
                                             lin.getBiasAttr());
      ret->setOperand(0, logits);
      f.setFunctionType(FunctionType::get(f.getContext(), f.getArgumentTypes(), {type}));
      // The old head and its views are dead now.
      for (Operation *op = out.getDefiningOp(); op && op->use_empty();) {
        Operation *next = op->getNumOperands() ? op->getOperand(0).getDefiningOp() : nullptr;
        op->erase();
        op = next;
      }
    });
  }
};

} // namespace
