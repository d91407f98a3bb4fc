// RUN: llmc-opt %s --llmc-raise-last-token --split-input-file | FileCheck %s

llm.weight @head {source = "head", shape = array<i64: 16, 8>, dtype = "f32"}

// All rows' logits [1, T, V]: the head moves after llm.last_token and @forward returns [1, V].
// CHECK: func.func @forward(%arg0: tensor<?x8xf32>) -> tensor<1x16xf32>
// CHECK-NEXT: %[[L:.*]] = llm.last_token %arg0 : tensor<?x8xf32> -> tensor<1x8xf32>
// CHECK-NEXT: %[[Y:.*]] = llm.linear %[[L]] {weight = @head} : tensor<1x8xf32> -> tensor<1x16xf32>
// CHECK-NEXT: return %[[Y]] : tensor<1x16xf32>
func.func @forward(%x: tensor<?x8xf32>) -> tensor<1x?x16xf32> {
  %y = llm.linear %x {weight = @head} : tensor<?x8xf32> -> tensor<?x16xf32>
  %r = llm.reshape %y : tensor<?x16xf32> -> tensor<1x?x16xf32>
  return %r : tensor<1x?x16xf32>
}

// -----

llm.weight @head {source = "head", shape = array<i64: 16, 8>, dtype = "f32"}

// A graph that already slices the last row (logits_to_keep = 1): same result.
// CHECK: {{//}} {{-----}}
// CHECK: func.func @forward(%arg0: tensor<?x8xf32>) -> tensor<1x16xf32>
// CHECK-NEXT: %[[L:.*]] = llm.last_token %arg0 : tensor<?x8xf32> -> tensor<1x8xf32>
// CHECK-NEXT: %[[Y:.*]] = llm.linear %[[L]] {weight = @head} : tensor<1x8xf32> -> tensor<1x16xf32>
// CHECK-NEXT: return %[[Y]] : tensor<1x16xf32>
func.func @forward(%x: tensor<?x8xf32>) -> tensor<1x1x16xf32> {
  %y = llm.linear %x {weight = @head} : tensor<?x8xf32> -> tensor<?x16xf32>
  %r = llm.reshape %y : tensor<?x16xf32> -> tensor<1x?x16xf32>
  %s = llm.slice %r {axes = array<i64: 1>, starts = array<i64: -1>, ends = array<i64: 9223372036854775807>, steps = array<i64: 1>} : tensor<1x?x16xf32> -> tensor<1x1x16xf32>
  return %s : tensor<1x1x16xf32>
}
