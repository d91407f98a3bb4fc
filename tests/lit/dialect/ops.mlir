// Round trip of every llm op: custom form -> custom form, and through the generic form.
// RUN: llmc-opt %s | llmc-opt | FileCheck %s
// RUN: llmc-opt %s --mlir-print-op-generic | llmc-opt | FileCheck %s

// CHECK-LABEL: module
// CHECK: llm.weight @emb {dtype = "f32", shape = array<i64: 100, 64>, source = "model.embed_tokens.weight"}
llm.weight @emb {source = "model.embed_tokens.weight", shape = array<i64: 100, 64>, dtype = "f32"}
llm.weight @wpe {source = "wpe", shape = array<i64: 128, 64>, dtype = "bf16"}
llm.weight @norm {source = "norm", shape = array<i64: 64>, dtype = "f32"}
llm.weight @ln_b {source = "ln_b", shape = array<i64: 64>, dtype = "f32"}
llm.weight @wq {source = "q", shape = array<i64: 64, 64>, dtype = "f16"}
llm.weight @wk {source = "k", shape = array<i64: 32, 64>, dtype = "f16"}
llm.weight @wv {source = "v", shape = array<i64: 32, 64>, dtype = "f16"}
llm.weight @bq {source = "bq", shape = array<i64: 64>, dtype = "f32"}
llm.weight @conv {source = "c_attn", shape = array<i64: 64, 128>, dtype = "f32"}
// CHECK: llm.weight_concat @qkv {axis = 0 : i64, parts = [@wq, @wk, @wv]}
llm.weight_concat @qkv {parts = [@wq, @wk, @wv], axis = 0 : i64}
// CHECK: llm.weight_transpose @conv_t {input = @conv}
llm.weight_transpose @conv_t {input = @conv}

// CHECK-LABEL: func.func @forward
func.func @forward(%ids: tensor<?xi32>) -> tensor<1x64xf32> {
  // CHECK: llm.embedding %{{.*}} {scale = 8.000000e+00 : f32, weight = @emb} : tensor<?xi32> -> tensor<?x64xf32>
  %x = llm.embedding %ids {weight = @emb, scale = 8.0 : f32} : tensor<?xi32> -> tensor<?x64xf32>
  // CHECK: llm.embedding %{{.*}} {weight = @emb} : tensor<?xi32> -> tensor<?x64xf32>
  %x1 = llm.embedding %ids {weight = @emb} : tensor<?xi32> -> tensor<?x64xf32>
  // CHECK: llm.position_embedding %{{.*}} {weight = @wpe} : tensor<?x64xf32>
  %p = llm.position_embedding %x {weight = @wpe} : tensor<?x64xf32>
  // CHECK: llm.rms_norm %{{.*}} {eps = 9.99999974E-6 : f32, unit_offset = true, weight = @norm} : tensor<?x64xf32>
  %n = llm.rms_norm %p {weight = @norm, eps = 1.0e-5 : f32, unit_offset = true} : tensor<?x64xf32>
  // CHECK: llm.layer_norm %{{.*}} {bias = @ln_b, eps = 9.99999974E-6 : f32, weight = @norm} : tensor<?x64xf32>
  %ln = llm.layer_norm %n {weight = @norm, bias = @ln_b, eps = 1.0e-5 : f32} : tensor<?x64xf32>
  // CHECK: llm.layer_norm %{{.*}} {eps = 9.99999974E-6 : f32, weight = @norm} : tensor<?x64xf32>
  %ln2 = llm.layer_norm %ln {weight = @norm, eps = 1.0e-5 : f32} : tensor<?x64xf32>
  // CHECK: %sum, %output = llm.add_rms_norm %{{.*}}, %{{.*}} {eps = 9.99999974E-6 : f32, weight = @norm} : tensor<?x64xf32>
  %s, %y = llm.add_rms_norm %ln2, %x1 {weight = @norm, eps = 1.0e-5 : f32} : tensor<?x64xf32>
  // CHECK: llm.linear %{{.*}} {bias = @bq, weight = @wq} : tensor<?x64xf32> -> tensor<?x64xf32>
  %q = llm.linear %y {weight = @wq, bias = @bq} : tensor<?x64xf32> -> tensor<?x64xf32>
  // CHECK: llm.linear %{{.*}} {weight = @qkv} : tensor<?x64xf32> -> tensor<?x128xf32>
  %qkv = llm.linear %y {weight = @qkv} : tensor<?x64xf32> -> tensor<?x128xf32>
  // CHECK: llm.linear %{{.*}} {weight = @conv_t} : tensor<?x64xf32> -> tensor<?x128xf32>
  %qkv2 = llm.linear %y {weight = @conv_t} : tensor<?x64xf32> -> tensor<?x128xf32>
  // CHECK: %{{.*}}:3 = llm.split %{{.*}} {sizes = array<i64: 64, 32, 32>} : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
  %sq, %sk, %sv = llm.split %qkv {sizes = array<i64: 64, 32, 32>} : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
  // CHECK: llm.rope %{{.*}} {head_dim = 16 : i64, interleaved = true, inv_freq = array<f32: 1.000000e+00, 5.000000e-01>, rotary_dim = 4 : i64} : tensor<?x64xf32>
  %qr = llm.rope %sq {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>, interleaved = true} : tensor<?x64xf32>
  %kr = llm.rope %sk {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>, interleaved = true} : tensor<?x32xf32>
  // CHECK: llm.attention %{{.*}}, %{{.*}}, %{{.*}} {head_dim = 16 : i64, layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f32, sliding_window = 8 : i64} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  %a = llm.attention %qr, %kr, %sv {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32, sliding_window = 8 : i64} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  // CHECK: llm.qkv_attention %{{.*}} {head_dim = 16 : i64, inv_freq = array<f32: 1.000000e+00, 5.000000e-01>, layer = 1 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, rotary_dim = 4 : i64, scale = 2.500000e-01 : f32} : tensor<?x128xf32> -> tensor<?x64xf32>
  %b = llm.qkv_attention %qkv2 {layer = 1 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>} : tensor<?x128xf32> -> tensor<?x64xf32>
  // CHECK: llm.silu %{{.*}} : tensor<?x64xf32>
  %si = llm.silu %a : tensor<?x64xf32>
  // CHECK: llm.gelu %{{.*}} : tensor<?x64xf32>
  %g0 = llm.gelu %b : tensor<?x64xf32>
  // CHECK: llm.gelu %{{.*}} {approximate = "tanh"} : tensor<?x64xf32>
  %g1 = llm.gelu %g0 {approximate = "tanh"} : tensor<?x64xf32>
  // CHECK: llm.add %{{.*}}, %{{.*}} : tensor<?x64xf32>
  %ad = llm.add %si, %g1 : tensor<?x64xf32>
  // CHECK: llm.mul %{{.*}}, %{{.*}} : tensor<?x64xf32>
  %mu = llm.mul %ad, %s : tensor<?x64xf32>
  // CHECK: llm.glu %{{.*}} {activation = "gelu_tanh"} : tensor<?x128xf32> -> tensor<?x64xf32>
  %gl = llm.glu %qkv2 {activation = "gelu_tanh"} : tensor<?x128xf32> -> tensor<?x64xf32>
  %sum = llm.add %mu, %gl : tensor<?x64xf32>
  // CHECK: llm.last_token %{{.*}} : tensor<?x64xf32> -> tensor<1x64xf32>
  %l = llm.last_token %sum : tensor<?x64xf32> -> tensor<1x64xf32>
  return %l : tensor<1x64xf32>
}
