// RUN: llmc-opt %s -split-input-file --llmc-fuse-rope-attention | FileCheck %s

// CHECK-LABEL: func.func @fused
// CHECK-SAME: (%[[QKV:.*]]: tensor<?x128xf32>)
// CHECK-NEXT: %[[O:.*]] = llm.qkv_attention %[[QKV]] {head_dim = 16 : i64, interleaved = true, inv_freq = array<f32: 1.000000e+00, 5.000000e-01>, layer = 3 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, rotary_dim = 4 : i64, scale = 2.500000e-01 : f32, sliding_window = 32 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>
// CHECK-NEXT: return %[[O]]
func.func @fused(%qkv: tensor<?x128xf32>) -> tensor<?x64xf32> {
  %q, %k, %v = llm.split %qkv {sizes = array<i64: 64, 32, 32>} : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
  %qr = llm.rope %q {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>, interleaved = true} : tensor<?x64xf32>
  %kr = llm.rope %k {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>, interleaved = true} : tensor<?x32xf32>
  %o = llm.attention %qr, %kr, %v {layer = 3 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32, sliding_window = 32 : i64} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return %o : tensor<?x64xf32>
}

// -----

// Refused: q and k ropes differ (inv_freq).
// CHECK-LABEL: func.func @different_ropes
// CHECK-NOT: llm.qkv_attention
// CHECK: llm.attention
func.func @different_ropes(%qkv: tensor<?x128xf32>) -> tensor<?x64xf32> {
  %q, %k, %v = llm.split %qkv {sizes = array<i64: 64, 32, 32>} : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
  %qr = llm.rope %q {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>} : tensor<?x64xf32>
  %kr = llm.rope %k {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.25>} : tensor<?x32xf32>
  %o = llm.attention %qr, %kr, %v {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return %o : tensor<?x64xf32>
}

// -----

// Refused: q and k ropes differ (interleaved).
// CHECK-LABEL: func.func @different_layout
// CHECK-NOT: llm.qkv_attention
// CHECK: llm.attention
func.func @different_layout(%qkv: tensor<?x128xf32>) -> tensor<?x64xf32> {
  %q, %k, %v = llm.split %qkv {sizes = array<i64: 64, 32, 32>} : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
  %qr = llm.rope %q {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>, interleaved = true} : tensor<?x64xf32>
  %kr = llm.rope %k {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>} : tensor<?x32xf32>
  %o = llm.attention %qr, %kr, %v {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return %o : tensor<?x64xf32>
}

// -----

// Refused: no rope on q and k (qkv_attention always rotates).
// CHECK-LABEL: func.func @no_rope
// CHECK-NOT: llm.qkv_attention
// CHECK: llm.attention
func.func @no_rope(%qkv: tensor<?x128xf32>) -> tensor<?x64xf32> {
  %q, %k, %v = llm.split %qkv {sizes = array<i64: 64, 32, 32>} : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
  %o = llm.attention %q, %k, %v {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return %o : tensor<?x64xf32>
}

// -----

// Refused: q, k, v come from two different splits.
// CHECK-LABEL: func.func @two_splits
// CHECK-NOT: llm.qkv_attention
// CHECK: llm.attention
func.func @two_splits(%a: tensor<?x128xf32>, %b: tensor<?x128xf32>) -> tensor<?x64xf32> {
  %q, %k, %v = llm.split %a {sizes = array<i64: 64, 32, 32>} : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
  %q2, %k2, %v2 = llm.split %b {sizes = array<i64: 64, 32, 32>} : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
  %qr = llm.rope %q {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>} : tensor<?x64xf32>
  %kr = llm.rope %k {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>} : tensor<?x32xf32>
  %o = llm.attention %qr, %kr, %v2 {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return %o : tensor<?x64xf32>
}

// -----

// Refused: the rotated k is also used elsewhere (qkv_attention does not expose it).
// CHECK-LABEL: func.func @rotated_k_reused
// CHECK-NOT: llm.qkv_attention
// CHECK: llm.attention
func.func @rotated_k_reused(%qkv: tensor<?x128xf32>) -> (tensor<?x64xf32>, tensor<?x32xf32>) {
  %q, %k, %v = llm.split %qkv {sizes = array<i64: 64, 32, 32>} : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
  %qr = llm.rope %q {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>} : tensor<?x64xf32>
  %kr = llm.rope %k {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>} : tensor<?x32xf32>
  %o = llm.attention %qr, %kr, %v {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return %o, %kr : tensor<?x64xf32>, tensor<?x32xf32>
}
