// Opset 23: RMSNormalization, LayerNormalization and Gelu (tanh) expand into generic ops, the
// RMS norm in the same form as torch's opset-18 export so one raising pattern serves both.
// RUN: %make_onnx nn %t.onnx && llmc-import-onnx %t.onnx | FileCheck %s

// CHECK-LABEL: func.func @forward
// CHECK: %[[X:.*]] = llm.gather
// CHECK: %[[W:.*]] = llm.weight_value {weight = @w} : tensor<8xf32>
// CHECK: %[[TWO:.*]] = llm.constant {value = dense<2.000000e+00> : tensor<f32>}
// CHECK: %[[SQ:.*]] = llm.binary "pow" %[[X]], %[[TWO]]
// CHECK: %[[MS:.*]] = llm.reduce "mean" %[[SQ]] {axes = array<i64: 2>} : tensor<1x?x8xf32> -> tensor<1x?x1xf32>
// CHECK: %[[EPS:.*]] = llm.constant {value = dense<9.99999997E-7> : tensor<f32>}
// CHECK: %[[V:.*]] = llm.binary "add" %[[MS]], %[[EPS]]
// CHECK: %[[RT:.*]] = llm.unary "sqrt" %[[V]]
// CHECK: %[[R:.*]] = llm.unary "reciprocal" %[[RT]]
// CHECK: %[[N:.*]] = llm.binary "mul" %[[X]], %[[R]]
// CHECK: %[[RMS:.*]] = llm.binary "mul" %[[W]], %[[N]] : tensor<8xf32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32>
// LayerNorm: mean, centre, variance.
// CHECK: %[[MU:.*]] = llm.reduce "mean" %[[RMS]]
// CHECK: %[[D:.*]] = llm.binary "sub" %[[RMS]], %[[MU]]
// CHECK: llm.binary "mul" %[[D]], %[[D]]
// CHECK: llm.weight_value {weight = @b}
// Gelu tanh: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
// CHECK: llm.constant {value = dense<4.471500e-02> : tensor<f32>}
// CHECK: llm.constant {value = dense<0.797884583> : tensor<f32>}
// CHECK: llm.unary "tanh"
