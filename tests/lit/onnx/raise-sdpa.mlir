// RUN: llmc-opt %s --llmc-raise-sdpa | FileCheck %s

// torch's decomposition of scaled_dot_product_attention: sqrt(scale) on q and on kᵀ, an
// additive mask, softmax, the NaN guard, then · v.
// CHECK-LABEL: func.func @decomposed
// CHECK: %[[K:.*]] = llm.transpose %arg1 {perm = array<i64: 0, 1, 3, 2>} : tensor<1x2x4x?xf32> -> tensor<1x2x?x4xf32>
// CHECK: %[[O:.*]] = llm.sdpa %arg0, %[[K]], %arg2, %arg3 {scale = 2.500000e-01 : f32} : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x1x?x?xf32> -> tensor<1x2x?x4xf32>
// CHECK: return %[[O]]
func.func @decomposed(%q: tensor<1x2x?x4xf32>, %kt: tensor<1x2x4x?xf32>, %v: tensor<1x2x?x4xf32>, %mask: tensor<1x1x?x?xf32>) -> tensor<1x2x?x4xf32> {
  %c = llm.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %qs = llm.binary "mul" %q, %c : tensor<1x2x?x4xf32>, tensor<f32> -> tensor<1x2x?x4xf32>
  %ks = llm.binary "mul" %kt, %c : tensor<1x2x4x?xf32>, tensor<f32> -> tensor<1x2x4x?xf32>
  %s = llm.matmul %qs, %ks : tensor<1x2x?x4xf32>, tensor<1x2x4x?xf32> -> tensor<1x2x?x?xf32>
  %sm = llm.binary "add" %s, %mask : tensor<1x2x?x?xf32>, tensor<1x1x?x?xf32> -> tensor<1x2x?x?xf32>
  %p = llm.softmax %sm {axis = 3 : i64} : tensor<1x2x?x?xf32> -> tensor<1x2x?x?xf32>
  %nan = llm.unary "isnan" %p : tensor<1x2x?x?xf32> -> tensor<1x2x?x?xi1>
  %z = llm.constant {value = dense<0.0> : tensor<f32>} : tensor<f32>
  %pz = llm.where %nan, %z, %p : tensor<1x2x?x?xi1>, tensor<f32>, tensor<1x2x?x?xf32> -> tensor<1x2x?x?xf32>
  %o = llm.matmul %pz, %v : tensor<1x2x?x?xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  return %o : tensor<1x2x?x4xf32>
}

// Scores divided by sqrt(d) = 2 after the matmul, no mask.
// CHECK-LABEL: func.func @divided
// CHECK: llm.sdpa %arg0, %{{.*}}, %arg2 {scale = 5.000000e-01 : f32}
func.func @divided(%q: tensor<1x2x?x4xf32>, %kt: tensor<1x2x4x?xf32>, %v: tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32> {
  %s = llm.matmul %q, %kt : tensor<1x2x?x4xf32>, tensor<1x2x4x?xf32> -> tensor<1x2x?x?xf32>
  %d = llm.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %sd = llm.binary "div" %s, %d : tensor<1x2x?x?xf32>, tensor<f32> -> tensor<1x2x?x?xf32>
  %p = llm.softmax %sd {axis = 3 : i64} : tensor<1x2x?x?xf32> -> tensor<1x2x?x?xf32>
  %o = llm.matmul %p, %v : tensor<1x2x?x?xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  return %o : tensor<1x2x?x4xf32>
}

// Refused: the probabilities are not a softmax over the last axis.
// CHECK-LABEL: func.func @not_softmax
// CHECK-NOT: llm.sdpa
func.func @not_softmax(%p: tensor<1x2x?x?xf32>, %v: tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32> {
  %s = llm.softmax %p {axis = 2 : i64} : tensor<1x2x?x?xf32> -> tensor<1x2x?x?xf32>
  %o = llm.matmul %s, %v : tensor<1x2x?x?xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  return %o : tensor<1x2x?x4xf32>
}

// The mask as the first addend, the scale applied to the scores after the matmul.
// CHECK-LABEL: func.func @mask_first
// CHECK: llm.sdpa %arg0, %{{.*}}, %arg2, %arg3 {scale = 1.250000e-01 : f32}
func.func @mask_first(%q: tensor<1x2x?x4xf32>, %kt: tensor<1x2x4x?xf32>, %v: tensor<1x2x?x4xf32>, %mask: tensor<1x1x?x?xf32>) -> tensor<1x2x?x4xf32> {
  %s = llm.matmul %q, %kt : tensor<1x2x?x4xf32>, tensor<1x2x4x?xf32> -> tensor<1x2x?x?xf32>
  %c = llm.constant {value = dense<0.125> : tensor<f32>} : tensor<f32>
  %ss = llm.binary "mul" %c, %s : tensor<f32>, tensor<1x2x?x?xf32> -> tensor<1x2x?x?xf32>
  %sm = llm.binary "add" %mask, %ss : tensor<1x1x?x?xf32>, tensor<1x2x?x?xf32> -> tensor<1x2x?x?xf32>
  %p = llm.softmax %sm {axis = 3 : i64} : tensor<1x2x?x?xf32> -> tensor<1x2x?x?xf32>
  %o = llm.matmul %p, %v : tensor<1x2x?x?xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  return %o : tensor<1x2x?x4xf32>
}
