// Opset 23: RotaryEmbedding becomes HF's rotate-half form (x * [cos, cos] + [-x2, x1] * [sin, sin])
// and Attention becomes llm.sdpa on [B, H, S, D].
// RUN: %make_onnx attention %t.onnx && llmc-import-onnx %t.onnx | FileCheck %s

// CHECK-LABEL: func.func @forward(%arg0: tensor<?xi32>) -> tensor<1x2x?x4xf32>
// CHECK: %[[Q:.*]] = llm.transpose %{{.*}} {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x4xf32> -> tensor<1x2x?x4xf32>
// CHECK: %[[COS:.*]] = llm.unary "cos"
// CHECK: %[[SIN:.*]] = llm.unary "sin"
// CHECK: %[[C4:.*]] = llm.reshape %[[COS]] : tensor<1x?x2xf32> -> tensor<1x1x?x2xf32>
// CHECK: %[[CC:.*]] = llm.concat %[[C4]], %[[C4]] {axis = 3 : i64} : {{.*}} -> tensor<1x1x?x4xf32>
// CHECK: %[[S4:.*]] = llm.reshape %[[SIN]]
// CHECK: %[[SS:.*]] = llm.concat %[[S4]], %[[S4]] {axis = 3 : i64}
// CHECK: %[[LO:.*]] = llm.slice %[[Q]] {axes = array<i64: 3>, ends = array<i64: 2>, starts = array<i64: 0>
// CHECK: %[[HI:.*]] = llm.slice %[[Q]] {axes = array<i64: 3>, ends = array<i64: 4>, starts = array<i64: 2>
// CHECK: %[[NEG:.*]] = llm.unary "neg" %[[HI]]
// CHECK: %[[RH:.*]] = llm.concat %[[NEG]], %[[LO]] {axis = 3 : i64}
// CHECK: %[[B:.*]] = llm.binary "mul" %[[RH]], %[[SS]]
// CHECK: %[[A:.*]] = llm.binary "mul" %[[Q]], %[[CC]]
// CHECK: %[[QR:.*]] = llm.binary "add" %[[A]], %[[B]] : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
// CHECK: %[[Y:.*]] = llm.sdpa %[[QR]], %[[QR]], %[[Q]] {is_causal = true, scale = 5.000000e-01 : f32} : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
// CHECK: return %[[Y]]
