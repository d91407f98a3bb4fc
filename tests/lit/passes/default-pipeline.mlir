// The default pipeline on a 2-layer tiny Llama (hidden 64, 4 heads of 16, 2 kv heads,
// intermediate 128, vocab 100), written as the HF importer writes it.
// RUN: llmc-opt %s --llmc-default | FileCheck %s
// RUN: llmc-opt %s --pass-pipeline='builtin.module(llmc-default)' | FileCheck %s
// The memory plan is checked by an independent invariant checker (no overlap of live values).
// RUN: llmc-opt %s --llmc-default --mlir-print-op-generic | python3 %S/Inputs/check_plan.py | FileCheck %s --check-prefix=PLAN
// PLAN: PLAN OK values=24 arena=

// Derived weights sit right after their last part.
// CHECK: llm.weight @l0.wv
// CHECK-NEXT: llm.weight_concat @l0.wq.qkv {axis = 0 : i64, parts = [@l0.wq, @l0.wk, @l0.wv]}
// CHECK: llm.weight @l0.wu
// CHECK-NEXT: llm.weight_concat @l0.wg.gate_up {axis = 0 : i64, parts = [@l0.wg, @l0.wu]}
// CHECK: llm.weight_concat @l1.wq.qkv {axis = 0 : i64, parts = [@l1.wq, @l1.wk, @l1.wv]}
// CHECK: llm.weight_concat @l1.wg.gate_up {axis = 0 : i64, parts = [@l1.wg, @l1.wu]}

// CHECK-LABEL: func.func @forward
// CHECK-SAME: attributes {llm.arena_per_token = {{[0-9]+}} : i64}
// CHECK-NEXT: %[[H0:.*]] = llm.embedding
// Layer 0: the first norm reads the embedding (no add to fuse).
// CHECK-NEXT: %[[N0:.*]] = llm.rms_norm %[[H0]] {{.*}}weight = @l0.in_norm
// CHECK-NEXT: %[[QKV0:.*]] = llm.linear %[[N0]] {{.*}}weight = @l0.wq.qkv} : tensor<?x64xf32> -> tensor<?x128xf32>
// CHECK-NEXT: %[[A0:.*]] = llm.qkv_attention %[[QKV0]] {head_dim = 16 : i64, inv_freq = array<f32: {{.*}}>, layer = 0 : i64, {{.*}}num_heads = 4 : i64, num_kv_heads = 2 : i64, rotary_dim = 16 : i64, scale = 2.500000e-01 : f32}
// CHECK-NEXT: %[[O0:.*]] = llm.linear %[[A0]] {{.*}}weight = @l0.wo}
// CHECK-NEXT: %[[R0:.*]], %[[M0:.*]] = llm.add_rms_norm %[[H0]], %[[O0]] {{.*}}weight = @l0.post_norm}
// CHECK-NEXT: %[[GU0:.*]] = llm.linear %[[M0]] {{.*}}weight = @l0.wg.gate_up} : tensor<?x64xf32> -> tensor<?x256xf32>
// CHECK-NEXT: %[[P0:.*]] = llm.glu %[[GU0]] {activation = "silu"{{.*}}} : tensor<?x256xf32> -> tensor<?x128xf32>
// CHECK-NEXT: %[[D0:.*]] = llm.linear %[[P0]] {{.*}}weight = @l0.wd}
// Layer 1: its input norm fuses with layer 0's last residual add.
// CHECK-NEXT: %[[H1:.*]], %[[N1:.*]] = llm.add_rms_norm %[[R0]], %[[D0]] {{.*}}weight = @l1.in_norm}
// CHECK-NEXT: %[[QKV1:.*]] = llm.linear %[[N1]] {{.*}}weight = @l1.wq.qkv}
// CHECK-NEXT: %[[A1:.*]] = llm.qkv_attention %[[QKV1]] {{.*}}layer = 1 : i64
// CHECK-NEXT: %[[O1:.*]] = llm.linear %[[A1]]
// CHECK-NEXT: %[[R1:.*]], %[[M1:.*]] = llm.add_rms_norm %[[H1]], %[[O1]] {{.*}}weight = @l1.post_norm}
// CHECK-NEXT: %[[GU1:.*]] = llm.linear %[[M1]] {{.*}}weight = @l1.wg.gate_up}
// CHECK-NEXT: %[[P1:.*]] = llm.glu %[[GU1]] {activation = "silu"
// CHECK-NEXT: %[[D1:.*]] = llm.linear %[[P1]]
// The final norm is the last sum's only reader: not fused.
// CHECK-NEXT: %[[H2:.*]] = llm.add %[[R1]], %[[D1]]
// CHECK-NEXT: %[[F:.*]] = llm.rms_norm %[[H2]] {{.*}}weight = @norm}
// CHECK-NEXT: %[[L:.*]] = llm.last_token %[[F]]
// CHECK-NEXT: %[[LOGITS:.*]] = llm.linear %[[L]] {{.*}}weight = @lm_head} : tensor<1x64xf32> -> tensor<1x100xf32>
// CHECK-NEXT: return %[[LOGITS]]
llm.weight @embed {source = "model.embed_tokens.weight", shape = array<i64: 100, 64>, dtype = "f32"}
llm.weight @l0.in_norm {source = "model.layers.0.input_layernorm.weight", shape = array<i64: 64>, dtype = "f32"}
llm.weight @l0.wq {source = "model.layers.0.self_attn.q_proj.weight", shape = array<i64: 64, 64>, dtype = "f32"}
llm.weight @l0.wk {source = "model.layers.0.self_attn.k_proj.weight", shape = array<i64: 32, 64>, dtype = "f32"}
llm.weight @l0.wv {source = "model.layers.0.self_attn.v_proj.weight", shape = array<i64: 32, 64>, dtype = "f32"}
llm.weight @l0.wo {source = "model.layers.0.self_attn.o_proj.weight", shape = array<i64: 64, 64>, dtype = "f32"}
llm.weight @l0.post_norm {source = "model.layers.0.post_attention_layernorm.weight", shape = array<i64: 64>, dtype = "f32"}
llm.weight @l0.wg {source = "model.layers.0.mlp.gate_proj.weight", shape = array<i64: 128, 64>, dtype = "f32"}
llm.weight @l0.wu {source = "model.layers.0.mlp.up_proj.weight", shape = array<i64: 128, 64>, dtype = "f32"}
llm.weight @l0.wd {source = "model.layers.0.mlp.down_proj.weight", shape = array<i64: 64, 128>, dtype = "f32"}
llm.weight @l1.in_norm {source = "model.layers.1.input_layernorm.weight", shape = array<i64: 64>, dtype = "f32"}
llm.weight @l1.wq {source = "model.layers.1.self_attn.q_proj.weight", shape = array<i64: 64, 64>, dtype = "f32"}
llm.weight @l1.wk {source = "model.layers.1.self_attn.k_proj.weight", shape = array<i64: 32, 64>, dtype = "f32"}
llm.weight @l1.wv {source = "model.layers.1.self_attn.v_proj.weight", shape = array<i64: 32, 64>, dtype = "f32"}
llm.weight @l1.wo {source = "model.layers.1.self_attn.o_proj.weight", shape = array<i64: 64, 64>, dtype = "f32"}
llm.weight @l1.post_norm {source = "model.layers.1.post_attention_layernorm.weight", shape = array<i64: 64>, dtype = "f32"}
llm.weight @l1.wg {source = "model.layers.1.mlp.gate_proj.weight", shape = array<i64: 128, 64>, dtype = "f32"}
llm.weight @l1.wu {source = "model.layers.1.mlp.up_proj.weight", shape = array<i64: 128, 64>, dtype = "f32"}
llm.weight @l1.wd {source = "model.layers.1.mlp.down_proj.weight", shape = array<i64: 64, 128>, dtype = "f32"}
llm.weight @norm {source = "model.norm.weight", shape = array<i64: 64>, dtype = "f32"}
llm.weight @lm_head {source = "lm_head.weight", shape = array<i64: 100, 64>, dtype = "f32"}
func.func @forward(%ids: tensor<?xi32>) -> tensor<1x100xf32> {
  %h0 = llm.embedding %ids {weight = @embed} : tensor<?xi32> -> tensor<?x64xf32>
  // layer 0
  %n0 = llm.rms_norm %h0 {weight = @l0.in_norm, eps = 1.0e-5 : f32} : tensor<?x64xf32>
  %q0 = llm.linear %n0 {weight = @l0.wq} : tensor<?x64xf32> -> tensor<?x64xf32>
  %k0 = llm.linear %n0 {weight = @l0.wk} : tensor<?x64xf32> -> tensor<?x32xf32>
  %v0 = llm.linear %n0 {weight = @l0.wv} : tensor<?x64xf32> -> tensor<?x32xf32>
  %qr0 = llm.rope %q0 {head_dim = 16 : i64, rotary_dim = 16 : i64, inv_freq = array<f32: 1.0, 0.316227764, 0.1, 0.0316227764, 0.01, 0.00316227764, 0.001, 0.000316227764>} : tensor<?x64xf32>
  %kr0 = llm.rope %k0 {head_dim = 16 : i64, rotary_dim = 16 : i64, inv_freq = array<f32: 1.0, 0.316227764, 0.1, 0.0316227764, 0.01, 0.00316227764, 0.001, 0.000316227764>} : tensor<?x32xf32>
  %a0 = llm.attention %qr0, %kr0, %v0 {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  %o0 = llm.linear %a0 {weight = @l0.wo} : tensor<?x64xf32> -> tensor<?x64xf32>
  %r0 = llm.add %h0, %o0 : tensor<?x64xf32>
  %m0 = llm.rms_norm %r0 {weight = @l0.post_norm, eps = 1.0e-5 : f32} : tensor<?x64xf32>
  %g0 = llm.linear %m0 {weight = @l0.wg} : tensor<?x64xf32> -> tensor<?x128xf32>
  %u0 = llm.linear %m0 {weight = @l0.wu} : tensor<?x64xf32> -> tensor<?x128xf32>
  %s0 = llm.silu %g0 : tensor<?x128xf32>
  %p0 = llm.mul %s0, %u0 : tensor<?x128xf32>
  %d0 = llm.linear %p0 {weight = @l0.wd} : tensor<?x128xf32> -> tensor<?x64xf32>
  %h1 = llm.add %r0, %d0 : tensor<?x64xf32>
  // layer 1
  %n1 = llm.rms_norm %h1 {weight = @l1.in_norm, eps = 1.0e-5 : f32} : tensor<?x64xf32>
  %q1 = llm.linear %n1 {weight = @l1.wq} : tensor<?x64xf32> -> tensor<?x64xf32>
  %k1 = llm.linear %n1 {weight = @l1.wk} : tensor<?x64xf32> -> tensor<?x32xf32>
  %v1 = llm.linear %n1 {weight = @l1.wv} : tensor<?x64xf32> -> tensor<?x32xf32>
  %qr1 = llm.rope %q1 {head_dim = 16 : i64, rotary_dim = 16 : i64, inv_freq = array<f32: 1.0, 0.316227764, 0.1, 0.0316227764, 0.01, 0.00316227764, 0.001, 0.000316227764>} : tensor<?x64xf32>
  %kr1 = llm.rope %k1 {head_dim = 16 : i64, rotary_dim = 16 : i64, inv_freq = array<f32: 1.0, 0.316227764, 0.1, 0.0316227764, 0.01, 0.00316227764, 0.001, 0.000316227764>} : tensor<?x32xf32>
  %a1 = llm.attention %qr1, %kr1, %v1 {layer = 1 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  %o1 = llm.linear %a1 {weight = @l1.wo} : tensor<?x64xf32> -> tensor<?x64xf32>
  %r1 = llm.add %h1, %o1 : tensor<?x64xf32>
  %m1 = llm.rms_norm %r1 {weight = @l1.post_norm, eps = 1.0e-5 : f32} : tensor<?x64xf32>
  %g1 = llm.linear %m1 {weight = @l1.wg} : tensor<?x64xf32> -> tensor<?x128xf32>
  %u1 = llm.linear %m1 {weight = @l1.wu} : tensor<?x64xf32> -> tensor<?x128xf32>
  %s1 = llm.silu %g1 : tensor<?x128xf32>
  %p1 = llm.mul %s1, %u1 : tensor<?x128xf32>
  %d1 = llm.linear %p1 {weight = @l1.wd} : tensor<?x128xf32> -> tensor<?x64xf32>
  %h2 = llm.add %r1, %d1 : tensor<?x64xf32>
  %f = llm.rms_norm %h2 {weight = @norm, eps = 1.0e-5 : f32} : tensor<?x64xf32>
  %last = llm.last_token %f : tensor<?x64xf32> -> tensor<1x64xf32>
  %logits = llm.linear %last {weight = @lm_head} : tensor<1x64xf32> -> tensor<1x100xf32>
  return %logits : tensor<1x100xf32>
}
