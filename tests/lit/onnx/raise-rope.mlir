// RUN: llmc-opt %s --llmc-raise-rope | FileCheck %s

// x = the [1, H, T, D] head view of a [T, H*D] activation; C, S = cos/sin tables of
// positions * [g, g]. llm.rope reads g from the tables (evaluated at probe lengths).
// CHECK-LABEL: func.func @rotate_half
// CHECK: %[[R:.*]] = llm.rope %arg0 {head_dim = 4 : i64, inv_freq = array<f32: 1.000000e+00, 0.00999999977>, rotary_dim = 4 : i64} : tensor<?x8xf32>
// CHECK: %[[V:.*]] = llm.reshape %[[R]] : tensor<?x8xf32> -> tensor<1x?x2x4xf32>
// CHECK: %[[Y:.*]] = llm.transpose %[[V]] {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x4xf32> -> tensor<1x2x?x4xf32>
// CHECK: return %[[Y]]
func.func @rotate_half(%a: tensor<?x8xf32>) -> tensor<1x2x?x4xf32> {
  %r = llm.reshape %a : tensor<?x8xf32> -> tensor<1x?x2x4xf32>
  %x = llm.transpose %r {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x4xf32> -> tensor<1x2x?x4xf32>
  %p = llm.positions : tensor<?xi64>
  %pf = llm.cast %p : tensor<?xi64> -> tensor<?xf32>
  %p2 = llm.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %g = llm.constant {value = dense<[1.0, 0.01]> : tensor<2xf32>} : tensor<2xf32>
  %ang = llm.binary "mul" %p2, %g : tensor<?x1xf32>, tensor<2xf32> -> tensor<?x2xf32>
  %f = llm.concat %ang, %ang {axis = 1 : i64} : tensor<?x2xf32>, tensor<?x2xf32> -> tensor<?x4xf32>
  %cos = llm.unary "cos" %f : tensor<?x4xf32> -> tensor<?x4xf32>
  %sin = llm.unary "sin" %f : tensor<?x4xf32> -> tensor<?x4xf32>
  %c = llm.reshape %cos : tensor<?x4xf32> -> tensor<1x1x?x4xf32>
  %s = llm.reshape %sin : tensor<?x4xf32> -> tensor<1x1x?x4xf32>
  %lo = llm.slice %x {axes = array<i64: 3>, starts = array<i64: 0>, ends = array<i64: 2>, steps = array<i64: 1>} : tensor<1x2x?x4xf32> -> tensor<1x2x?x2xf32>
  %hi = llm.slice %x {axes = array<i64: 3>, starts = array<i64: 2>, ends = array<i64: 4>, steps = array<i64: 1>} : tensor<1x2x?x4xf32> -> tensor<1x2x?x2xf32>
  %nhi = llm.unary "neg" %hi : tensor<1x2x?x2xf32> -> tensor<1x2x?x2xf32>
  %rh = llm.concat %nhi, %lo {axis = 3 : i64} : tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32> -> tensor<1x2x?x4xf32>
  %xc = llm.binary "mul" %x, %c : tensor<1x2x?x4xf32>, tensor<1x1x?x4xf32> -> tensor<1x2x?x4xf32>
  %rs = llm.binary "mul" %s, %rh : tensor<1x1x?x4xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  %y = llm.binary "add" %rs, %xc : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  return %y : tensor<1x2x?x4xf32>
}

// Partial rotary (Phi-3, rotary dims 2 of head_dim 4): rope on x[.., :2], x[.., 2:] passed
// through, concatenated: llm.rope with rotary_dim 2 on the whole head.
// CHECK-LABEL: func.func @partial
// CHECK: %[[R:.*]] = llm.rope %arg0 {head_dim = 4 : i64, inv_freq = array<f32: 5.000000e-01>, rotary_dim = 2 : i64} : tensor<?x8xf32>
// CHECK: %[[V:.*]] = llm.reshape %[[R]] : tensor<?x8xf32> -> tensor<1x?x2x4xf32>
// CHECK: %[[Y:.*]] = llm.transpose %[[V]] {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x4xf32> -> tensor<1x2x?x4xf32>
// CHECK: return %[[Y]]
func.func @partial(%a: tensor<?x8xf32>) -> tensor<1x2x?x4xf32> {
  %r = llm.reshape %a : tensor<?x8xf32> -> tensor<1x?x2x4xf32>
  %v = llm.transpose %r {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x4xf32> -> tensor<1x2x?x4xf32>
  %x = llm.slice %v {axes = array<i64: 3>, starts = array<i64: 0>, ends = array<i64: 2>, steps = array<i64: 1>} : tensor<1x2x?x4xf32> -> tensor<1x2x?x2xf32>
  %pass = llm.slice %v {axes = array<i64: 3>, starts = array<i64: 2>, ends = array<i64: 4>, steps = array<i64: 1>} : tensor<1x2x?x4xf32> -> tensor<1x2x?x2xf32>
  %p = llm.positions : tensor<?xi64>
  %pf = llm.cast %p : tensor<?xi64> -> tensor<?xf32>
  %p2 = llm.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %g = llm.constant {value = dense<[0.5]> : tensor<1xf32>} : tensor<1xf32>
  %ang = llm.binary "mul" %p2, %g : tensor<?x1xf32>, tensor<1xf32> -> tensor<?x1xf32>
  %f = llm.concat %ang, %ang {axis = 1 : i64} : tensor<?x1xf32>, tensor<?x1xf32> -> tensor<?x2xf32>
  %cos = llm.unary "cos" %f : tensor<?x2xf32> -> tensor<?x2xf32>
  %sin = llm.unary "sin" %f : tensor<?x2xf32> -> tensor<?x2xf32>
  %c = llm.reshape %cos : tensor<?x2xf32> -> tensor<1x1x?x2xf32>
  %s = llm.reshape %sin : tensor<?x2xf32> -> tensor<1x1x?x2xf32>
  %lo = llm.slice %x {axes = array<i64: 3>, starts = array<i64: 0>, ends = array<i64: 1>, steps = array<i64: 1>} : tensor<1x2x?x2xf32> -> tensor<1x2x?x1xf32>
  %hi = llm.slice %x {axes = array<i64: 3>, starts = array<i64: 1>, ends = array<i64: 2>, steps = array<i64: 1>} : tensor<1x2x?x2xf32> -> tensor<1x2x?x1xf32>
  %nhi = llm.unary "neg" %hi : tensor<1x2x?x1xf32> -> tensor<1x2x?x1xf32>
  %rh = llm.concat %nhi, %lo {axis = 3 : i64} : tensor<1x2x?x1xf32>, tensor<1x2x?x1xf32> -> tensor<1x2x?x2xf32>
  %xc = llm.binary "mul" %x, %c : tensor<1x2x?x2xf32>, tensor<1x1x?x2xf32> -> tensor<1x2x?x2xf32>
  %rs = llm.binary "mul" %rh, %s : tensor<1x2x?x2xf32>, tensor<1x1x?x2xf32> -> tensor<1x2x?x2xf32>
  %y = llm.binary "add" %xc, %rs : tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32> -> tensor<1x2x?x2xf32>
  %out = llm.concat %y, %pass {axis = 3 : i64} : tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32> -> tensor<1x2x?x4xf32>
  return %out : tensor<1x2x?x4xf32>
}

// Refused: the frequencies are laid out pairwise ([g0, g0, g1, g1], GPT-J style), which the
// rotate-half product does not implement; and an x that is not a head view (no transpose).
// CHECK-LABEL: func.func @refused
// CHECK-NOT: llm.rope
func.func @refused(%a: tensor<?x8xf32>) -> (tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>) {
  %r = llm.reshape %a : tensor<?x8xf32> -> tensor<1x?x2x4xf32>
  %x = llm.transpose %r {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x4xf32> -> tensor<1x2x?x4xf32>
  %p = llm.positions : tensor<?xi64>
  %pf = llm.cast %p : tensor<?xi64> -> tensor<?xf32>
  %p2 = llm.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %g = llm.constant {value = dense<[1.0, 1.0, 0.01, 0.01]> : tensor<4xf32>} : tensor<4xf32>
  %f = llm.binary "mul" %p2, %g : tensor<?x1xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %cos = llm.unary "cos" %f : tensor<?x4xf32> -> tensor<?x4xf32>
  %sin = llm.unary "sin" %f : tensor<?x4xf32> -> tensor<?x4xf32>
  %c = llm.reshape %cos : tensor<?x4xf32> -> tensor<1x1x?x4xf32>
  %s = llm.reshape %sin : tensor<?x4xf32> -> tensor<1x1x?x4xf32>
  %lo = llm.slice %x {axes = array<i64: 3>, starts = array<i64: 0>, ends = array<i64: 2>, steps = array<i64: 1>} : tensor<1x2x?x4xf32> -> tensor<1x2x?x2xf32>
  %hi = llm.slice %x {axes = array<i64: 3>, starts = array<i64: 2>, ends = array<i64: 4>, steps = array<i64: 1>} : tensor<1x2x?x4xf32> -> tensor<1x2x?x2xf32>
  %nhi = llm.unary "neg" %hi : tensor<1x2x?x2xf32> -> tensor<1x2x?x2xf32>
  %rh = llm.concat %nhi, %lo {axis = 3 : i64} : tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32> -> tensor<1x2x?x4xf32>
  %xc = llm.binary "mul" %x, %c : tensor<1x2x?x4xf32>, tensor<1x1x?x4xf32> -> tensor<1x2x?x4xf32>
  %rs = llm.binary "mul" %rh, %s : tensor<1x2x?x4xf32>, tensor<1x1x?x4xf32> -> tensor<1x2x?x4xf32>
  %y = llm.binary "add" %xc, %rs : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  // Not a head view: [T, 8] reshaped straight to [1, 2, T, 4] mixes tokens and heads.
  %w = llm.reshape %a : tensor<?x8xf32> -> tensor<1x2x?x4xf32>
  %g2 = llm.constant {value = dense<[1.0, 0.01]> : tensor<2xf32>} : tensor<2xf32>
  %ang = llm.binary "mul" %p2, %g2 : tensor<?x1xf32>, tensor<2xf32> -> tensor<?x2xf32>
  %f2 = llm.concat %ang, %ang {axis = 1 : i64} : tensor<?x2xf32>, tensor<?x2xf32> -> tensor<?x4xf32>
  %cos2 = llm.unary "cos" %f2 : tensor<?x4xf32> -> tensor<?x4xf32>
  %sin2 = llm.unary "sin" %f2 : tensor<?x4xf32> -> tensor<?x4xf32>
  %c2 = llm.reshape %cos2 : tensor<?x4xf32> -> tensor<1x1x?x4xf32>
  %s2 = llm.reshape %sin2 : tensor<?x4xf32> -> tensor<1x1x?x4xf32>
  %lo2 = llm.slice %w {axes = array<i64: 3>, starts = array<i64: 0>, ends = array<i64: 2>, steps = array<i64: 1>} : tensor<1x2x?x4xf32> -> tensor<1x2x?x2xf32>
  %hi2 = llm.slice %w {axes = array<i64: 3>, starts = array<i64: 2>, ends = array<i64: 4>, steps = array<i64: 1>} : tensor<1x2x?x4xf32> -> tensor<1x2x?x2xf32>
  %nhi2 = llm.unary "neg" %hi2 : tensor<1x2x?x2xf32> -> tensor<1x2x?x2xf32>
  %rh2 = llm.concat %nhi2, %lo2 {axis = 3 : i64} : tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32> -> tensor<1x2x?x4xf32>
  %wc = llm.binary "mul" %w, %c2 : tensor<1x2x?x4xf32>, tensor<1x1x?x4xf32> -> tensor<1x2x?x4xf32>
  %ws = llm.binary "mul" %rh2, %s2 : tensor<1x2x?x4xf32>, tensor<1x1x?x4xf32> -> tensor<1x2x?x4xf32>
  %y2 = llm.binary "add" %wc, %ws : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32>
  return %y, %y2 : tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>
}
