//===- RaisingPasses.td - the ONNX raising passes -*- tablegen -*-===//
//
// Owner: onnx. Included by Passes.td. Each pass turns one pattern of generic llm tensor ops
// (what the ONNX importer produces) into per-token llm ops; docs/onnx.md lists what they match
// and why they refuse. buildOnnxRaisingPipeline (passes/Raising/RaisingPipeline.cpp) runs them
// in order, then llmc-check-raised.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_PASSES_RAISING_RAISINGPASSES_TD
#define LLMC_PASSES_RAISING_RAISINGPASSES_TD

include "mlir/Pass/PassBase.td"

def RaiseEmbedding : Pass<"llmc-raise-embedding", "mlir::ModuleOp"> {
  let summary = "Raise a Gather of a weight by the token ids to llm.embedding";
  let description = [{
    ```mlir
    %x = llm.gather %table, %ids1 {axis = 0 : i64}   // %ids1 = reshape(cast(%ids))
    // ==>
    %e = llm.embedding %ids {weight = @table}  ;  %x = llm.reshape %e
    ```
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def RaiseLinear : Pass<"llmc-raise-linear", "mlir::ModuleOp"> {
  let summary = "Raise MatMul by a [K, N] weight (+ Add of a [N] bias) to llm.linear";
  let description = [{
    The ONNX weight is [K, N] (y = x · W); llm.linear wants [N, K], so the pass records
    `llm.weight_transpose @W.t {input = @W}` (materialised by the engine writer). A MatMul by
    `transpose(W)` of an [N, K] weight uses @W directly.

    ```mlir
    %y = llm.matmul %x, %w : tensor<1x?x64xf32>, tensor<64x96xf32> -> tensor<1x?x96xf32>
    // ==>
    %y2 = llm.linear %x2 {weight = @w.t} : tensor<?x64xf32> -> tensor<?x96xf32>
    ```
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def RaiseRMSNorm : Pass<"llmc-raise-rms-norm", "mlir::ModuleOp"> {
  let summary = "Raise w * (x * 1/sqrt(mean(x^2) + eps)) to llm.rms_norm";
  let description = [{
    Matches the decomposed RMSNorm of torch exports (Pow/ReduceMean/Add/Sqrt/Reciprocal or
    Div/Mul) and the importer's expansion of ONNX RMSNormalization (opset 23).
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def RaiseEmbeddingScale : Pass<"llmc-raise-embedding-scale", "mlir::ModuleOp"> {
  let summary = "Fold a scalar multiplier of llm.embedding's output into its scale";
  let description = [{
    Gemma's embeddings times sqrt(hidden):
    ```mlir
    %y = llm.binary "mul" %e1, %c   // %e1 = reshape(llm.embedding %ids), %c a scalar constant
    // ==>
    %e = llm.embedding %ids {weight = @table, scale = c}
    ```
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def RaisePositionEmbedding : Pass<"llmc-raise-position-embedding", "mlir::ModuleOp"> {
  let summary = "Raise x + gather(table, positions) to llm.position_embedding";
  let description = [{
    GPT-2's learned absolute positions; the gather's indices must evaluate to 0..T-1.
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def RaiseLayerNorm : Pass<"llmc-raise-layer-norm", "mlir::ModuleOp"> {
  let summary = "Raise llm.rms_norm(x - mean(x)) (+ an [H] bias) to llm.layer_norm";
  let description = [{
    Runs after llmc-raise-rms-norm, which turns the normalisation of the centred row of a
    decomposed LayerNorm into llm.rms_norm; the centring and the bias add are folded here.
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def RaiseSplit : Pass<"llmc-raise-split", "mlir::ModuleOp"> {
  let summary = "Raise column slices of a [T, N] / [1, T, N] value to llm.split";
  let description = [{
    Fused projections (Phi-3 qkv_proj / gate_up_proj, GPT-2 c_attn) sliced in the graph:
    ```mlir
    %q = llm.slice %y {axes = array<i64: 2>, starts = array<i64: 0>, ends = array<i64: 64>, ...}
    %k = llm.slice %y {axes = array<i64: 2>, starts = array<i64: 64>, ends = array<i64: 96>, ...}
    // ==>
    %q2, %k2 = llm.split %y2 {sizes = array<i64: 64, 32>}
    ```
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def RaiseGelu : Pass<"llmc-raise-gelu", "mlir::ModuleOp"> {
  let summary = "Raise decomposed GELU (tanh or erf form) to llm.gelu";
  let description = [{
    `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))` and `0.5 * x * (1 + erf(x / sqrt(2)))`,
    factors in any order and grouping.
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def RaiseGlu : Pass<"llmc-raise-glu", "mlir::ModuleOp"> {
  let summary = "Raise act(g) * u of a two-way llm.split [g | u] to llm.glu";
  let description = [{
    ```mlir
    %g, %u = llm.split %gu {sizes = array<i64: 96, 96>}
    %a = llm.silu %g ; %m = llm.mul %a, %u
    // ==>
    %m = llm.glu %gu {activation = "silu"}
    ```
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def RaiseSdpa : Pass<"llmc-raise-sdpa", "mlir::ModuleOp"> {
  let summary = "Raise softmax(Q·Kᵀ·s + mask)·V to llm.sdpa";
  let description = [{
    Scalar multipliers on Q, Kᵀ or the scores (torch splits the scale as sqrt(s) on each side)
    fold into `scale`; a `where(isnan(p), 0, p)` after the softmax is accepted.
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def RaiseRope : Pass<"llmc-raise-rope", "mlir::ModuleOp"> {
  let summary = "Raise x * cos + rotate_half(x) * sin on a head view to llm.rope";
  let description = [{
    cos and sin must be tables of the token positions: evaluated at probe lengths they equal
    cos(t · f) and sin(t · f) with f = [inv_freq, inv_freq] (rotate-half layout); inv_freq is
    read from them. x must be a [1, H, T, D] head view of a [T, H * D] activation.
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def RaiseAttention : Pass<"llmc-raise-attention", "mlir::ModuleOp"> {
  let summary = "Raise causal llm.sdpa on head views to llm.attention";
  let description = [{
    q, k, v must be head views of [T, W] activations (k, v possibly repeated for GQA), the mask
    causal (llm.causal_mask, or is_causal). Layers are numbered in program order.
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def RaiseElementwise : Pass<"llmc-raise-elementwise", "mlir::ModuleOp"> {
  let summary = "Raise x * sigmoid(x) to llm.silu and same-shape add/mul of token rows to llm.add/llm.mul";
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def RaiseLastToken : Pass<"llmc-raise-last-token", "mlir::ModuleOp"> {
  let summary = "Return the last token's logits: linear(last_token(x)) instead of all rows";
  let description = [{
    @forward's result becomes tensor<1xVxf32>: the head linear moves after llm.last_token.
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def CollapseViews : Pass<"llmc-collapse-views", "mlir::ModuleOp"> {
  let summary = "Replace a reshape to [T, W] of an order-preserving view chain by its base";
  let description = [{
    ```mlir
    %r = llm.reshape %a : tensor<?x64xf32> -> tensor<1x?x4x16xf32>
    %t = llm.transpose %r {perm = array<i64: 0, 2, 1, 3>} ...
    %u = llm.transpose %t {perm = array<i64: 0, 2, 1, 3>} ...
    %b = llm.reshape %u : tensor<1x?x4x16xf32> -> tensor<?x64xf32>
    // ==>  uses of %b use %a
    ```
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def CheckRaised : Pass<"llmc-check-raised", "mlir::ModuleOp"> {
  let summary = "Fail unless @forward is entirely in the per-token form";
  let description = [{
    Lists every generic op left (with counts) in one error; the runtime cannot execute them yet.
  }];
}

#endif // LLMC_PASSES_RAISING_RAISINGPASSES_TD
