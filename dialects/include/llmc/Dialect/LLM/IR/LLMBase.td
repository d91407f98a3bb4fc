//===- LLMBase.td - llm dialect definition and shared constraints -*- tablegen -*-===//
//
// The `llm` dialect: graph-level vocabulary of LLM inference (docs/design.md, "The llm ops").
// Owner: mlir.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECT_LLM_IR_LLMBASE_TD
#define LLMC_DIALECT_LLM_IR_LLMBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def LLM_Dialect : Dialect {
  let name = "llm";
  let cppNamespace = "::llmc::llm";
  // Checks the discardable attributes llmc-plan-memory sets: llm.offset, llm.arena_per_token.
  let hasOperationAttrVerify = 1;
  let summary = "Graph-level ops of LLM inference.";
  let description = [{
    Every activation is a 2-D f32 tensor `[T, width]` whose row count `T` (tokens of the step) is
    dynamic and whose width is static; after `llm.last_token` the row count is 1. Token ids are
    `tensor<?xi32>`. Weights never appear as data: ops name module-level weight symbols
    (`llm.weight`, `llm.weight_concat`, `llm.weight_transpose`) with `FlatSymbolRefAttr`s.

    Discardable attributes set by `llmc-plan-memory`: `llm.offset = array<i64: ...>` (one arena
    offset per result, f32 elements per token) and `llm.arena_per_token = N : i64` on the function.

    ```mlir
    llm.weight @wq {source = "model.layers.0.self_attn.q_proj.weight", shape = array<i64: 64, 64>, dtype = "f32"}
    func.func @forward(%ids: tensor<?xi32>) -> tensor<1x256xf32> { ... }
    ```
  }];
}

class LLM_Op<string mnemonic, list<Trait> traits = []>
    : Op<LLM_Dialect, mnemonic, traits>;

// [T, W] f32 activation; the width W must be static (checked by LLM_StaticWidths).
def LLM_Activation : 2DTensorOf<[F32]>;
// [T] i32 token ids.
def LLM_TokenIds : 1DTensorOf<[I32]>;

// Every rank-2 operand/result has a static width (dim 1).
def LLM_StaticWidths : NativeOpTrait<"StaticWidths"> {
  let cppNamespace = "::llmc::llm::OpTrait";
}
// Every operand/result has the same (compatible) row count, dim 0.
def LLM_SameRows : NativeOpTrait<"SameRows"> {
  let cppNamespace = "::llmc::llm::OpTrait";
}

// The implicit per-layer KV cache that attention ops append to and read.
def LLM_KVCache : Resource<"::llmc::llm::KVCacheResource">;

#endif // LLMC_DIALECT_LLM_IR_LLMBASE_TD
