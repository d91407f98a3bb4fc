// RUN: llmc-opt %s --llmc-raise-attention | FileCheck %s

// q: 2 heads of 4 from [T, 8]; k, v: 1 kv head from [T, 4], repeated to 2 heads (repeat_kv).
// The causal mask's window goes to the op; layers are numbered in program order.
// CHECK-LABEL: func.func @gqa
// CHECK: %[[A:.*]] = llm.attention %arg0, %arg1, %arg2 {head_dim = 4 : i64, layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.000000e-01 : f32, sliding_window = 3 : i64} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x8xf32>
// CHECK: %[[R:.*]] = llm.reshape %[[A]] : tensor<?x8xf32> -> tensor<1x?x2x4xf32>
// CHECK: %[[O:.*]] = llm.transpose %[[R]] {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x4xf32> -> tensor<1x2x?x4xf32>
// CHECK: llm.attention {{.*}} layer = 1 : i64
func.func @gqa(%a: tensor<?x8xf32>, %bk: tensor<?x4xf32>, %bv: tensor<?x4xf32>) -> (tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>) {
  %q0 = llm.reshape %a : tensor<?x8xf32> -> tensor<1x?x2x4xf32>
  %q = llm.transpose %q0 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x4xf32> -> tensor<1x2x?x4xf32>
  %k0 = llm.reshape %bk : tensor<?x4xf32> -> tensor<1x?x1x4xf32>
  %k1 = llm.transpose %k0 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x1x4xf32> -> tensor<1x1x?x4xf32>
  %k2 = llm.reshape %k1 : tensor<1x1x?x4xf32> -> tensor<1x1x1x?x4xf32>
  %k3 = llm.expand %k2 : tensor<1x1x1x?x4xf32> -> tensor<1x1x2x?x4xf32>
  %k = llm.reshape %k3 : tensor<1x1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  %v0 = llm.reshape %bv : tensor<?x4xf32> -> tensor<1x?x1x4xf32>
  %v1 = llm.transpose %v0 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x1x4xf32> -> tensor<1x1x?x4xf32>
  %v2 = llm.reshape %v1 : tensor<1x1x?x4xf32> -> tensor<1x1x1x?x4xf32>
  %v3 = llm.expand %v2 : tensor<1x1x1x?x4xf32> -> tensor<1x1x2x?x4xf32>
  %v = llm.reshape %v3 : tensor<1x1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  %m = llm.causal_mask {masked_value = 0xFF800000 : f32, sliding_window = 3 : i64} : tensor<1x1x?x?xf32>
  %o = llm.sdpa %q, %k, %v, %m {scale = 0.5 : f32} : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x1x?x?xf32> -> tensor<1x2x?x4xf32>
  %o2 = llm.sdpa %q, %q, %q {scale = 0.5 : f32, is_causal = true} : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  return %o, %o2 : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>
}

// Refused: no causal mask; a bidirectional (non-causal) boolean mask; q not a head view.
// CHECK-LABEL: func.func @refused
// CHECK-NOT: llm.attention
func.func @refused(%a: tensor<?x8xf32>, %mask: tensor<1x1x?x?xi1>) -> (tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>) {
  %q0 = llm.reshape %a : tensor<?x8xf32> -> tensor<1x?x2x4xf32>
  %q = llm.transpose %q0 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x4xf32> -> tensor<1x2x?x4xf32>
  %o1 = llm.sdpa %q, %q, %q {scale = 0.5 : f32} : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  %o2 = llm.sdpa %q, %q, %q, %mask {scale = 0.5 : f32} : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x1x?x?xi1> -> tensor<1x2x?x4xf32>
  %w = llm.reshape %a : tensor<?x8xf32> -> tensor<1x2x?x4xf32>
  %o3 = llm.sdpa %w, %w, %w {scale = 0.5 : f32, is_causal = true} : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  return %o1, %o2, %o3 : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>
}
