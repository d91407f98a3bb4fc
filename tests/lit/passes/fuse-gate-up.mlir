// RUN: llmc-opt %s -split-input-file --llmc-fuse-gate-up | FileCheck %s

// Llama MLP: silu(gate) * up.
// CHECK-LABEL: module
// CHECK: llm.weight @wu
// CHECK-NEXT: llm.weight_concat @wg.gate_up {axis = 0 : i64, parts = [@wg, @wu]}
// CHECK-LABEL: func.func @silu
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
// CHECK-NEXT: %[[GU:.*]] = llm.linear %[[X]] {weight = @wg.gate_up} : tensor<?x64xf32> -> tensor<?x256xf32>
// CHECK-NEXT: %[[H:.*]] = llm.glu %[[GU]] {activation = "silu"} : tensor<?x256xf32> -> tensor<?x128xf32>
// CHECK-NEXT: %[[D:.*]] = llm.linear %[[H]] {weight = @wd}
// CHECK-NEXT: return %[[D]]
llm.weight @wg {source = "gate", shape = array<i64: 128, 64>, dtype = "f32"}
llm.weight @wu {source = "up", shape = array<i64: 128, 64>, dtype = "f32"}
llm.weight @wd {source = "down", shape = array<i64: 64, 128>, dtype = "f32"}
func.func @silu(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %g = llm.linear %x {weight = @wg} : tensor<?x64xf32> -> tensor<?x128xf32>
  %u = llm.linear %x {weight = @wu} : tensor<?x64xf32> -> tensor<?x128xf32>
  %a = llm.silu %g : tensor<?x128xf32>
  %h = llm.mul %a, %u : tensor<?x128xf32>
  %d = llm.linear %h {weight = @wd} : tensor<?x128xf32> -> tensor<?x64xf32>
  return %d : tensor<?x64xf32>
}

// -----

// Gemma-style gelu(tanh), product written up * act(gate), up computed first: parts stay
// [gate, up] (llm.glu's gate half comes first).
// CHECK-LABEL: module
// CHECK: llm.weight_concat @wg.gate_up {axis = 0 : i64, parts = [@wg, @wu]}
// CHECK-LABEL: func.func @gelu_tanh
// CHECK-NEXT: %[[GU:.*]] = llm.linear %{{.*}} {weight = @wg.gate_up}
// CHECK-NEXT: llm.glu %[[GU]] {activation = "gelu_tanh"}
llm.weight @wg {source = "gate", shape = array<i64: 128, 64>, dtype = "bf16"}
llm.weight @wu {source = "up", shape = array<i64: 128, 64>, dtype = "bf16"}
func.func @gelu_tanh(%x: tensor<?x64xf32>) -> tensor<?x128xf32> {
  %u = llm.linear %x {weight = @wu} : tensor<?x64xf32> -> tensor<?x128xf32>
  %g = llm.linear %x {weight = @wg} : tensor<?x64xf32> -> tensor<?x128xf32>
  %a = llm.gelu %g {approximate = "tanh"} : tensor<?x128xf32>
  %h = llm.mul %u, %a : tensor<?x128xf32>
  return %h : tensor<?x128xf32>
}

// -----

// Exact gelu, with biases on both projections.
// CHECK-LABEL: module
// CHECK: llm.weight_concat @wg.gate_up {axis = 0 : i64, parts = [@wg, @wu]}
// CHECK: llm.weight_concat @bg.gate_up {axis = 0 : i64, parts = [@bg, @bu]}
// CHECK-LABEL: func.func @gelu_biased
// CHECK-NEXT: %[[GU:.*]] = llm.linear %{{.*}} {bias = @bg.gate_up, weight = @wg.gate_up}
// CHECK-NEXT: llm.glu %[[GU]] {activation = "gelu"}
llm.weight @wg {source = "gate", shape = array<i64: 128, 64>, dtype = "f32"}
llm.weight @wu {source = "up", shape = array<i64: 128, 64>, dtype = "f32"}
llm.weight @bg {source = "bg", shape = array<i64: 128>, dtype = "f32"}
llm.weight @bu {source = "bu", shape = array<i64: 128>, dtype = "f32"}
func.func @gelu_biased(%x: tensor<?x64xf32>) -> tensor<?x128xf32> {
  %g = llm.linear %x {weight = @wg, bias = @bg} : tensor<?x64xf32> -> tensor<?x128xf32>
  %u = llm.linear %x {weight = @wu, bias = @bu} : tensor<?x64xf32> -> tensor<?x128xf32>
  %a = llm.gelu %g : tensor<?x128xf32>
  %h = llm.mul %a, %u : tensor<?x128xf32>
  return %h : tensor<?x128xf32>
}

// -----

// Refused: the activation's result is also returned; llm.glu would not produce it.
// CHECK-LABEL: func.func @act_reused
// CHECK-NOT: llm.glu
// CHECK: llm.silu
// CHECK-NEXT: llm.mul
llm.weight @wg {source = "gate", shape = array<i64: 128, 64>, dtype = "f32"}
llm.weight @wu {source = "up", shape = array<i64: 128, 64>, dtype = "f32"}
func.func @act_reused(%x: tensor<?x64xf32>) -> (tensor<?x128xf32>, tensor<?x128xf32>) {
  %g = llm.linear %x {weight = @wg} : tensor<?x64xf32> -> tensor<?x128xf32>
  %u = llm.linear %x {weight = @wu} : tensor<?x64xf32> -> tensor<?x128xf32>
  %a = llm.silu %g : tensor<?x128xf32>
  %h = llm.mul %a, %u : tensor<?x128xf32>
  return %h, %a : tensor<?x128xf32>, tensor<?x128xf32>
}

// -----

// Refused: gate and up read different inputs.
// CHECK-LABEL: func.func @different_inputs
// CHECK-NOT: llm.glu
// CHECK: llm.mul
llm.weight @wg {source = "gate", shape = array<i64: 128, 64>, dtype = "f32"}
llm.weight @wu {source = "up", shape = array<i64: 128, 64>, dtype = "f32"}
func.func @different_inputs(%x: tensor<?x64xf32>, %y: tensor<?x64xf32>) -> tensor<?x128xf32> {
  %g = llm.linear %x {weight = @wg} : tensor<?x64xf32> -> tensor<?x128xf32>
  %u = llm.linear %y {weight = @wu} : tensor<?x64xf32> -> tensor<?x128xf32>
  %a = llm.silu %g : tensor<?x128xf32>
  %h = llm.mul %a, %u : tensor<?x128xf32>
  return %h : tensor<?x128xf32>
}

// -----

// Refused: only the gate has a bias.
// CHECK-LABEL: func.func @one_bias
// CHECK-NOT: llm.glu
// CHECK: llm.mul
llm.weight @wg {source = "gate", shape = array<i64: 128, 64>, dtype = "f32"}
llm.weight @wu {source = "up", shape = array<i64: 128, 64>, dtype = "f32"}
llm.weight @bg {source = "bg", shape = array<i64: 128>, dtype = "f32"}
func.func @one_bias(%x: tensor<?x64xf32>) -> tensor<?x128xf32> {
  %g = llm.linear %x {weight = @wg, bias = @bg} : tensor<?x64xf32> -> tensor<?x128xf32>
  %u = llm.linear %x {weight = @wu} : tensor<?x64xf32> -> tensor<?x128xf32>
  %a = llm.silu %g : tensor<?x128xf32>
  %h = llm.mul %a, %u : tensor<?x128xf32>
  return %h : tensor<?x128xf32>
}

// -----

// Refused: no activation on either side (a plain product of two projections).
// CHECK-LABEL: func.func @no_activation
// CHECK-NOT: llm.glu
// CHECK: llm.mul
llm.weight @wg {source = "gate", shape = array<i64: 128, 64>, dtype = "f32"}
llm.weight @wu {source = "up", shape = array<i64: 128, 64>, dtype = "f32"}
func.func @no_activation(%x: tensor<?x64xf32>) -> tensor<?x128xf32> {
  %g = llm.linear %x {weight = @wg} : tensor<?x64xf32> -> tensor<?x128xf32>
  %u = llm.linear %x {weight = @wu} : tensor<?x64xf32> -> tensor<?x128xf32>
  %h = llm.mul %g, %u : tensor<?x128xf32>
  return %h : tensor<?x128xf32>
}
