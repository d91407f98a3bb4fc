// RUN: llmc-opt %s --llmc-raise-position-embedding | FileCheck %s

llm.weight @wpe {source = "wpe", shape = array<i64: 32, 8>, dtype = "f32"}

// GPT-2: x + wpe[positions]; the indices are 0..T-1 (unsqueezed), in either operand order.
// CHECK-LABEL: func.func @learned
// CHECK: %[[X:.*]] = llm.reshape %arg0 : tensor<1x?x8xf32> -> tensor<?x8xf32>
// CHECK: %[[P:.*]] = llm.position_embedding %[[X]] {weight = @wpe} : tensor<?x8xf32>
// CHECK: %[[R:.*]] = llm.reshape %[[P]] : tensor<?x8xf32> -> tensor<1x?x8xf32>
// CHECK: return %[[R]]
func.func @learned(%x: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  %t = llm.weight_value {weight = @wpe} : tensor<32x8xf32>
  %p = llm.positions : tensor<?xi64>
  %p1 = llm.reshape %p : tensor<?xi64> -> tensor<1x?xi64>
  %g = llm.gather %t, %p1 {axis = 0 : i64} : tensor<32x8xf32>, tensor<1x?xi64> -> tensor<1x?x8xf32>
  %y = llm.binary "add" %g, %x : tensor<1x?x8xf32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  return %y : tensor<1x?x8xf32>
}

// Refused: positions shifted by one are not the token positions.
// CHECK-LABEL: func.func @shifted
// CHECK-NOT: llm.position_embedding
func.func @shifted(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %t = llm.weight_value {weight = @wpe} : tensor<32x8xf32>
  %p = llm.positions : tensor<?xi64>
  %one = llm.constant {value = dense<1> : tensor<i64>} : tensor<i64>
  %q = llm.binary "add" %p, %one : tensor<?xi64>, tensor<i64> -> tensor<?xi64>
  %g = llm.gather %t, %q {axis = 0 : i64} : tensor<32x8xf32>, tensor<?xi64> -> tensor<?x8xf32>
  %y = llm.binary "add" %x, %g : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
