// Folders of the llm dialect, and that pure ops die / dedupe while attention stays.
// RUN: llmc-opt %s -split-input-file --canonicalize --cse | FileCheck %s

// A one-way split and a last_token of a single row are identities.
// CHECK-LABEL: func.func @identities
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>, %[[Y:.*]]: tensor<1x64xf32>)
// CHECK-NEXT: return %[[X]], %[[Y]]
func.func @identities(%x: tensor<?x64xf32>, %y: tensor<1x64xf32>) -> (tensor<?x64xf32>, tensor<1x64xf32>) {
  %a = llm.split %x {sizes = array<i64: 64>} : tensor<?x64xf32> -> tensor<?x64xf32>
  %b = llm.last_token %y : tensor<1x64xf32> -> tensor<1x64xf32>
  return %a, %b : tensor<?x64xf32>, tensor<1x64xf32>
}

// -----

// Not identities: a real split, a last_token of T rows.
// CHECK-LABEL: func.func @not_identities
// CHECK-NEXT: llm.split
// CHECK-NEXT: llm.last_token
func.func @not_identities(%x: tensor<?x64xf32>) -> (tensor<?x32xf32>, tensor<1x64xf32>) {
  %a, %b = llm.split %x {sizes = array<i64: 32, 32>} : tensor<?x64xf32> -> tensor<?x32xf32>, tensor<?x32xf32>
  %l = llm.last_token %x : tensor<?x64xf32> -> tensor<1x64xf32>
  return %a, %l : tensor<?x32xf32>, tensor<1x64xf32>
}

// -----

// Dead pure ops go, duplicates merge; an attention writes the KV cache, so an unused one stays
// and two identical ones are not merged.
// CHECK-LABEL: func.func @effects
// CHECK-NEXT: %[[S:.*]] = llm.silu
// CHECK-NEXT: llm.attention
// CHECK-NEXT: llm.attention
// CHECK-NEXT: llm.add %[[S]], %[[S]]
// CHECK-NOT: llm.gelu
func.func @effects(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %s1 = llm.silu %x : tensor<?x64xf32>
  %s2 = llm.silu %x : tensor<?x64xf32>
  %dead = llm.gelu %x : tensor<?x64xf32>
  %a1 = llm.attention %x, %x, %x {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32> -> tensor<?x64xf32>
  %a2 = llm.attention %x, %x, %x {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32> -> tensor<?x64xf32>
  %r = llm.add %s1, %s2 : tensor<?x64xf32>
  return %r : tensor<?x64xf32>
}
