// RUN: llmc-opt %s --llmc-raise-rms-norm --llmc-raise-layer-norm | FileCheck %s

llm.weight @w {source = "w", shape = array<i64: 8>, dtype = "f32"}
llm.weight @b {source = "b", shape = array<i64: 8>, dtype = "f32"}

// The importer's expansion of LayerNormalization: rms-norm takes the normalisation of the
// centred row, layer-norm the centring and the bias.
// CHECK-LABEL: func.func @with_bias
// CHECK: %[[X:.*]] = llm.reshape %arg0 : tensor<1x?x8xf32> -> tensor<?x8xf32>
// CHECK: %[[N:.*]] = llm.layer_norm %[[X]] {bias = @b, eps = 9.99999974E-6 : f32, weight = @w} : tensor<?x8xf32>
// CHECK: %[[R:.*]] = llm.reshape %[[N]] : tensor<?x8xf32> -> tensor<1x?x8xf32>
// CHECK: return %[[R]]
// CHECK-NOT: llm.rms_norm
func.func @with_bias(%x: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  %m = llm.reduce "mean" %x {axes = array<i64: 2>} : tensor<1x?x8xf32> -> tensor<1x?x1xf32>
  %d = llm.binary "sub" %x, %m : tensor<1x?x8xf32>, tensor<1x?x1xf32> -> tensor<1x?x8xf32>
  %sq = llm.binary "mul" %d, %d : tensor<1x?x8xf32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  %v = llm.reduce "mean" %sq {axes = array<i64: 2>} : tensor<1x?x8xf32> -> tensor<1x?x1xf32>
  %eps = llm.constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %ve = llm.binary "add" %v, %eps : tensor<1x?x1xf32>, tensor<f32> -> tensor<1x?x1xf32>
  %s = llm.unary "sqrt" %ve : tensor<1x?x1xf32> -> tensor<1x?x1xf32>
  %r = llm.unary "reciprocal" %s : tensor<1x?x1xf32> -> tensor<1x?x1xf32>
  %n = llm.binary "mul" %d, %r : tensor<1x?x8xf32>, tensor<1x?x1xf32> -> tensor<1x?x8xf32>
  %wv = llm.weight_value {weight = @w} : tensor<8xf32>
  %y = llm.binary "mul" %n, %wv : tensor<1x?x8xf32>, tensor<8xf32> -> tensor<1x?x8xf32>
  %bv = llm.weight_value {weight = @b} : tensor<8xf32>
  %z = llm.binary "add" %y, %bv : tensor<1x?x8xf32>, tensor<8xf32> -> tensor<1x?x8xf32>
  return %z : tensor<1x?x8xf32>
}

// torch's decomposed form on [T, H] rows, pow(d, 2) and a division, no bias.
// CHECK-LABEL: func.func @no_bias
// CHECK: %[[N:.*]] = llm.layer_norm %arg0 {eps = 9.99999997E-7 : f32, weight = @w} : tensor<?x8xf32>
// CHECK: return %[[N]]
func.func @no_bias(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %m = llm.reduce "mean" %x {axes = array<i64: 1>} : tensor<?x8xf32> -> tensor<?x1xf32>
  %d = llm.binary "sub" %x, %m : tensor<?x8xf32>, tensor<?x1xf32> -> tensor<?x8xf32>
  %two = llm.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %sq = llm.binary "pow" %d, %two : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  %v = llm.reduce "mean" %sq {axes = array<i64: 1>} : tensor<?x8xf32> -> tensor<?x1xf32>
  %eps = llm.constant {value = dense<1.0e-6> : tensor<f32>} : tensor<f32>
  %ve = llm.binary "add" %eps, %v : tensor<f32>, tensor<?x1xf32> -> tensor<?x1xf32>
  %s = llm.unary "sqrt" %ve : tensor<?x1xf32> -> tensor<?x1xf32>
  %n = llm.binary "div" %d, %s : tensor<?x8xf32>, tensor<?x1xf32> -> tensor<?x8xf32>
  %wv = llm.weight_value {weight = @w} : tensor<8xf32>
  %y = llm.binary "mul" %wv, %n : tensor<8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// Refused: the centring subtracts the mean of another value; an RMS norm stays one.
// CHECK-LABEL: func.func @not_centred
// CHECK: llm.rms_norm
// CHECK-NOT: llm.layer_norm
func.func @not_centred(%x: tensor<?x8xf32>, %z: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %m = llm.reduce "mean" %z {axes = array<i64: 1>} : tensor<?x8xf32> -> tensor<?x1xf32>
  %d = llm.binary "sub" %x, %m : tensor<?x8xf32>, tensor<?x1xf32> -> tensor<?x8xf32>
  %sq = llm.binary "mul" %d, %d : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  %v = llm.reduce "mean" %sq {axes = array<i64: 1>} : tensor<?x8xf32> -> tensor<?x1xf32>
  %eps = llm.constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %ve = llm.binary "add" %v, %eps : tensor<?x1xf32>, tensor<f32> -> tensor<?x1xf32>
  %s = llm.unary "sqrt" %ve : tensor<?x1xf32> -> tensor<?x1xf32>
  %n = llm.binary "div" %d, %s : tensor<?x8xf32>, tensor<?x1xf32> -> tensor<?x8xf32>
  %wv = llm.weight_value {weight = @w} : tensor<8xf32>
  %y = llm.binary "mul" %n, %wv : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
