// Elementwise math, Where/Cast, MatMul, Gemm, Softmax, ReduceMean (axes as input, opset 18).
// RUN: %make_onnx math %t.onnx && llmc-import-onnx %t.onnx | FileCheck %s

// CHECK-DAG: llm.weight @E {dtype = "f32", shape = array<i64: 16, 8>, source = "E"}
// CHECK-DAG: llm.weight @W {dtype = "f32", shape = array<i64: 8, 4>, source = "W"}
// CHECK-DAG: llm.weight @G {dtype = "f32", shape = array<i64: 3, 1>, source = "G"}
// CHECK-LABEL: func.func @forward(%arg0: tensor<?xi32>) -> tensor<?x3xf32>
// The token ids: [T] i32 -> [1, T] i64, the embedding table stays a weight.
// CHECK: %[[I64:.*]] = llm.cast %arg0 : tensor<?xi32> -> tensor<?xi64>
// CHECK: %[[IDS:.*]] = llm.reshape %[[I64]] : tensor<?xi64> -> tensor<1x?xi64>
// CHECK: %[[E:.*]] = llm.weight_value {weight = @E} : tensor<16x8xf32>
// CHECK: %[[X:.*]] = llm.gather %[[E]], %[[IDS]] {axis = 0 : i64} : tensor<16x8xf32>, tensor<1x?xi64> -> tensor<1x?x8xf32>
// Small initializers become constants; broadcasting keeps the operand types.
// CHECK: %[[C1:.*]] = llm.constant {value = dense<1.500000e+00> : tensor<1xf32>} : tensor<1xf32>
// CHECK: llm.binary "add" %[[X]], %[[C1]] : tensor<1x?x8xf32>, tensor<1xf32> -> tensor<1x?x8xf32>
// CHECK: llm.binary "sub"
// CHECK: llm.binary "mul" %{{.*}}, %[[X]]
// CHECK: llm.binary "div"
// CHECK: llm.binary "pow"
// CHECK: llm.unary "sqrt"
// CHECK: llm.unary "reciprocal"
// CHECK: llm.unary "neg"
// CHECK: llm.unary "sigmoid"
// CHECK: llm.unary "tanh"
// CHECK: llm.unary "erf"
// Variadic Max is a chain of binary max.
// CHECK: llm.binary "max" %{{.*}}, %[[X]]
// CHECK: llm.binary "max" %{{.*}}, %[[C1]]
// CHECK: llm.binary "lt" {{.*}} -> tensor<1x?x8xi1>
// CHECK: llm.where {{.*}} : tensor<1x?x8xi1>, tensor<f32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32>
// A float -> float Cast of the same type is no op.
// CHECK-NOT: llm.cast
// CHECK: %[[W:.*]] = llm.weight_value {weight = @W} : tensor<8x4xf32>
// CHECK: llm.matmul %{{.*}}, %[[W]] : tensor<1x?x8xf32>, tensor<8x4xf32> -> tensor<1x?x4xf32>
// CHECK: llm.softmax %{{.*}} {axis = 2 : i64} : tensor<1x?x4xf32> -> tensor<1x?x4xf32>
// CHECK: llm.reduce "mean" %{{.*}} {axes = array<i64: 2>} : tensor<1x?x4xf32> -> tensor<1x?x1xf32>
// Reshape to [-1, 1]: the -1 is T.
// CHECK: llm.reshape %{{.*}} : tensor<1x?x1xf32> -> tensor<?x1xf32>
// Gemm(transB, alpha = 2): transpose, matmul, scale.
// CHECK: %[[G:.*]] = llm.weight_value {weight = @G} : tensor<3x1xf32>
// CHECK: %[[GT:.*]] = llm.transpose %[[G]] {perm = array<i64: 1, 0>} : tensor<3x1xf32> -> tensor<1x3xf32>
// CHECK: %[[MM:.*]] = llm.matmul %{{.*}}, %[[GT]] : tensor<?x1xf32>, tensor<1x3xf32> -> tensor<?x3xf32>
// CHECK: %[[Y:.*]] = llm.binary "mul" %[[MM]], %{{.*}} : tensor<?x3xf32>, tensor<f32> -> tensor<?x3xf32>
// CHECK: return %[[Y]] : tensor<?x3xf32>
