//===- CheckRaised.cpp - everything is in the per-token form ---------------===//
//
// Owner: onnx. llmc-check-raised: the runtime executes only the per-token ops
// (docs/design.md); any generic op left after raising is listed, with its count and the ONNX
// node it came from, in one error.
//
//===----------------------------------------------------------------------===//

#include "llmc/Dialect/LLM/IR/LLMOps.h"
#include "llmc/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

namespace llmc {
#define GEN_PASS_DEF_CHECKRAISED
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;

namespace {

bool isPerTokenOp(Operation *op) {
  return isa<llmc::llm::EmbeddingOp, llmc::llm::PositionEmbeddingOp, llmc::llm::RMSNormOp,
             llmc::llm::LayerNormOp, llmc::llm::AddRMSNormOp, llmc::llm::LinearOp,
             llmc::llm::SplitOp, llmc::llm::RopeOp, llmc::llm::AttentionOp,
             llmc::llm::QKVAttentionOp, llmc::llm::SiluOp, llmc::llm::GeluOp, llmc::llm::AddOp,
             llmc::llm::MulOp, llmc::llm::GluOp, llmc::llm::LastTokenOp, func::ReturnOp>(op);
}

struct CheckRaisedPass : llmc::impl::CheckRaisedBase<CheckRaisedPass> {
  void runOnOperation() override {
    getOperation().walk([&](func::FuncOp f) {
      std::map<std::string, std::pair<int, Operation *>> left;
      f.walk([&](Operation *op) {
        if (op == f.getOperation() || isPerTokenOp(op))
          return;
        auto &e = left[op->getName().getStringRef().str()];
        if (!e.second)
          e.second = op;
        ++e.first;
      });
      auto results = f.getResultTypes();
      auto rt = results.size() == 1 ? dyn_cast<RankedTensorType>(results[0]) : RankedTensorType();
      const bool lastRow = rt && rt.getRank() == 2 && rt.getDimSize(0) == 1 && !rt.isDynamicDim(1);
      if (left.empty() && !lastRow) {
        f.emitError("@forward must return the last token's logits (tensor<1xVxf32>), it returns ")
            << f.getFunctionType().getResults();
        return signalPassFailure();
      }
      if (left.empty())
        return;
      std::string msg;
      llvm::raw_string_ostream os(msg);
      os << "not raised to the per-token form: ";
      bool first = true;
      for (auto &[name, e] : left) {
        os << (first ? "" : ", ") << name << " x" << e.first << " (first at " << e.second->getLoc()
           << ")";
        first = false;
      }
      f.emitError(os.str());
      signalPassFailure();
    });
  }
};

} // namespace
