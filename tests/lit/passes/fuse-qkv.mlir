// RUN: llmc-opt %s -split-input-file --llmc-fuse-qkv | FileCheck %s

// Llama-style: q and k through rope, no biases.
// CHECK-LABEL: module
// CHECK: llm.weight @wv
// CHECK-NEXT: llm.weight_concat @wq.qkv {axis = 0 : i64, parts = [@wq, @wk, @wv]}
// CHECK-LABEL: func.func @llama
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
// CHECK-NEXT: %[[QKV:.*]] = llm.linear %[[X]] {weight = @wq.qkv} : tensor<?x64xf32> -> tensor<?x128xf32>
// CHECK-NEXT: %[[S:.*]]:3 = llm.split %[[QKV]] {sizes = array<i64: 64, 32, 32>} : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
// CHECK-NEXT: %[[QR:.*]] = llm.rope %[[S]]#0
// CHECK-NEXT: %[[KR:.*]] = llm.rope %[[S]]#1
// CHECK-NEXT: llm.attention %[[QR]], %[[KR]], %[[S]]#2
// CHECK-NOT: llm.linear
llm.weight @wq {source = "q", shape = array<i64: 64, 64>, dtype = "f32"}
llm.weight @wk {source = "k", shape = array<i64: 32, 64>, dtype = "f32"}
llm.weight @wv {source = "v", shape = array<i64: 32, 64>, dtype = "f32"}
func.func @llama(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %q = llm.linear %x {weight = @wq} : tensor<?x64xf32> -> tensor<?x64xf32>
  %k = llm.linear %x {weight = @wk} : tensor<?x64xf32> -> tensor<?x32xf32>
  %v = llm.linear %x {weight = @wv} : tensor<?x64xf32> -> tensor<?x32xf32>
  %qr = llm.rope %q {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>} : tensor<?x64xf32>
  %kr = llm.rope %k {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>} : tensor<?x32xf32>
  %o = llm.attention %qr, %kr, %v {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return %o : tensor<?x64xf32>
}

// -----

// Qwen2-style: all three have biases, which are concatenated too. The projections are in
// v, q, k order and k has another user: the fused linear goes first and k's other user reads
// the split.
// CHECK-LABEL: module
// CHECK: llm.weight_concat @wq.qkv {axis = 0 : i64, parts = [@wq, @wk, @wv]}
// CHECK: llm.weight_concat @bq.qkv {axis = 0 : i64, parts = [@bq, @bk, @bv]}
// CHECK-LABEL: func.func @biased
// CHECK-NEXT: %[[QKV:.*]] = llm.linear %{{.*}} {bias = @bq.qkv, weight = @wq.qkv} : tensor<?x64xf32> -> tensor<?x128xf32>
// CHECK-NEXT: %[[S:.*]]:3 = llm.split %[[QKV]] {sizes = array<i64: 64, 32, 32>}
// CHECK: llm.attention %{{.*}}, %{{.*}}, %[[S]]#2
// CHECK: return %{{.*}}, %[[S]]#1
llm.weight @wq {source = "q", shape = array<i64: 64, 64>, dtype = "f32"}
llm.weight @wk {source = "k", shape = array<i64: 32, 64>, dtype = "f32"}
llm.weight @wv {source = "v", shape = array<i64: 32, 64>, dtype = "f32"}
llm.weight @bq {source = "bq", shape = array<i64: 64>, dtype = "f32"}
llm.weight @bk {source = "bk", shape = array<i64: 32>, dtype = "f32"}
llm.weight @bv {source = "bv", shape = array<i64: 32>, dtype = "f32"}
func.func @biased(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x32xf32>) {
  %v = llm.linear %x {weight = @wv, bias = @bv} : tensor<?x64xf32> -> tensor<?x32xf32>
  %q = llm.linear %x {weight = @wq, bias = @bq} : tensor<?x64xf32> -> tensor<?x64xf32>
  %k = llm.linear %x {weight = @wk, bias = @bk} : tensor<?x64xf32> -> tensor<?x32xf32>
  %qr = llm.rope %q {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>} : tensor<?x64xf32>
  %kr = llm.rope %k {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>} : tensor<?x32xf32>
  %o = llm.attention %qr, %kr, %v {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return %o, %k : tensor<?x64xf32>, tensor<?x32xf32>
}

// -----

// No rope (GPT-2-like after weight_transpose); the name @wq.qkv is taken, so _1 is used.
// CHECK-LABEL: module
// CHECK: llm.weight_concat @wq.qkv_1 {axis = 0 : i64, parts = [@wq, @wk, @wv]}
// CHECK-LABEL: func.func @norope
// CHECK-NEXT: llm.linear %{{.*}} {weight = @wq.qkv_1} : tensor<?x64xf32> -> tensor<?x192xf32>
// CHECK-NEXT: %[[S:.*]]:3 = llm.split
// CHECK-NEXT: llm.attention %[[S]]#0, %[[S]]#1, %[[S]]#2
llm.weight @wq.qkv {source = "unrelated", shape = array<i64: 4>, dtype = "f32"}
llm.weight @c {source = "c", shape = array<i64: 64, 64>, dtype = "f32"}
llm.weight_transpose @wq {input = @c}
llm.weight @wk {source = "k", shape = array<i64: 64, 64>, dtype = "f32"}
llm.weight @wv {source = "v", shape = array<i64: 64, 64>, dtype = "f32"}
func.func @norope(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %q = llm.linear %x {weight = @wq} : tensor<?x64xf32> -> tensor<?x64xf32>
  %k = llm.linear %x {weight = @wk} : tensor<?x64xf32> -> tensor<?x64xf32>
  %v = llm.linear %x {weight = @wv} : tensor<?x64xf32> -> tensor<?x64xf32>
  %o = llm.attention %q, %k, %v {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32> -> tensor<?x64xf32>
  return %o : tensor<?x64xf32>
}

// -----

// Refused: only q has a bias.
// CHECK-LABEL: func.func @partial_bias
// CHECK-COUNT-3: llm.linear
// CHECK-NOT: llm.split
// CHECK: llm.attention
llm.weight @wq {source = "q", shape = array<i64: 64, 64>, dtype = "f32"}
llm.weight @wk {source = "k", shape = array<i64: 32, 64>, dtype = "f32"}
llm.weight @wv {source = "v", shape = array<i64: 32, 64>, dtype = "f32"}
llm.weight @bq {source = "bq", shape = array<i64: 64>, dtype = "f32"}
func.func @partial_bias(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %q = llm.linear %x {weight = @wq, bias = @bq} : tensor<?x64xf32> -> tensor<?x64xf32>
  %k = llm.linear %x {weight = @wk} : tensor<?x64xf32> -> tensor<?x32xf32>
  %v = llm.linear %x {weight = @wv} : tensor<?x64xf32> -> tensor<?x32xf32>
  %o = llm.attention %q, %k, %v {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return %o : tensor<?x64xf32>
}

// -----

// Refused: the projections read different inputs (cross-attention-like).
// CHECK-LABEL: func.func @different_inputs
// CHECK-COUNT-3: llm.linear
// CHECK-NOT: llm.split
// CHECK: llm.attention
llm.weight @wq {source = "q", shape = array<i64: 64, 64>, dtype = "f32"}
llm.weight @wk {source = "k", shape = array<i64: 32, 64>, dtype = "f32"}
llm.weight @wv {source = "v", shape = array<i64: 32, 64>, dtype = "f32"}
func.func @different_inputs(%x: tensor<?x64xf32>, %y: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %q = llm.linear %x {weight = @wq} : tensor<?x64xf32> -> tensor<?x64xf32>
  %k = llm.linear %y {weight = @wk} : tensor<?x64xf32> -> tensor<?x32xf32>
  %v = llm.linear %y {weight = @wv} : tensor<?x64xf32> -> tensor<?x32xf32>
  %o = llm.attention %q, %k, %v {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return %o : tensor<?x64xf32>
}

// -----

// Refused: weights of different engine dtypes cannot be one concatenation.
// CHECK-LABEL: func.func @mixed_dtypes
// CHECK-COUNT-3: llm.linear
// CHECK-NOT: llm.split
// CHECK: llm.attention
llm.weight @wq {source = "q", shape = array<i64: 64, 64>, dtype = "f32"}
llm.weight @wk {source = "k", shape = array<i64: 32, 64>, dtype = "bf16"}
llm.weight @wv {source = "v", shape = array<i64: 32, 64>, dtype = "f32"}
func.func @mixed_dtypes(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %q = llm.linear %x {weight = @wq} : tensor<?x64xf32> -> tensor<?x64xf32>
  %k = llm.linear %x {weight = @wk} : tensor<?x64xf32> -> tensor<?x32xf32>
  %v = llm.linear %x {weight = @wv} : tensor<?x64xf32> -> tensor<?x32xf32>
  %o = llm.attention %q, %k, %v {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return %o : tensor<?x64xf32>
}

// -----

// Refused: q, k and v are one shared projection.
// CHECK-LABEL: func.func @not_projections
// CHECK-NEXT: %[[Q:.*]] = llm.linear
// CHECK-NEXT: llm.attention %[[Q]], %[[Q]], %[[Q]]
llm.weight @wq {source = "q", shape = array<i64: 64, 64>, dtype = "f32"}
func.func @not_projections(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %q = llm.linear %x {weight = @wq} : tensor<?x64xf32> -> tensor<?x64xf32>
  %o = llm.attention %q, %q, %q {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32> -> tensor<?x64xf32>
  return %o : tensor<?x64xf32>
}
