// RUN: llmc-opt %s --llmc-raise-glu | FileCheck %s

// Phi-3's gate_up_proj: act(gate) * up of the two halves of one split is llm.glu of the
// packed value.
// CHECK-LABEL: func.func @silu
// CHECK: %[[G:.*]] = llm.glu %arg0 {activation = "silu"} : tensor<?x16xf32> -> tensor<?x8xf32>
// CHECK: return %[[G]]
func.func @silu(%gu: tensor<?x16xf32>) -> tensor<?x8xf32> {
  %g, %u = llm.split %gu {sizes = array<i64: 8, 8>} : tensor<?x16xf32> -> tensor<?x8xf32>, tensor<?x8xf32>
  %a = llm.silu %g : tensor<?x8xf32>
  %m = llm.mul %u, %a : tensor<?x8xf32>
  return %m : tensor<?x8xf32>
}

// CHECK-LABEL: func.func @gelu_tanh
// CHECK: llm.glu %arg0 {activation = "gelu_tanh"} : tensor<?x16xf32> -> tensor<?x8xf32>
func.func @gelu_tanh(%gu: tensor<?x16xf32>) -> tensor<?x8xf32> {
  %g, %u = llm.split %gu {sizes = array<i64: 8, 8>} : tensor<?x16xf32> -> tensor<?x8xf32>, tensor<?x8xf32>
  %a = llm.gelu %g {approximate = "tanh"} : tensor<?x8xf32>
  %m = llm.mul %a, %u : tensor<?x8xf32>
  return %m : tensor<?x8xf32>
}

// Refused: the activation is on the second half (up, gate order); halves of different splits.
// CHECK-LABEL: func.func @refused
// CHECK-NOT: llm.glu
func.func @refused(%gu: tensor<?x16xf32>, %hv: tensor<?x16xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %g, %u = llm.split %gu {sizes = array<i64: 8, 8>} : tensor<?x16xf32> -> tensor<?x8xf32>, tensor<?x8xf32>
  %a = llm.silu %u : tensor<?x8xf32>
  %m = llm.mul %g, %a : tensor<?x8xf32>
  %g2, %u2 = llm.split %hv {sizes = array<i64: 8, 8>} : tensor<?x16xf32> -> tensor<?x8xf32>, tensor<?x8xf32>
  %a2 = llm.silu %g2 : tensor<?x8xf32>
  %m2 = llm.mul %a2, %u : tensor<?x8xf32>
  return %m, %m2 : tensor<?x8xf32>, tensor<?x8xf32>
}
