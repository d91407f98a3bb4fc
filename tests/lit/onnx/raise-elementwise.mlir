// RUN: llmc-opt %s --llmc-raise-elementwise | FileCheck %s

// CHECK-LABEL: func.func @silu_gate
// CHECK: %[[G:.*]] = llm.reshape %arg0 : tensor<1x?x8xf32> -> tensor<?x8xf32>
// CHECK: %[[S:.*]] = llm.silu %[[G]] : tensor<?x8xf32>
// CHECK: %[[U:.*]] = llm.reshape %arg1 : tensor<1x?x8xf32> -> tensor<?x8xf32>
// CHECK: %[[M:.*]] = llm.mul %[[S]], %[[U]] : tensor<?x8xf32>
// CHECK: %[[R:.*]] = llm.reshape %[[M]] : tensor<?x8xf32> -> tensor<1x?x8xf32>
// CHECK: return %[[R]]
func.func @silu_gate(%g: tensor<1x?x8xf32>, %u: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  %s = llm.unary "sigmoid" %g : tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  %a = llm.binary "mul" %g, %s : tensor<1x?x8xf32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  %m = llm.binary "mul" %a, %u : tensor<1x?x8xf32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  return %m : tensor<1x?x8xf32>
}

// CHECK-LABEL: func.func @residual
// CHECK: llm.add %arg0, %arg1 : tensor<?x8xf32>
func.func @residual(%a: tensor<?x8xf32>, %b: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %s = llm.binary "add" %a, %b : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return %s : tensor<?x8xf32>
}

// Refused: broadcasting, heads (not token rows), sigmoid of another value.
// CHECK-LABEL: func.func @refused
// CHECK-NOT: llm.add
// CHECK-NOT: llm.silu
// CHECK-NOT: llm.mul
func.func @refused(%a: tensor<1x?x8xf32>, %b: tensor<1x?x1xf32>, %h: tensor<1x2x?x4xf32>, %c: tensor<1x?x8xf32>) -> (tensor<1x?x8xf32>, tensor<1x2x?x4xf32>, tensor<1x?x8xf32>) {
  %x = llm.binary "add" %a, %b : tensor<1x?x8xf32>, tensor<1x?x1xf32> -> tensor<1x?x8xf32>
  %y = llm.binary "add" %h, %h : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  %s = llm.unary "sigmoid" %c : tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  %z = llm.binary "sub" %a, %s : tensor<1x?x8xf32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  return %x, %y, %z : tensor<1x?x8xf32>, tensor<1x2x?x4xf32>, tensor<1x?x8xf32>
}
