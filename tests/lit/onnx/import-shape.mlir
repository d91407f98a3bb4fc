// Shape subgraphs fold at import: Shape/Gather/Unsqueeze/Concat give Reshape a static target
// with T as `?`; Slice bounds relative to T are encoded from the end; Split, Squeeze, Expand,
// Flatten, ConstantOfShape.
// RUN: %make_onnx shape %t.onnx && llmc-import-onnx %t.onnx | FileCheck %s

// CHECK-LABEL: func.func @forward
// CHECK: %[[X:.*]] = llm.gather
// No shape arithmetic is left at run time.
// CHECK-NOT: llm.affine_ints
// CHECK-NOT: llm.concat {{.*}}xi64>
// CHECK: %[[R:.*]] = llm.reshape %[[X]] : tensor<1x?x8xf32> -> tensor<1x?x2x4xf32>
// CHECK: %[[T:.*]] = llm.transpose %[[R]] {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x4xf32> -> tensor<1x2x?x4xf32>
// CHECK: %[[U:.*]] = llm.reshape %[[T]] : tensor<1x2x?x4xf32> -> tensor<1x2x1x?x4xf32>
// CHECK: %[[E:.*]] = llm.expand %[[U]] : tensor<1x2x1x?x4xf32> -> tensor<1x2x3x?x4xf32>
// CHECK: %[[S:.*]] = llm.slice %[[E]] {axes = array<i64: 2>, ends = array<i64: 1>, starts = array<i64: 0>, steps = array<i64: 1>}
// CHECK: %[[SQ:.*]] = llm.reshape %[[S]] : tensor<1x2x1x?x4xf32> -> tensor<1x2x?x4xf32>
// x[:, -1:, :] keeps the last token whatever T is.
// CHECK: %[[L:.*]] = llm.slice %[[X]] {axes = array<i64: 1>, ends = array<i64: 9223372036854775807>, starts = array<i64: -1>, steps = array<i64: 1>} : tensor<1x?x8xf32> -> tensor<1x1x8xf32>
// CHECK: llm.reshape %[[L]] : tensor<1x1x8xf32> -> tensor<1x8xf32>
// Split [3, 5] along the last axis, then swap the parts.
// CHECK: %[[P1:.*]] = llm.slice %[[X]] {axes = array<i64: 2>, ends = array<i64: 3>, starts = array<i64: 0>, steps = array<i64: 1>} : tensor<1x?x8xf32> -> tensor<1x?x3xf32>
// CHECK: %[[P2:.*]] = llm.slice %[[X]] {axes = array<i64: 2>, ends = array<i64: 8>, starts = array<i64: 3>, steps = array<i64: 1>} : tensor<1x?x8xf32> -> tensor<1x?x5xf32>
// CHECK: %[[SW:.*]] = llm.concat %[[P2]], %[[P1]] {axis = 2 : i64}
// The Reshape to Shape(ConstantOfShape(...)) ++ [8] is the identity: nothing emitted.
// CHECK: %[[SUM:.*]] = llm.reduce "sum" %[[SQ]] {axes = array<i64: 1, 3>, keepdims = false} : tensor<1x2x?x4xf32> -> tensor<1x?xf32>
// CHECK: %[[SUM3:.*]] = llm.reshape %[[SUM]] : tensor<1x?xf32> -> tensor<1x?x1xf32>
// CHECK: %[[OUT:.*]] = llm.binary "add" %[[SW]], %[[SUM3]]
// CHECK: return %[[OUT]] : tensor<1x?x8xf32>
