// RUN: llmc-opt %s --llmc-raise-embedding-scale | FileCheck %s

llm.weight @emb {source = "emb", shape = array<i64: 16, 8>, dtype = "f32"}

// Gemma: the embeddings times sqrt(hidden) (a constant in the export) -> the embedding's scale.
// CHECK-LABEL: func.func @scaled
// CHECK: %[[E:.*]] = llm.embedding %arg0 {scale = 2.82842708 : f32, weight = @emb} : tensor<?xi32> -> tensor<?x8xf32>
// CHECK: %[[R:.*]] = llm.reshape %[[E]] : tensor<?x8xf32> -> tensor<1x?x8xf32>
// CHECK: return %[[R]]
func.func @scaled(%ids: tensor<?xi32>) -> tensor<1x?x8xf32> {
  %e = llm.embedding %ids {weight = @emb} : tensor<?xi32> -> tensor<?x8xf32>
  %r = llm.reshape %e : tensor<?x8xf32> -> tensor<1x?x8xf32>
  %c = llm.constant {value = dense<2.82842708> : tensor<f32>} : tensor<f32>
  %y = llm.binary "mul" %r, %c : tensor<1x?x8xf32>, tensor<f32> -> tensor<1x?x8xf32>
  return %y : tensor<1x?x8xf32>
}

// Refused: a per-column multiplier is not a scalar; a scalar times something else.
// CHECK-LABEL: func.func @refused
// CHECK: llm.embedding %arg0 {weight = @emb}
// CHECK-NOT: scale
func.func @refused(%ids: tensor<?xi32>, %x: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %e = llm.embedding %ids {weight = @emb} : tensor<?xi32> -> tensor<?x8xf32>
  %v = llm.constant {value = dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<8xf32>} : tensor<8xf32>
  %y = llm.binary "mul" %e, %v : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  %c = llm.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %z = llm.binary "mul" %x, %c : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  return %y, %z : tensor<?x8xf32>, tensor<?x8xf32>
}
