// RUN: llmc-opt %s --llmc-raise-linear | FileCheck %s

llm.weight @w {source = "w", shape = array<i64: 8, 4>, dtype = "f32"}
llm.weight @b {source = "b", shape = array<i64: 4>, dtype = "f32"}
llm.weight @nk {source = "nk", shape = array<i64: 4, 8>, dtype = "f32"}

// A [K, N] weight: llm.linear reads its transpose, recorded once next to the weight.
// CHECK: llm.weight @w
// CHECK-NEXT: llm.weight_transpose @w.t {input = @w}
// CHECK-NOT: llm.weight_transpose @nk

// CHECK-LABEL: func.func @matmul_bias
// CHECK: %[[X:.*]] = llm.reshape %arg0 : tensor<1x?x8xf32> -> tensor<?x8xf32>
// CHECK: %[[Y:.*]] = llm.linear %[[X]] {bias = @b, weight = @w.t} : tensor<?x8xf32> -> tensor<?x4xf32>
// CHECK: %[[R:.*]] = llm.reshape %[[Y]] : tensor<?x4xf32> -> tensor<1x?x4xf32>
// CHECK: return %[[R]]
func.func @matmul_bias(%x: tensor<1x?x8xf32>) -> tensor<1x?x4xf32> {
  %w = llm.weight_value {weight = @w} : tensor<8x4xf32>
  %y = llm.matmul %x, %w : tensor<1x?x8xf32>, tensor<8x4xf32> -> tensor<1x?x4xf32>
  %b = llm.weight_value {weight = @b} : tensor<4xf32>
  %z = llm.binary "add" %y, %b : tensor<1x?x4xf32>, tensor<4xf32> -> tensor<1x?x4xf32>
  return %z : tensor<1x?x4xf32>
}

// The same weight again reuses @w.t; a [T, K] input needs no reshape.
// CHECK-LABEL: func.func @two_d
// CHECK: %[[Y:.*]] = llm.linear %arg0 {weight = @w.t} : tensor<?x8xf32> -> tensor<?x4xf32>
// CHECK: return %[[Y]]
func.func @two_d(%x: tensor<?x8xf32>) -> tensor<?x4xf32> {
  %w = llm.weight_value {weight = @w} : tensor<8x4xf32>
  %y = llm.matmul %x, %w : tensor<?x8xf32>, tensor<8x4xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// matmul(x, transpose(W)) with W [N, K] is nn.Linear's own layout: W is used as is.
// CHECK-LABEL: func.func @transposed_weight
// CHECK: llm.linear %{{.*}} {weight = @nk} : tensor<?x8xf32> -> tensor<?x4xf32>
func.func @transposed_weight(%x: tensor<1x?x8xf32>) -> tensor<1x?x4xf32> {
  %w = llm.weight_value {weight = @nk} : tensor<4x8xf32>
  %t = llm.transpose %w {perm = array<i64: 1, 0>} : tensor<4x8xf32> -> tensor<8x4xf32>
  %y = llm.matmul %x, %t : tensor<1x?x8xf32>, tensor<8x4xf32> -> tensor<1x?x4xf32>
  return %y : tensor<1x?x4xf32>
}

// Refused: the rhs is data, not a weight; the result is not token rows (4 heads).
// CHECK-LABEL: func.func @not_linear
// CHECK: llm.matmul %arg0, %arg1
// CHECK: llm.matmul %arg2
// CHECK-NOT: llm.linear
func.func @not_linear(%x: tensor<1x?x8xf32>, %y: tensor<8x4xf32>, %h: tensor<1x4x?x8xf32>) -> (tensor<1x?x4xf32>, tensor<1x4x?x4xf32>) {
  %a = llm.matmul %x, %y : tensor<1x?x8xf32>, tensor<8x4xf32> -> tensor<1x?x4xf32>
  %w = llm.weight_value {weight = @w} : tensor<8x4xf32>
  %b = llm.matmul %h, %w : tensor<1x4x?x8xf32>, tensor<8x4xf32> -> tensor<1x4x?x4xf32>
  return %a, %b : tensor<1x?x4xf32>, tensor<1x4x?x4xf32>
}
