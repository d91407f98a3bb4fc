// RUN: llmc-opt %s --llmc-raise-gelu | FileCheck %s

// torch's opset-18 gelu_new / gelu_pytorch_tanh: x * (0.5 * (1 + tanh(c * (x + k * pow(x, 3))))).
// CHECK-LABEL: func.func @tanh_pow
// CHECK: %[[X:.*]] = llm.reshape %arg0 : tensor<1x?x8xf32> -> tensor<?x8xf32>
// CHECK: %[[G:.*]] = llm.gelu %[[X]] {approximate = "tanh"} : tensor<?x8xf32>
// CHECK: %[[R:.*]] = llm.reshape %[[G]] : tensor<?x8xf32> -> tensor<1x?x8xf32>
// CHECK: return %[[R]]
func.func @tanh_pow(%x: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  %three = llm.constant {value = dense<3.0> : tensor<f32>} : tensor<f32>
  %x3 = llm.binary "pow" %x, %three : tensor<1x?x8xf32>, tensor<f32> -> tensor<1x?x8xf32>
  %k = llm.constant {value = dense<0.044715> : tensor<f32>} : tensor<f32>
  %kx3 = llm.binary "mul" %k, %x3 : tensor<f32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  %s = llm.binary "add" %x, %kx3 : tensor<1x?x8xf32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  %c = llm.constant {value = dense<0.797884583> : tensor<f32>} : tensor<f32>
  %a = llm.binary "mul" %c, %s : tensor<f32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  %t = llm.unary "tanh" %a : tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  %one = llm.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %t1 = llm.binary "add" %t, %one : tensor<1x?x8xf32>, tensor<f32> -> tensor<1x?x8xf32>
  %half = llm.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %h = llm.binary "mul" %half, %t1 : tensor<f32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  %y = llm.binary "mul" %x, %h : tensor<1x?x8xf32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  return %y : tensor<1x?x8xf32>
}

// The importer's Gelu(20, tanh) on [T, H] rows: (x * 0.5) * (tanh(((x * x) * x * k + x) * c) + 1).
// CHECK-LABEL: func.func @tanh_importer
// CHECK: %[[G:.*]] = llm.gelu %arg0 {approximate = "tanh"} : tensor<?x8xf32>
// CHECK: return %[[G]]
func.func @tanh_importer(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %xx = llm.binary "mul" %x, %x : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  %x3 = llm.binary "mul" %xx, %x : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  %k = llm.constant {value = dense<0.044715> : tensor<f32>} : tensor<f32>
  %kx3 = llm.binary "mul" %x3, %k : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  %s = llm.binary "add" %kx3, %x : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  %c = llm.constant {value = dense<0.797884583> : tensor<f32>} : tensor<f32>
  %a = llm.binary "mul" %s, %c : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  %t = llm.unary "tanh" %a : tensor<?x8xf32> -> tensor<?x8xf32>
  %one = llm.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %t1 = llm.binary "add" %one, %t : tensor<f32>, tensor<?x8xf32> -> tensor<?x8xf32>
  %half = llm.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %xh = llm.binary "mul" %x, %half : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  %y = llm.binary "mul" %xh, %t1 : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// Exact GELU: 0.5 * x * (1 + erf(x / sqrt(2))) (approximate = "none", the default).
// CHECK-LABEL: func.func @erf
// CHECK: %[[G:.*]] = llm.gelu %arg0 : tensor<?x8xf32>
// CHECK: return %[[G]]
func.func @erf(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %r2 = llm.constant {value = dense<1.41421354> : tensor<f32>} : tensor<f32>
  %a = llm.binary "div" %x, %r2 : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  %e = llm.unary "erf" %a : tensor<?x8xf32> -> tensor<?x8xf32>
  %one = llm.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %e1 = llm.binary "add" %e, %one : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  %half = llm.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %xh = llm.binary "mul" %half, %x : tensor<f32>, tensor<?x8xf32> -> tensor<?x8xf32>
  %y = llm.binary "mul" %xh, %e1 : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// Refused: a wrong cubic coefficient; the outer factor is another value than the one inside.
// CHECK-LABEL: func.func @not_gelu
// CHECK-NOT: llm.gelu
func.func @not_gelu(%x: tensor<?x8xf32>, %z: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %three = llm.constant {value = dense<3.0> : tensor<f32>} : tensor<f32>
  %x3 = llm.binary "pow" %x, %three : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  %k = llm.constant {value = dense<0.05> : tensor<f32>} : tensor<f32>
  %kx3 = llm.binary "mul" %k, %x3 : tensor<f32>, tensor<?x8xf32> -> tensor<?x8xf32>
  %s = llm.binary "add" %x, %kx3 : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  %c = llm.constant {value = dense<0.797884583> : tensor<f32>} : tensor<f32>
  %a = llm.binary "mul" %c, %s : tensor<f32>, tensor<?x8xf32> -> tensor<?x8xf32>
  %t = llm.unary "tanh" %a : tensor<?x8xf32> -> tensor<?x8xf32>
  %one = llm.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %t1 = llm.binary "add" %t, %one : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  %half = llm.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %h = llm.binary "mul" %half, %t1 : tensor<f32>, tensor<?x8xf32> -> tensor<?x8xf32>
  %y = llm.binary "mul" %x, %h : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  %r2 = llm.constant {value = dense<1.41421354> : tensor<f32>} : tensor<f32>
  %a2 = llm.binary "div" %x, %r2 : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  %e = llm.unary "erf" %a2 : tensor<?x8xf32> -> tensor<?x8xf32>
  %e1 = llm.binary "add" %e, %one : tensor<?x8xf32>, tensor<f32> -> tensor<?x8xf32>
  %zh = llm.binary "mul" %half, %z : tensor<f32>, tensor<?x8xf32> -> tensor<?x8xf32>
  %y2 = llm.binary "mul" %zh, %e1 : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return %y, %y2 : tensor<?x8xf32>, tensor<?x8xf32>
}
