// RUN: llmc-opt %s --llmc-collapse-views | FileCheck %s

// [T, 8] -> heads -> back: the elements never moved, the reshape to [T, 8] is %arg0.
// CHECK-LABEL: func.func @round_trip
// CHECK-NEXT: return %arg0
func.func @round_trip(%a: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %r = llm.reshape %a : tensor<?x8xf32> -> tensor<1x?x2x4xf32>
  %t = llm.transpose %r {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x4xf32> -> tensor<1x2x?x4xf32>
  %u = llm.transpose %t {perm = array<i64: 0, 2, 1, 3>} : tensor<1x2x?x4xf32> -> tensor<1x?x2x4xf32>
  %b = llm.reshape %u : tensor<1x?x2x4xf32> -> tensor<?x8xf32>
  return %b : tensor<?x8xf32>
}

// One transpose only: heads and tokens are swapped, so the reshape stays.
// CHECK-LABEL: func.func @moved
// CHECK: llm.transpose
// CHECK: %[[B:.*]] = llm.reshape
// CHECK: return %[[B]]
func.func @moved(%a: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %r = llm.reshape %a : tensor<?x8xf32> -> tensor<1x?x2x4xf32>
  %t = llm.transpose %r {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x4xf32> -> tensor<1x2x?x4xf32>
  %b = llm.reshape %t : tensor<1x2x?x4xf32> -> tensor<?x8xf32>
  return %b : tensor<?x8xf32>
}
