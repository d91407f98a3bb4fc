//===- GenericEval.h - evaluate generic llm ops for a probe length -*- C++ -*-===//
//
// Owner: onnx. Internal to passes/Raising. Evaluates a value of generic llm ops at a concrete
// token count T (every `?` dimension is T), recursively through its operands, on
// eval::Tensor. Leaves: llm.constant, llm.positions (0..T-1), llm.affine_ints,
// llm.causal_mask, and any value given in `overrides` (a raising pattern replaces an activation
// by an index tensor to see where a chain of reshapes/transposes/expands moves each element).
// Anything else (weights, function arguments, per-token ops) makes the evaluation fail.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_PASSES_RAISING_GENERICEVAL_H
#define LLMC_PASSES_RAISING_GENERICEVAL_H

#include "llmc/Passes/Raising/EvalTensor.h"

#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"

#include <optional>

namespace llmc::raising {

class GenericEvaluator {
 public:
  explicit GenericEvaluator(int64_t T) : T_(T) {}
  void setOverride(mlir::Value v, eval::Tensor t) { memo_[v] = std::move(t); }
  // The value at this T, or nullopt when it depends on something not evaluable.
  std::optional<eval::Tensor> evaluate(mlir::Value v);
  int64_t T() const { return T_; }

 private:
  std::optional<eval::Tensor> compute(mlir::Value v);
  int64_t T_;
  llvm::DenseMap<mlir::Value, eval::Tensor> memo_;
  int depth_ = 0;
};

// The static shape of a type at token count T.
std::vector<int64_t> shapeAt(mlir::Type t, int64_t T);

}  // namespace llmc::raising

#endif  // LLMC_PASSES_RAISING_GENERICEVAL_H
