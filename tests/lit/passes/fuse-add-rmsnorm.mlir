// RUN: llmc-opt %s -split-input-file --llmc-fuse-add-rmsnorm | FileCheck %s

// The residual stream: %s feeds the norm and the next residual add.
// CHECK-LABEL: func.func @residual
// CHECK-SAME: (%[[A:.*]]: tensor<?x64xf32>, %[[B:.*]]: tensor<?x64xf32>)
// CHECK-NEXT: %[[SUM:.*]], %[[Y:.*]] = llm.add_rms_norm %[[A]], %[[B]] {eps = 9.99999974E-6 : f32, unit_offset = true, weight = @n} : tensor<?x64xf32>
// CHECK-NEXT: %[[L:.*]] = llm.linear %[[Y]]
// CHECK-NEXT: %[[R:.*]] = llm.add %[[L]], %[[SUM]]
// CHECK-NEXT: return %[[R]]
llm.weight @n {source = "n", shape = array<i64: 64>, dtype = "f32"}
llm.weight @w {source = "w", shape = array<i64: 64, 64>, dtype = "f32"}
func.func @residual(%a: tensor<?x64xf32>, %b: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %s = llm.add %a, %b : tensor<?x64xf32>
  %y = llm.rms_norm %s {weight = @n, eps = 1.0e-5 : f32, unit_offset = true} : tensor<?x64xf32>
  %l = llm.linear %y {weight = @w} : tensor<?x64xf32> -> tensor<?x64xf32>
  %r = llm.add %l, %s : tensor<?x64xf32>
  return %r : tensor<?x64xf32>
}

// -----

// The sum is used before the norm: the fused op sits where the add was, so it still dominates.
// CHECK-LABEL: func.func @use_before_norm
// CHECK-NEXT: %[[SUM:.*]], %[[Y:.*]] = llm.add_rms_norm
// CHECK-NEXT: %[[T:.*]] = llm.silu %[[SUM]]
// CHECK-NEXT: llm.add %[[T]], %[[Y]]
llm.weight @n {source = "n", shape = array<i64: 64>, dtype = "f32"}
func.func @use_before_norm(%a: tensor<?x64xf32>, %b: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %s = llm.add %a, %b : tensor<?x64xf32>
  %t = llm.silu %s : tensor<?x64xf32>
  %y = llm.rms_norm %s {weight = @n, eps = 1.0e-5 : f32} : tensor<?x64xf32>
  %r = llm.add %t, %y : tensor<?x64xf32>
  return %r : tensor<?x64xf32>
}

// -----

// Not fused: the norm is the sum's only reader (no residual stream to keep).
// CHECK-LABEL: func.func @single_use
// CHECK-NOT: llm.add_rms_norm
// CHECK: llm.add
// CHECK-NEXT: llm.rms_norm
llm.weight @n {source = "n", shape = array<i64: 64>, dtype = "f32"}
func.func @single_use(%a: tensor<?x64xf32>, %b: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %s = llm.add %a, %b : tensor<?x64xf32>
  %y = llm.rms_norm %s {weight = @n, eps = 1.0e-5 : f32} : tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// Not fused: layer_norm is not rms_norm, and a norm of a non-add stays.
// CHECK-LABEL: func.func @other_norms
// CHECK-NOT: llm.add_rms_norm
// CHECK: llm.layer_norm
// CHECK: llm.rms_norm
llm.weight @n {source = "n", shape = array<i64: 64>, dtype = "f32"}
func.func @other_norms(%a: tensor<?x64xf32>, %b: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  %s = llm.add %a, %b : tensor<?x64xf32>
  %y = llm.layer_norm %s {weight = @n, eps = 1.0e-5 : f32} : tensor<?x64xf32>
  %m = llm.mul %a, %b : tensor<?x64xf32>
  %z = llm.rms_norm %m {weight = @n, eps = 1.0e-5 : f32} : tensor<?x64xf32>
  return %s, %y, %z : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}
