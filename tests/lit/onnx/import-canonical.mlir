// Values that depend only on T are recognised by what they are, not by how they were computed:
// Range(0, T) -> llm.positions; a Trilu/Equal/Where mask over ones(T, T) -> llm.causal_mask;
// the attention_mask input (all ones) -> a broadcast constant. The RoPE-style table
// cos(positions * inv_freq) is emitted op by op for the raising passes to read.
// RUN: %make_onnx canonical %t.onnx && llmc-import-onnx %t.onnx | FileCheck %s

// CHECK-LABEL: func.func @forward(%arg0: tensor<?xi32>) -> tensor<1x?x4xf32>
// CHECK-NOT: llm.trilu
// CHECK-NOT: llm.range
// CHECK: %[[M:.*]] = llm.causal_mask {masked_value = 0xFF800000 : f32} : tensor<?x?xf32>
// CHECK: llm.binary "add" %{{.*}}, %[[M]] : tensor<1x?x?xf32>, tensor<?x?xf32> -> tensor<1x?x?xf32>
// CHECK: llm.reduce "max"
// CHECK: %[[P:.*]] = llm.positions : tensor<?xi64>
// CHECK: %[[PF:.*]] = llm.cast %[[P]] : tensor<?xi64> -> tensor<?xf32>
// CHECK: %[[P2:.*]] = llm.reshape %[[PF]] : tensor<?xf32> -> tensor<?x1xf32>
// CHECK: %[[F:.*]] = llm.constant {value = dense<[1.000000e+00, 1.000000e-01, 0.00999999977, 1.000000e-03]> : tensor<4xf32>}
// CHECK: %[[A:.*]] = llm.binary "mul" %[[P2]], %[[F]] : tensor<?x1xf32>, tensor<4xf32> -> tensor<?x4xf32>
// CHECK: llm.unary "cos" %[[A]]
// CHECK: %[[ONE:.*]] = llm.constant {value = dense<1.000000e+00> : tensor<1x1x1xf32>}
// CHECK: llm.expand %[[ONE]] : tensor<1x1x1xf32> -> tensor<1x?x1xf32>
