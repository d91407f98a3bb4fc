// RUN: llmc-opt %s --llmc-raise-rms-norm | FileCheck %s

llm.weight @g {source = "g", shape = array<i64: 8>, dtype = "f32"}

// torch's export: w * (x * reciprocal(sqrt(mean(pow(x, 2)) + eps)))
// CHECK-LABEL: func.func @reciprocal_form
// CHECK: %[[X:.*]] = llm.reshape %arg0 : tensor<1x?x8xf32> -> tensor<?x8xf32>
// CHECK: %[[N:.*]] = llm.rms_norm %[[X]] {eps = 9.99999974E-6 : f32, weight = @g} : tensor<?x8xf32>
// CHECK: %[[R:.*]] = llm.reshape %[[N]] : tensor<?x8xf32> -> tensor<1x?x8xf32>
// CHECK: return %[[R]]
func.func @reciprocal_form(%x: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  %two = llm.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %sq = llm.binary "pow" %x, %two : tensor<1x?x8xf32>, tensor<f32> -> tensor<1x?x8xf32>
  %m = llm.reduce "mean" %sq {axes = array<i64: 2>} : tensor<1x?x8xf32> -> tensor<1x?x1xf32>
  %eps = llm.constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %v = llm.binary "add" %m, %eps : tensor<1x?x1xf32>, tensor<f32> -> tensor<1x?x1xf32>
  %s = llm.unary "sqrt" %v : tensor<1x?x1xf32> -> tensor<1x?x1xf32>
  %r = llm.unary "reciprocal" %s : tensor<1x?x1xf32> -> tensor<1x?x1xf32>
  %n = llm.binary "mul" %x, %r : tensor<1x?x8xf32>, tensor<1x?x1xf32> -> tensor<1x?x8xf32>
  %w = llm.weight_value {weight = @g} : tensor<8xf32>
  %y = llm.binary "mul" %w, %n : tensor<8xf32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  return %y : tensor<1x?x8xf32>
}

// x / sqrt(eps + mean(x * x)) * w, operands the other way round.
// CHECK-LABEL: func.func @div_form
// CHECK: llm.rms_norm %{{.*}} {eps = 9.99999997E-7 : f32, weight = @g} : tensor<?x8xf32>
func.func @div_form(%x: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  %sq = llm.binary "mul" %x, %x : tensor<1x?x8xf32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  %m = llm.reduce "mean" %sq {axes = array<i64: 2>} : tensor<1x?x8xf32> -> tensor<1x?x1xf32>
  %eps = llm.constant {value = dense<1.0e-6> : tensor<f32>} : tensor<f32>
  %v = llm.binary "add" %eps, %m : tensor<f32>, tensor<1x?x1xf32> -> tensor<1x?x1xf32>
  %s = llm.unary "sqrt" %v : tensor<1x?x1xf32> -> tensor<1x?x1xf32>
  %n = llm.binary "div" %x, %s : tensor<1x?x8xf32>, tensor<1x?x1xf32> -> tensor<1x?x8xf32>
  %w = llm.weight_value {weight = @g} : tensor<8xf32>
  %y = llm.binary "mul" %n, %w : tensor<1x?x8xf32>, tensor<8xf32> -> tensor<1x?x8xf32>
  return %y : tensor<1x?x8xf32>
}

// TorchScript's export: x * (1 / sqrt(mean(pow(x, 2)) + eps)) * w.
// CHECK-LABEL: func.func @one_over_form
// CHECK: llm.rms_norm %{{.*}} {eps = 9.99999974E-6 : f32, weight = @g} : tensor<?x8xf32>
func.func @one_over_form(%x: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  %two = llm.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %sq = llm.binary "pow" %x, %two : tensor<1x?x8xf32>, tensor<f32> -> tensor<1x?x8xf32>
  %m = llm.reduce "mean" %sq {axes = array<i64: 2>} : tensor<1x?x8xf32> -> tensor<1x?x1xf32>
  %eps = llm.constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %v = llm.binary "add" %m, %eps : tensor<1x?x1xf32>, tensor<f32> -> tensor<1x?x1xf32>
  %s = llm.unary "sqrt" %v : tensor<1x?x1xf32> -> tensor<1x?x1xf32>
  %one = llm.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %r = llm.binary "div" %one, %s : tensor<f32>, tensor<1x?x1xf32> -> tensor<1x?x1xf32>
  %n = llm.binary "mul" %x, %r : tensor<1x?x8xf32>, tensor<1x?x1xf32> -> tensor<1x?x8xf32>
  %w = llm.weight_value {weight = @g} : tensor<8xf32>
  %y = llm.binary "mul" %w, %n : tensor<8xf32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  return %y : tensor<1x?x8xf32>
}

// Refused: the mean is over the wrong axis (the tokens), and the square is of another value.
// CHECK-LABEL: func.func @not_rms
// CHECK-NOT: llm.rms_norm
func.func @not_rms(%x: tensor<1x?x8xf32>, %z: tensor<1x?x8xf32>) -> (tensor<1x?x8xf32>, tensor<1x?x8xf32>) {
  %two = llm.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %sq = llm.binary "pow" %x, %two : tensor<1x?x8xf32>, tensor<f32> -> tensor<1x?x8xf32>
  %m = llm.reduce "mean" %sq {axes = array<i64: 1>} : tensor<1x?x8xf32> -> tensor<1x1x8xf32>
  %eps = llm.constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %v = llm.binary "add" %m, %eps : tensor<1x1x8xf32>, tensor<f32> -> tensor<1x1x8xf32>
  %s = llm.unary "sqrt" %v : tensor<1x1x8xf32> -> tensor<1x1x8xf32>
  %n = llm.binary "div" %x, %s : tensor<1x?x8xf32>, tensor<1x1x8xf32> -> tensor<1x?x8xf32>
  %w = llm.weight_value {weight = @g} : tensor<8xf32>
  %y = llm.binary "mul" %n, %w : tensor<1x?x8xf32>, tensor<8xf32> -> tensor<1x?x8xf32>
  %m2 = llm.reduce "mean" %sq {axes = array<i64: 2>} : tensor<1x?x8xf32> -> tensor<1x?x1xf32>
  %v2 = llm.binary "add" %m2, %eps : tensor<1x?x1xf32>, tensor<f32> -> tensor<1x?x1xf32>
  %s2 = llm.unary "sqrt" %v2 : tensor<1x?x1xf32> -> tensor<1x?x1xf32>
  %n2 = llm.binary "div" %z, %s2 : tensor<1x?x8xf32>, tensor<1x?x1xf32> -> tensor<1x?x8xf32>
  %y2 = llm.binary "mul" %n2, %w : tensor<1x?x8xf32>, tensor<8xf32> -> tensor<1x?x8xf32>
  return %y, %y2 : tensor<1x?x8xf32>, tensor<1x?x8xf32>
}

// Gemma's (1 + w) computed at run time (not folded by the exporter): unit_offset with w.
// CHECK-LABEL: func.func @unit_offset
// CHECK: llm.rms_norm %{{.*}} {eps = 9.99999997E-7 : f32, unit_offset = true, weight = @g} : tensor<?x8xf32>
func.func @unit_offset(%x: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  %two = llm.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %sq = llm.binary "pow" %x, %two : tensor<1x?x8xf32>, tensor<f32> -> tensor<1x?x8xf32>
  %m = llm.reduce "mean" %sq {axes = array<i64: 2>} : tensor<1x?x8xf32> -> tensor<1x?x1xf32>
  %eps = llm.constant {value = dense<1.0e-6> : tensor<f32>} : tensor<f32>
  %v = llm.binary "add" %m, %eps : tensor<1x?x1xf32>, tensor<f32> -> tensor<1x?x1xf32>
  %s = llm.unary "sqrt" %v : tensor<1x?x1xf32> -> tensor<1x?x1xf32>
  %r = llm.unary "reciprocal" %s : tensor<1x?x1xf32> -> tensor<1x?x1xf32>
  %n = llm.binary "mul" %x, %r : tensor<1x?x8xf32>, tensor<1x?x1xf32> -> tensor<1x?x8xf32>
  %w = llm.weight_value {weight = @g} : tensor<8xf32>
  %one = llm.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %w1 = llm.binary "add" %one, %w : tensor<f32>, tensor<8xf32> -> tensor<8xf32>
  %y = llm.binary "mul" %n, %w1 : tensor<1x?x8xf32>, tensor<8xf32> -> tensor<1x?x8xf32>
  return %y : tensor<1x?x8xf32>
}
