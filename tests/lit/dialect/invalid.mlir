// Every verifier of the llm dialect rejects what it must, with its message.
// RUN: llmc-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{dtype must be f32, f16 or bf16, got 'f64'}}
llm.weight @w {source = "w", shape = array<i64: 4>, dtype = "f64"}

// -----

// expected-error @+1 {{shape dimensions must be positive}}
llm.weight @w {source = "w", shape = array<i64: 4, 0>, dtype = "f32"}

// -----

// expected-error @+1 {{shape must have at least one dimension}}
llm.weight @w {source = "w", shape = array<i64>, dtype = "f32"}

// -----

// expected-error @+1 {{source name must not be empty}}
llm.weight @w {source = "", shape = array<i64: 4>, dtype = "f32"}

// -----

func.func @f() {
  // expected-error @+1 {{expects parent op 'builtin.module'}}
  llm.weight @w {source = "w", shape = array<i64: 4>, dtype = "f32"}
  return
}

// -----

llm.weight @a {source = "a", shape = array<i64: 4, 8>, dtype = "f32"}
// expected-error @+1 {{part 1 (@nothing) does not name a weight symbol}}
llm.weight_concat @c {parts = [@a, @nothing], axis = 0 : i64}

// -----

llm.weight @a {source = "a", shape = array<i64: 4, 8>, dtype = "f32"}
llm.weight @b {source = "b", shape = array<i64: 4, 6>, dtype = "f32"}
// expected-error @+1 {{part 1 differs from part 0 in dimension 1 (6 vs 8)}}
llm.weight_concat @c {parts = [@a, @b], axis = 0 : i64}

// -----

llm.weight @a {source = "a", shape = array<i64: 4, 8>, dtype = "f32"}
llm.weight @b {source = "b", shape = array<i64: 4, 8>, dtype = "bf16"}
// expected-error @+1 {{part 1 has dtype bf16, part 0 has f32}}
llm.weight_concat @c {parts = [@a, @b], axis = 0 : i64}

// -----

llm.weight @a {source = "a", shape = array<i64: 4, 8>, dtype = "f32"}
// expected-error @+1 {{axis 2 out of range for part 0 of rank 2}}
llm.weight_concat @c {parts = [@a, @a], axis = 2 : i64}

// -----

llm.weight @a {source = "a", shape = array<i64: 4, 8>, dtype = "f32"}
// expected-error @+1 {{part 1 (@c) has no derivable shape/dtype (cyclic or invalid)}}
llm.weight_concat @c {parts = [@a, @c], axis = 0 : i64}

// -----

llm.weight @a {source = "a", shape = array<i64: 8>, dtype = "f32"}
// expected-error @+1 {{input must be 2-D, has rank 1}}
llm.weight_transpose @t {input = @a}

// -----

func.func @f(%x: tensor<?x?xf32>) {
  // expected-error @+1 {{operand #0 must have a static width, got 'tensor<?x?xf32>'}}
  %y = llm.silu %x : tensor<?x?xf32>
  return
}

// -----

llm.weight @w {source = "w", shape = array<i64: 32, 64>, dtype = "f32"}
func.func @f(%x: tensor<3x64xf32>) {
  // expected-error @+1 {{operands and results must have the same row count, got 3 and 4}}
  %y = llm.linear %x {weight = @w} : tensor<3x64xf32> -> tensor<4x32xf32>
  return
}

// -----

func.func @f(%x: tensor<?x64xi32>) {
  // expected-error @+1 {{operand #0 must be 2D tensor of 32-bit float values}}
  %y = llm.silu %x : tensor<?x64xi32>
  return
}

// -----

llm.weight @emb {source = "e", shape = array<i64: 100, 32>, dtype = "f32"}
func.func @f(%ids: tensor<?xi32>) {
  // expected-error @+1 {{'weight' @emb has shape [100, 32], expected [?, 64]}}
  %x = llm.embedding %ids {weight = @emb} : tensor<?xi32> -> tensor<?x64xf32>
  return
}

// -----

llm.weight @pos {source = "p", shape = array<i64: 64>, dtype = "f32"}
func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'weight' @pos has shape [64], expected [?, 64]}}
  %y = llm.position_embedding %x {weight = @pos} : tensor<?x64xf32>
  return
}

// -----

llm.weight @w {source = "w", shape = array<i64: 32, 64>, dtype = "f32"}
func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'weight' @w has shape [32, 64], expected [48, 64]}}
  %y = llm.linear %x {weight = @w} : tensor<?x64xf32> -> tensor<?x48xf32>
  return
}

// -----

llm.weight @w {source = "w", shape = array<i64: 32, 64>, dtype = "f32"}
func.func @f(%x: tensor<?x16xf32>) {
  // expected-error @+1 {{'weight' @w has shape [32, 64], expected [32, 16]}}
  %y = llm.linear %x {weight = @w} : tensor<?x16xf32> -> tensor<?x32xf32>
  return
}

// -----

llm.weight @w {source = "w", shape = array<i64: 32, 64>, dtype = "f32"}
llm.weight @b {source = "b", shape = array<i64: 64>, dtype = "f32"}
func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'bias' @b has shape [64], expected [32]}}
  %y = llm.linear %x {weight = @w, bias = @b} : tensor<?x64xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'weight' @missing does not name a weight symbol}}
  %y = llm.linear %x {weight = @missing} : tensor<?x64xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @g() { return }
func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'weight' @g does not name a weight symbol}}
  %y = llm.linear %x {weight = @g} : tensor<?x64xf32> -> tensor<?x32xf32>
  return
}

// -----

llm.weight @a {source = "a", shape = array<i64: 16, 64>, dtype = "f32"}
llm.weight_concat @c {parts = [@a, @a], axis = 0 : i64}
func.func @f(%x: tensor<?x64xf32>) {
  // The derived shape is [32, 64]: a 16-wide result is rejected.
  // expected-error @+1 {{'weight' @c has shape [32, 64], expected [16, 64]}}
  %y = llm.linear %x {weight = @c} : tensor<?x64xf32> -> tensor<?x16xf32>
  return
}

// -----

llm.weight @a {source = "a", shape = array<i64: 64, 16>, dtype = "f32"}
llm.weight_transpose @t {input = @a}
func.func @f(%x: tensor<?x64xf32>) {
  // The derived shape is [16, 64].
  // expected-error @+1 {{'weight' @t has shape [16, 64], expected [64, 64]}}
  %y = llm.linear %x {weight = @t} : tensor<?x64xf32> -> tensor<?x64xf32>
  return
}

// -----

llm.weight @n {source = "n", shape = array<i64: 32>, dtype = "f32"}
func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'weight' @n has shape [32], expected [64]}}
  %y = llm.rms_norm %x {weight = @n, eps = 1.0e-5 : f32} : tensor<?x64xf32>
  return
}

// -----

llm.weight @n {source = "n", shape = array<i64: 32>, dtype = "f32"}
func.func @f(%x: tensor<?x64xf32>, %r: tensor<?x64xf32>) {
  // expected-error @+1 {{'weight' @n has shape [32], expected [64]}}
  %s, %y = llm.add_rms_norm %x, %r {weight = @n, eps = 1.0e-5 : f32} : tensor<?x64xf32>
  return
}

// -----

llm.weight @n {source = "n", shape = array<i64: 64>, dtype = "f32"}
llm.weight @b {source = "b", shape = array<i64: 63>, dtype = "f32"}
func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'bias' @b has shape [63], expected [64]}}
  %y = llm.layer_norm %x {weight = @n, bias = @b, eps = 1.0e-5 : f32} : tensor<?x64xf32>
  return
}

// -----

func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{sizes sum to 60 but the input width is 64}}
  %a, %b = llm.split %x {sizes = array<i64: 30, 30>} : tensor<?x64xf32> -> tensor<?x30xf32>, tensor<?x30xf32>
  return
}

// -----

func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{has 3 sizes but 2 results}}
  %a, %b = llm.split %x {sizes = array<i64: 32, 16, 16>} : tensor<?x64xf32> -> tensor<?x32xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{result #1 has width 16 but size is 32}}
  %a, %b = llm.split %x {sizes = array<i64: 32, 32>} : tensor<?x64xf32> -> tensor<?x32xf32>, tensor<?x16xf32>
  return
}

// -----

func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{result must have exactly 1 row, got 'tensor<2x64xf32>'}}
  %y = llm.last_token %x : tensor<?x64xf32> -> tensor<2x64xf32>
  return
}

// -----

func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{result width 32 differs from input width 64}}
  %y = llm.last_token %x : tensor<?x64xf32> -> tensor<1x32xf32>
  return
}

// -----

func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{rotary_dim must be even and in (0, head_dim = 16], got 3}}
  %y = llm.rope %x {head_dim = 16 : i64, rotary_dim = 3 : i64, inv_freq = array<f32: 1.0>} : tensor<?x64xf32>
  return
}

// -----

func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{inv_freq must have rotary_dim / 2 = 2 values, has 1}}
  %y = llm.rope %x {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0>} : tensor<?x64xf32>
  return
}

// -----

func.func @f(%x: tensor<?x60xf32>) {
  // expected-error @+1 {{width 60 is not a multiple of head_dim 16}}
  %y = llm.rope %x {head_dim = 16 : i64, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>} : tensor<?x60xf32>
  return
}

// -----

func.func @f(%q: tensor<?x48xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) {
  // expected-error @+1 {{q width 48 != num_heads * head_dim = 64}}
  %o = llm.attention %q, %k, %v {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x48xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x48xf32>
  return
}

// -----

func.func @f(%q: tensor<?x64xf32>, %k: tensor<?x64xf32>, %v: tensor<?x32xf32>) {
  // expected-error @+1 {{k width 64 != num_kv_heads * head_dim = 32}}
  %o = llm.attention %q, %k, %v {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @f(%q: tensor<?x64xf32>, %k: tensor<?x48xf32>, %v: tensor<?x48xf32>) {
  // expected-error @+1 {{num_heads 4 is not a multiple of num_kv_heads 3}}
  %o = llm.attention %q, %k, %v {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 3 : i64, head_dim = 16 : i64, scale = 0.25 : f32} : tensor<?x64xf32>, tensor<?x48xf32>, tensor<?x48xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @f(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) {
  // expected-error @+1 {{sliding_window must be >= 0 (0 = none), got -1}}
  %o = llm.attention %q, %k, %v {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32, sliding_window = -1 : i64} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @f(%qkv: tensor<?x96xf32>) {
  // expected-error @+1 {{qkv width 96 != (num_heads + 2 * num_kv_heads) * head_dim = 128}}
  %o = llm.qkv_attention %qkv {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5>} : tensor<?x96xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @f(%qkv: tensor<?x128xf32>) {
  // expected-error @+1 {{inv_freq must have rotary_dim / 2 = 2 values, has 3}}
  %o = llm.qkv_attention %qkv {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f32, rotary_dim = 4 : i64, inv_freq = array<f32: 1.0, 0.5, 0.25>} : tensor<?x128xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{approximate must be "none" or "tanh", got "erf"}}
  %y = llm.gelu %x {approximate = "erf"} : tensor<?x64xf32>
  return
}

// -----

func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{input width 64 must be twice the output width 64}}
  %y = llm.glu %x {activation = "silu"} : tensor<?x64xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{activation must be silu, gelu_tanh or gelu, got "relu"}}
  %y = llm.glu %x {activation = "relu"} : tensor<?x64xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @f(%a: tensor<?x64xf32>, %b: tensor<?x32xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %y = "llm.add"(%a, %b) : (tensor<?x64xf32>, tensor<?x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'llm.offset' must be array<i64> with one entry per result (1)}}
  %y = llm.silu %x {llm.offset = array<i64: 0, 64>} : tensor<?x64xf32>
  return
}

// -----

// expected-error @+1 {{'llm.arena_per_token' must be a non-negative integer}}
func.func @f() attributes {llm.arena_per_token = "big"} {
  return
}
