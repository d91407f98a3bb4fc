//===- LLMWeightOps.td - module-level weight symbol ops -*- tablegen -*-===//
//
// The weight table: one symbol op per weight (docs/design.md, "Weights: the weight table").
// Included by LLMOps.td. Owner: mlir.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECT_LLM_IR_LLMWEIGHTOPS_TD
#define LLMC_DIALECT_LLM_IR_LLMWEIGHTOPS_TD

include "llmc/Dialect/LLM/IR/LLMBase.td"
include "llmc/Dialect/LLM/IR/LLMInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"

class LLM_WeightSymbolOp<string mnemonic, list<Trait> traits = []>
    : LLM_Op<mnemonic, !listconcat(traits, [Symbol, HasParent<"::mlir::ModuleOp">,
        DeclareOpInterfaceMethods<LLM_WeightOpInterface>])> {
  let assemblyFormat = "$sym_name attr-dict";
}

def LLM_WeightOp : LLM_WeightSymbolOp<"weight"> {
  let summary = "a tensor of the source checkpoint, named by its source name";
  let description = [{
    Names a tensor of the source checkpoint: `source` is its name in the safetensors or ONNX
    initializer table, `shape` its shape and `dtype` the *engine* dtype (`f32`, `f16`, `bf16`;
    the engine writer converts while streaming). The data never enters the IR.

    ```mlir
    llm.weight @w0 {source = "model.layers.0.self_attn.q_proj.weight", shape = array<i64: 64, 64>, dtype = "f32"}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$source,
                       DenseI64ArrayAttr:$shape, StrAttr:$dtype);
  let hasVerifier = 1;
}

def LLM_WeightConcatOp : LLM_WeightSymbolOp<"weight_concat",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "a derived weight: the concatenation of other weights along an axis";
  let description = [{
    Recorded by fusion passes (QKV, gate/up); the engine writer materialises it. All parts have the
    same rank and dtype and agree on every dimension except `axis`; the shape is derived.

    ```mlir
    llm.weight_concat @qkv0 {parts = [@wq, @wk, @wv], axis = 0 : i64}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, FlatSymbolRefArrayAttr:$parts,
                       I64Attr:$axis);
}

def LLM_WeightTransposeOp : LLM_WeightSymbolOp<"weight_transpose",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "a derived weight: the 2-D transpose of another weight";
  let description = [{
    Used for checkpoints whose linear weights are stored `[K, N]` (GPT-2's Conv1D) while
    `llm.linear` wants `[N, K]`. The engine writer materialises it.

    ```mlir
    llm.weight_transpose @t {input = @w}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, FlatSymbolRefAttr:$input);
}

#endif // LLMC_DIALECT_LLM_IR_LLMWEIGHTOPS_TD
