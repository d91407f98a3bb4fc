//===- Passes.td - llmc passes over the llm dialect -*- tablegen -*-===//
//
// One pass per file under passes/ (Fusion/, Memory/); docs/passes.md explains each. The default
// order is in passes/Pipelines.cpp. Owner: mlir.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_PASSES_PASSES_TD
#define LLMC_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def FuseQKV : Pass<"llmc-fuse-qkv", "mlir::ModuleOp"> {
  let summary = "Fuse the q, k, v projections of an attention into one linear + split";
  let description = [{
    Three `llm.linear` ops that read the same input and feed one `llm.attention`'s q, k and v
    (q and k possibly through `llm.rope`) become one linear over a new `llm.weight_concat` of the
    three weights (and of the three biases when all three have one) followed by `llm.split`.
    Refused, with a reason, when only some projections have a bias, when the inputs differ, or
    when the weight dtypes differ.

    ```mlir
    %q = llm.linear %x {weight = @wq} ...   %k = llm.linear %x {weight = @wk} ...
    %v = llm.linear %x {weight = @wv} ...
    // ==>
    llm.weight_concat @wq.qkv {parts = [@wq, @wk, @wv], axis = 0 : i64}
    %qkv = llm.linear %x {weight = @wq.qkv} ...
    %q, %k, %v = llm.split %qkv {sizes = array<i64: 64, 32, 32>} ...
    ```
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def FuseRopeAttention : Pass<"llmc-fuse-rope-attention", "mlir::ModuleOp"> {
  let summary = "Fuse split(qkv) + rope(q), rope(k) + attention into llm.qkv_attention";
  let description = [{
    Matches `llm.attention` whose q, k, v are results 0, 1, 2 of one `llm.split`, with q and k
    passed through `llm.rope` ops with identical rotary attributes and the attention's head_dim.

    ```mlir
    %q, %k, %v = llm.split %qkv ...
    %qr = llm.rope %q {...}   %kr = llm.rope %k {...}
    %o = llm.attention %qr, %kr, %v {...}
    // ==>
    %o = llm.qkv_attention %qkv {..., rotary_dim = ..., inv_freq = ...}
    ```
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def FuseGateUp : Pass<"llmc-fuse-gate-up", "mlir::ModuleOp"> {
  let summary = "Fuse act(linear_g(x)) * linear_u(x) into llm.glu over one linear";
  let description = [{
    `llm.mul(act(linear_g(x)), linear_u(x))` with `act` = `llm.silu`, `llm.gelu` (tanh) or
    `llm.gelu` (exact) becomes `llm.glu {activation = silu | gelu_tanh | gelu}` of one linear over
    `llm.weight_concat [gate, up]`.

    ```mlir
    %g = llm.linear %x {weight = @wg} ...   %u = llm.linear %x {weight = @wu} ...
    %a = llm.silu %g ...                    %h = llm.mul %a, %u ...
    // ==>
    llm.weight_concat @wg.gate_up {parts = [@wg, @wu], axis = 0 : i64}
    %gu = llm.linear %x {weight = @wg.gate_up} ...
    %h = llm.glu %gu {activation = "silu"} ...
    ```
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def FuseAddRMSNorm : Pass<"llmc-fuse-add-rmsnorm", "mlir::ModuleOp"> {
  let summary = "Fuse a residual add and the rms_norm that reads it into llm.add_rms_norm";
  let description = [{
    `rms_norm(add(a, b))` where the sum is also used elsewhere (the residual stream) becomes
    `%sum, %y = llm.add_rms_norm %a, %b`.

    ```mlir
    %s = llm.add %a, %b ...   %y = llm.rms_norm %s {...} ...   ... uses of %s ...
    // ==>
    %s, %y = llm.add_rms_norm %a, %b {...} ...
    ```
  }];
  let dependentDialects = ["::llmc::llm::LLMDialect"];
}

def PlanMemory : Pass<"llmc-plan-memory", "mlir::func::FuncOp"> {
  let summary = "Assign activation arena offsets (f32 elements per token) by liveness";
  let description = [{
    Every op result in the function (arguments, i.e. the token ids, are excluded) gets an offset
    in the activation arena, in f32 elements per token: a value of width W at offset O occupies
    `[O*T, (O+W)*T)`. Values are placed in definition order, first fit, among the values live at
    their definition; a value is live from its defining op to its last use (the return included).
    Sets `llm.offset = array<i64: ...>` (one per result) on each op and `llm.arena_per_token` on
    the function.

    ```mlir
    %x = llm.embedding %ids {weight = @e, llm.offset = array<i64: 0>} ...
    func.func @forward(...) attributes {llm.arena_per_token = 192 : i64}
    ```
  }];
}

// ONNX raising passes (owner: onnx).
include "llmc/Passes/Raising/RaisingPasses.td"

#endif // LLMC_PASSES_PASSES_TD
