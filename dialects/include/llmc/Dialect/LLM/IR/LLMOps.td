//===- LLMOps.td - the llm dialect's ops -*- tablegen -*-===//
//
// The op table of docs/design.md ("The llm ops"), in ODS. Weight symbol ops are in
// LLMWeightOps.td. Shapes use T for the dynamic token count.
// Owner: mlir.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECT_LLM_IR_LLMOPS_TD
#define LLMC_DIALECT_LLM_IR_LLMOPS_TD

include "llmc/Dialect/LLM/IR/LLMBase.td"
include "llmc/Dialect/LLM/IR/LLMWeightOps.td"
include "llmc/Dialect/LLM/IR/LLMGenericOps.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"

// An activation op: pure, static widths, one row count throughout.
class LLM_ActOp<string mnemonic, list<Trait> traits = []>
    : LLM_Op<mnemonic, !listconcat(traits, [Pure, LLM_StaticWidths, LLM_SameRows])>;
// An activation op that names weights; weight shapes are checked in verifySymbolUses.
class LLM_WeightedOp<string mnemonic, list<Trait> traits = []>
    : LLM_ActOp<mnemonic, !listconcat(traits,
        [DeclareOpInterfaceMethods<SymbolUserOpInterface>])>;

//===----------------------------------------------------------------------===//
// Embeddings and norms
//===----------------------------------------------------------------------===//

def LLM_EmbeddingOp : LLM_WeightedOp<"embedding"> {
  let summary = "token embedding: row gather from a [vocab, H] table, times scale";
  let description = [{
    `output[t] = weight[ids[t]] * scale` (Gemma uses `scale = sqrt(H)`).

    ```mlir
    %x = llm.embedding %ids {weight = @embed} : tensor<?xi32> -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins LLM_TokenIds:$ids, FlatSymbolRefAttr:$weight,
                       DefaultValuedAttr<F32Attr, "1.0">:$scale);
  let results = (outs LLM_Activation:$output);
  let assemblyFormat = "$ids attr-dict `:` type($ids) `->` type($output)";
}

def LLM_PositionEmbeddingOp : LLM_WeightedOp<"position_embedding",
    [SameOperandsAndResultType]> {
  let summary = "learned absolute position embedding: x + table[pos(t)]";
  let description = [{
    Adds row `pos(t)` (the token's absolute position in its sequence) of the `[max_pos, H]` table
    (GPT-2's `wpe`).

    ```mlir
    %y = llm.position_embedding %x {weight = @wpe} : tensor<?x64xf32>
    ```
  }];
  let arguments = (ins LLM_Activation:$input, FlatSymbolRefAttr:$weight);
  let results = (outs LLM_Activation:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
}

def LLM_RMSNormOp : LLM_WeightedOp<"rms_norm", [SameOperandsAndResultType]> {
  let summary = "RMS norm over each row";
  let description = [{
    `y = x / sqrt(mean(x^2) + eps) * (w + (unit_offset ? 1 : 0))`, `w` is `[H]`.

    ```mlir
    %y = llm.rms_norm %x {weight = @norm, eps = 1.0e-05 : f32} : tensor<?x64xf32>
    ```
  }];
  let arguments = (ins LLM_Activation:$input, FlatSymbolRefAttr:$weight, F32Attr:$eps,
                       DefaultValuedAttr<BoolAttr, "false">:$unit_offset);
  let results = (outs LLM_Activation:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
}

def LLM_LayerNormOp : LLM_WeightedOp<"layer_norm", [SameOperandsAndResultType]> {
  let summary = "LayerNorm over each row, optional bias";
  let description = [{
    `y = (x - mean) / sqrt(var + eps) * w (+ b)`, `w` and `b` are `[H]`.

    ```mlir
    %y = llm.layer_norm %x {weight = @ln_w, bias = @ln_b, eps = 1.0e-05 : f32} : tensor<?x64xf32>
    ```
  }];
  let arguments = (ins LLM_Activation:$input, FlatSymbolRefAttr:$weight,
                       OptionalAttr<FlatSymbolRefAttr>:$bias, F32Attr:$eps);
  let results = (outs LLM_Activation:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
}

def LLM_AddRMSNormOp : LLM_WeightedOp<"add_rms_norm",
    [AllTypesMatch<["input", "residual", "sum", "output"]>]> {
  let summary = "fused residual add + RMS norm: (x + residual, rms_norm(x + residual))";
  let description = [{
    `sum = input + residual; output = rms_norm(sum)` with `rms_norm`'s attributes. Produced by
    `llmc-fuse-add-rmsnorm`; `sum` carries the residual stream on.

    ```mlir
    %sum, %y = llm.add_rms_norm %x, %r {weight = @norm, eps = 1.0e-05 : f32} : tensor<?x64xf32>
    ```
  }];
  let arguments = (ins LLM_Activation:$input, LLM_Activation:$residual,
                       FlatSymbolRefAttr:$weight, F32Attr:$eps,
                       DefaultValuedAttr<BoolAttr, "false">:$unit_offset);
  let results = (outs LLM_Activation:$sum, LLM_Activation:$output);
  let assemblyFormat = "$input `,` $residual attr-dict `:` type($output)";
}

//===----------------------------------------------------------------------===//
// Linear algebra and reshaping
//===----------------------------------------------------------------------===//

def LLM_LinearOp : LLM_WeightedOp<"linear"> {
  let summary = "y = x * W^T + b with W [N, K] (nn.Linear layout)";
  let description = [{
    `x` is `[T, K]`, `weight` names an `[N, K]` weight, optional `bias` an `[N]` one; the result is
    `[T, N]`.

    ```mlir
    %y = llm.linear %x {weight = @wq, bias = @bq} : tensor<?x64xf32> -> tensor<?x128xf32>
    ```
  }];
  let arguments = (ins LLM_Activation:$input, FlatSymbolRefAttr:$weight,
                       OptionalAttr<FlatSymbolRefAttr>:$bias);
  let results = (outs LLM_Activation:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def LLM_SplitOp : LLM_ActOp<"split"> {
  let summary = "column split of [T, A+B+..] into [T, A], [T, B], ..";
  let description = [{
    `sizes` are the result widths, in order; they sum to the input width.

    ```mlir
    %q, %k, %v = llm.split %qkv {sizes = array<i64: 64, 32, 32>}
        : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
    ```
  }];
  let arguments = (ins LLM_Activation:$input, DenseI64ArrayAttr:$sizes);
  let results = (outs Variadic<LLM_Activation>:$outputs);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($outputs)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def LLM_LastTokenOp : LLM_Op<"last_token", [Pure, LLM_StaticWidths]> {
  let summary = "keeps the last row: [T, W] -> [1, W]";
  let description = [{
    Logits are only needed for the next token, so the head runs on one row.

    ```mlir
    %last = llm.last_token %x : tensor<?x64xf32> -> tensor<1x64xf32>
    ```
  }];
  let arguments = (ins LLM_Activation:$input);
  let results = (outs LLM_Activation:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Positional encoding and attention
//===----------------------------------------------------------------------===//

def LLM_RopeOp : LLM_ActOp<"rope", [SameOperandsAndResultType]> {
  let summary = "rotary position embedding of every head, at each token's absolute position";
  let description = [{
    The input is `[T, h * head_dim]`; in every head the first `rotary_dim` channels are rotated
    with frequencies `inv_freq` (`rotary_dim / 2` values, computed by the importer including any
    rope scaling). `interleaved = false` is HF's rotate-half layout, `true` is GPT-J/Meta's
    pairwise layout.

    ```mlir
    %qr = llm.rope %q {head_dim = 16 : i64, rotary_dim = 16 : i64,
                       inv_freq = array<f32: 1.0, 0.1, 0.01, 0.001, 1.0e-4, 1.0e-5, 1.0e-6, 1.0e-7>}
        : tensor<?x64xf32>
    ```
  }];
  let arguments = (ins LLM_Activation:$input, I64Attr:$head_dim, I64Attr:$rotary_dim,
                       DenseF32ArrayAttr:$inv_freq,
                       DefaultValuedAttr<BoolAttr, "false">:$interleaved);
  let results = (outs LLM_Activation:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
  let hasVerifier = 1;
}

def LLM_AttentionOp : LLM_Op<"attention", [LLM_StaticWidths, LLM_SameRows,
    MemoryEffects<[MemRead<LLM_KVCache>, MemWrite<LLM_KVCache>]>]> {
  let summary = "causal (GQA) attention that appends k, v to the layer's KV cache";
  let description = [{
    `q` is `[T, num_heads * head_dim]`, `k` and `v` are `[T, num_kv_heads * head_dim]`. The op
    appends `k`, `v` to layer `layer`'s KV cache at the tokens' positions, then attends causally
    over the cache (query head `h` uses kv head `h / (num_heads / num_kv_heads)`), scaling the
    scores by `scale`. `sliding_window = 0` means no window. It writes state, so it is not pure.

    ```mlir
    %o = llm.attention %q, %k, %v {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64,
                                   head_dim = 16 : i64, scale = 2.500000e-01 : f32}
        : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins LLM_Activation:$q, LLM_Activation:$k, LLM_Activation:$v,
                       I64Attr:$layer, I64Attr:$num_heads, I64Attr:$num_kv_heads,
                       I64Attr:$head_dim, F32Attr:$scale,
                       DefaultValuedAttr<I64Attr, "0">:$sliding_window);
  let results = (outs LLM_Activation:$output);
  let assemblyFormat = [{
    $q `,` $k `,` $v attr-dict `:` type($q) `,` type($k) `,` type($v) `->` type($output)
  }];
  let hasVerifier = 1;
}

def LLM_QKVAttentionOp : LLM_Op<"qkv_attention", [LLM_StaticWidths, LLM_SameRows,
    MemoryEffects<[MemRead<LLM_KVCache>, MemWrite<LLM_KVCache>]>]> {
  let summary = "fused split + rope(q, k) + attention on a packed [T, (nh + 2 nkv) * hd] input";
  let description = [{
    Columns `[0, nh*hd)` are q, the next `nkv*hd` are k, the last `nkv*hd` are v. q and k get
    `llm.rope` with `rotary_dim`, `inv_freq`, `interleaved` (per head of `head_dim`); then
    `llm.attention` with the remaining attributes. Produced by `llmc-fuse-rope-attention`.

    ```mlir
    %o = llm.qkv_attention %qkv {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64,
                                 head_dim = 16 : i64, scale = 2.500000e-01 : f32,
                                 rotary_dim = 16 : i64, inv_freq = array<f32: ...>}
        : tensor<?x128xf32> -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins LLM_Activation:$qkv,
                       I64Attr:$layer, I64Attr:$num_heads, I64Attr:$num_kv_heads,
                       I64Attr:$head_dim, F32Attr:$scale,
                       DefaultValuedAttr<I64Attr, "0">:$sliding_window,
                       I64Attr:$rotary_dim, DenseF32ArrayAttr:$inv_freq,
                       DefaultValuedAttr<BoolAttr, "false">:$interleaved);
  let results = (outs LLM_Activation:$output);
  let assemblyFormat = "$qkv attr-dict `:` type($qkv) `->` type($output)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class LLM_UnaryOp<string mnemonic, list<Trait> traits = []>
    : LLM_ActOp<mnemonic, !listconcat(traits, [SameOperandsAndResultType])> {
  let results = (outs LLM_Activation:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
}
class LLM_BinaryOp<string mnemonic, list<Trait> traits = []>
    : LLM_ActOp<mnemonic, !listconcat(traits, [SameOperandsAndResultType])> {
  let arguments = (ins LLM_Activation:$lhs, LLM_Activation:$rhs);
  let results = (outs LLM_Activation:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($output)";
}

def LLM_SiluOp : LLM_UnaryOp<"silu"> {
  let summary = "x * sigmoid(x), elementwise";
  let description = [{
    ```mlir
    %y = llm.silu %x : tensor<?x128xf32>
    ```
  }];
  let arguments = (ins LLM_Activation:$input);
}

def LLM_GeluOp : LLM_UnaryOp<"gelu"> {
  let summary = "GELU, exact (approximate = \"none\") or tanh approximation (\"tanh\")";
  let description = [{
    ```mlir
    %y = llm.gelu %x {approximate = "tanh"} : tensor<?x128xf32>
    ```
  }];
  let arguments = (ins LLM_Activation:$input,
                       DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let hasVerifier = 1;
}

def LLM_AddOp : LLM_BinaryOp<"add"> {
  let summary = "elementwise sum (the residual add)";
  let description = [{
    ```mlir
    %s = llm.add %a, %b : tensor<?x64xf32>
    ```
  }];
}

def LLM_MulOp : LLM_BinaryOp<"mul"> {
  let summary = "elementwise product";
  let description = [{
    ```mlir
    %p = llm.mul %a, %b : tensor<?x128xf32>
    ```
  }];
}

def LLM_GluOp : LLM_ActOp<"glu"> {
  let summary = "gated linear unit on packed gate|up: act(gu[:, :I]) * gu[:, I:]";
  let description = [{
    The input is `[T, 2I]` (gate columns first, then up), the result `[T, I]`; `activation` is
    `silu`, `gelu_tanh` or `gelu`. Produced by `llmc-fuse-gate-up`.

    ```mlir
    %h = llm.glu %gu {activation = "silu"} : tensor<?x256xf32> -> tensor<?x128xf32>
    ```
  }];
  let arguments = (ins LLM_Activation:$input, StrAttr:$activation);
  let results = (outs LLM_Activation:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

#endif // LLMC_DIALECT_LLM_IR_LLMOPS_TD
