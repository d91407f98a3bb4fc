// RUN: llmc-opt %s --llmc-raise-embedding | FileCheck %s

llm.weight @emb {source = "emb", shape = array<i64: 16, 8>, dtype = "f32"}

// CHECK-LABEL: func.func @forward
// CHECK: %[[E:.*]] = llm.embedding %arg0 {weight = @emb} : tensor<?xi32> -> tensor<?x8xf32>
// CHECK: %[[R:.*]] = llm.reshape %[[E]] : tensor<?x8xf32> -> tensor<1x?x8xf32>
// CHECK: return %[[R]]
func.func @forward(%ids: tensor<?xi32>) -> tensor<1x?x8xf32> {
  %i = llm.cast %ids : tensor<?xi32> -> tensor<?xi64>
  %r = llm.reshape %i : tensor<?xi64> -> tensor<1x?xi64>
  %t = llm.weight_value {weight = @emb} : tensor<16x8xf32>
  %x = llm.gather %t, %r {axis = 0 : i64} : tensor<16x8xf32>, tensor<1x?xi64> -> tensor<1x?x8xf32>
  return %x : tensor<1x?x8xf32>
}

// Refused: indices that are not the token ids (here: positions).
// CHECK-LABEL: func.func @by_position
// CHECK: llm.gather
// CHECK-NOT: llm.embedding
func.func @by_position(%ids: tensor<?xi32>) -> tensor<?x8xf32> {
  %p = llm.positions : tensor<?xi64>
  %t = llm.weight_value {weight = @emb} : tensor<16x8xf32>
  %x = llm.gather %t, %p {axis = 0 : i64} : tensor<16x8xf32>, tensor<?xi64> -> tensor<?x8xf32>
  return %x : tensor<?x8xf32>
}
