// RUN: llmc-opt %s --llmc-raise-split | FileCheck %s

// Phi-3's qkv_proj output sliced into q, k, v along the last axis (the end clamps).
// CHECK-LABEL: func.func @qkv
// CHECK: %[[S:.*]]:3 = llm.split %arg0 {sizes = array<i64: 8, 4, 4>} : tensor<?x16xf32> -> tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>
// CHECK: %[[Q:.*]] = llm.reshape %[[S]]#0 : tensor<?x8xf32> -> tensor<1x?x8xf32>
// CHECK: %[[K:.*]] = llm.reshape %[[S]]#1 : tensor<?x4xf32> -> tensor<1x?x4xf32>
// CHECK: %[[V:.*]] = llm.reshape %[[S]]#2 : tensor<?x4xf32> -> tensor<1x?x4xf32>
// CHECK: return %[[Q]], %[[K]], %[[V]]
func.func @qkv(%y: tensor<?x16xf32>) -> (tensor<1x?x8xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>) {
  %r = llm.reshape %y : tensor<?x16xf32> -> tensor<1x?x16xf32>
  %q = llm.slice %r {axes = array<i64: 2>, starts = array<i64: 0>, ends = array<i64: 8>, steps = array<i64: 1>} : tensor<1x?x16xf32> -> tensor<1x?x8xf32>
  %k = llm.slice %r {axes = array<i64: 2>, starts = array<i64: 8>, ends = array<i64: 12>, steps = array<i64: 1>} : tensor<1x?x16xf32> -> tensor<1x?x4xf32>
  %v = llm.slice %r {axes = array<i64: 2>, starts = array<i64: 12>, ends = array<i64: 9223372036854775807>, steps = array<i64: 1>} : tensor<1x?x16xf32> -> tensor<1x?x4xf32>
  return %q, %k, %v : tensor<1x?x8xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>
}

// Columns no slice reads become an unused piece.
// CHECK-LABEL: func.func @gap
// CHECK: %[[S:.*]]:3 = llm.split %arg0 {sizes = array<i64: 4, 8, 4>}
// CHECK: return %[[S]]#0, %[[S]]#2
func.func @gap(%y: tensor<?x16xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>) {
  %a = llm.slice %y {axes = array<i64: 1>, starts = array<i64: 0>, ends = array<i64: 4>, steps = array<i64: 1>} : tensor<?x16xf32> -> tensor<?x4xf32>
  %b = llm.slice %y {axes = array<i64: 1>, starts = array<i64: -4>, ends = array<i64: 16>, steps = array<i64: 1>} : tensor<?x16xf32> -> tensor<?x4xf32>
  return %a, %b : tensor<?x4xf32>, tensor<?x4xf32>
}

// Refused: overlapping slices; a 4-D head view (rotate-half slices belong to raise-rope);
// a slice of the token axis.
// CHECK-LABEL: func.func @refused
// CHECK-NOT: llm.split
func.func @refused(%y: tensor<?x16xf32>, %h: tensor<1x1x?x4xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<1x1x?x2xf32>, tensor<?x16xf32>) {
  %a = llm.slice %y {axes = array<i64: 1>, starts = array<i64: 0>, ends = array<i64: 8>, steps = array<i64: 1>} : tensor<?x16xf32> -> tensor<?x8xf32>
  %b = llm.slice %y {axes = array<i64: 1>, starts = array<i64: 4>, ends = array<i64: 12>, steps = array<i64: 1>} : tensor<?x16xf32> -> tensor<?x8xf32>
  %c = llm.slice %h {axes = array<i64: 3>, starts = array<i64: 0>, ends = array<i64: 2>, steps = array<i64: 1>} : tensor<1x1x?x4xf32> -> tensor<1x1x?x2xf32>
  %d = llm.slice %y {axes = array<i64: 0>, starts = array<i64: -1>, ends = array<i64: 9223372036854775807>, steps = array<i64: 1>} : tensor<?x16xf32> -> tensor<?x16xf32>
  return %a, %b, %c, %d : tensor<?x8xf32>, tensor<?x8xf32>, tensor<1x1x?x2xf32>, tensor<?x16xf32>
}
