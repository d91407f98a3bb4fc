//===- RaisingUtils.h - helpers shared by the raising patterns ---*- C++ -*-===//
//
// Owner: onnx. Internal to passes/Raising.
//
// Activations of the per-token form are [T, W]; the ONNX graph carries the same data as
// [1, T, W] or as head views [1, H, T, D]. A "view chain" is a sequence of llm.reshape /
// llm.transpose / llm.expand ops from a 2-D activation (its base) to a value; whether it moves
// elements the way a pattern needs is decided by evaluating it at probe lengths with the base
// replaced by an index tensor (element (t, c) holds t * W + c), which is exact and independent
// of how the exporter arranged its reshapes.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_PASSES_RAISING_RAISINGUTILS_H
#define LLMC_PASSES_RAISING_RAISINGUTILS_H

#include "llmc/Dialect/LLM/IR/LLMOps.h"
#include "llmc/Passes/Raising/EvalTensor.h"

#include "mlir/IR/PatternMatch.h"

#include <functional>
#include <optional>

namespace llmc::raising {

// Probe lengths used to check view chains and position tables.
constexpr int64_t kCheckLengths[] = {3, 7};

mlir::RankedTensorType tensorType(mlir::Value v);
// True for [T, W] f32 with static W (a per-token activation).
bool isActivation2D(mlir::Value v);
// The op defining v if it is an llm.binary with function `fn`.
llm::ElemBinaryOp binaryOf(mlir::Value v, llvm::StringRef fn);
llm::ElemUnaryOp unaryOf(mlir::Value v, llvm::StringRef fn);
// A splat constant's value (through reshape/expand/cast of an llm.constant).
std::optional<double> scalarConstant(mlir::Value v);
// The llm.weight_value defining v, looking through reshapes (a [H] weight seen as [1, 1, H]).
llm::WeightValueOp weightValueOf(mlir::Value v);

// Follows reshape/transpose/expand ops back from v to the nearest [T, W] activation. Returns
// null when there is none; `chain` gets the ops from the base (first) to v (last).
mlir::Value viewBase(mlir::Value v, llvm::SmallVectorImpl<mlir::Operation *> *chain = nullptr);
// Checks that evaluating v with `base` := index tensor gives, at every coordinate of v,
// expected(coord, T) (a flat index into base, i.e. t * W + c), at each probe length.
bool viewMatches(mlir::Value v, mlir::Value base,
                 const std::function<int64_t(const std::vector<int64_t> &, int64_t T)> &expected);
// Re-applies the view chain `chain` (from base to some value) to a new base of the same type.
mlir::Value cloneChain(mlir::PatternRewriter &rewriter, llvm::ArrayRef<mlir::Operation *> chain,
                       mlir::Value newBase);

// v as a [T, W] activation: v itself, the base of a view chain that keeps the row-major order
// (so v is just a reshape of it), or a new llm.reshape when v is [1, .., 1, T, W]. Null when v
// has another shape.
mlir::Value as2D(mlir::PatternRewriter &rewriter, mlir::Value v);
// Reshapes a [T, W] result back to `type` (when they differ).
mlir::Value from2D(mlir::PatternRewriter &rewriter, mlir::Location loc, mlir::Value v,
                   mlir::Type type);
// [.., T, W] with every leading dim 1 and T dynamic: the rows are the tokens.
bool isTokenRows(mlir::Type t);

// A derived `llm.weight_transpose @<w>.t {input = @w}` (created once, next to @w).
mlir::FlatSymbolRefAttr transposedWeight(mlir::PatternRewriter &rewriter, mlir::Operation *user,
                                         mlir::FlatSymbolRefAttr w);

}  // namespace llmc::raising

#endif  // LLMC_PASSES_RAISING_RAISINGUTILS_H
