//===- WeightSymbols.h - helpers for passes that derive weights --*- C++ -*-===//
//
// Internal to passes/: creating llm.weight_concat symbols with unique, deterministic names next
// to their parts, and checking that weights can be concatenated. Owner: mlir.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_PASSES_UTILS_WEIGHTSYMBOLS_H
#define LLMC_PASSES_UTILS_WEIGHTSYMBOLS_H

#include "llmc/Dialect/LLM/IR/LLMOps.h"

#include "mlir/IR/PatternMatch.h"

namespace llmc {
namespace passes {

/// Creates `llm.weight_concat @<base><suffix>{_N} {parts, axis = 0}` in the module enclosing
/// `user`, right after the last of its parts (so the weight table reads in order). The name is
/// made unique by appending `_1`, `_2`, ... Returns the reference to use in ops.
mlir::FlatSymbolRefAttr
createWeightConcat(mlir::RewriterBase &rewriter, mlir::Operation *user,
                   llvm::ArrayRef<mlir::FlatSymbolRefAttr> parts,
                   llvm::StringRef suffix);

/// Fails (with the reason in `why`) unless every ref names a weight with a derivable shape of
/// rank `rank`, all of one dtype, and all equal in every dimension but 0.
mlir::LogicalResult checkConcatenable(mlir::Operation *user,
                                      llvm::ArrayRef<mlir::FlatSymbolRefAttr> refs,
                                      int64_t rank, std::string &why);

} // namespace passes
} // namespace llmc

#endif // LLMC_PASSES_UTILS_WEIGHTSYMBOLS_H
