// Offsets are checked against hand-computed first-fit plans (f32 elements per token).
// RUN: llmc-opt %s -split-input-file --llmc-plan-memory | FileCheck %s
// Planning again gives the same plan (deterministic, existing offsets ignored).
// RUN: llmc-opt %s -split-input-file --llmc-plan-memory | llmc-opt -split-input-file --llmc-plan-memory | FileCheck %s

// Live ranges (op index): %0 [0,3] %1 [1,2] %2 [2,3] %3 [3,4] %4 [4,5] %5 [5,6 = return].
//   %0 -> 0;  %1: %0 live -> 64;  %2: %0, %1 live -> 192;  %3: %0 @0, %2 @192 live -> gap at 64;
//   %4: %3 @[64,128) live -> 0;  %5: %4 @[0,64) live -> 64.  Arena = 192 + 64 = 256.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: attributes {llm.arena_per_token = 256 : i64}
// CHECK-NEXT: llm.embedding {{.*}}llm.offset = array<i64: 0>
// CHECK-NEXT: llm.linear {{.*}}llm.offset = array<i64: 64>
// CHECK-NEXT: llm.linear {{.*}}llm.offset = array<i64: 192>
// CHECK-NEXT: llm.add {{.*}}llm.offset = array<i64: 64>
// CHECK-NEXT: llm.last_token {{.*}}llm.offset = array<i64: 0>
// CHECK-NEXT: llm.linear {{.*}}llm.offset = array<i64: 64>
// CHECK-NEXT: return
llm.weight @e {source = "e", shape = array<i64: 10, 64>, dtype = "f32"}
llm.weight @w1 {source = "w1", shape = array<i64: 128, 64>, dtype = "f32"}
llm.weight @w2 {source = "w2", shape = array<i64: 64, 128>, dtype = "f32"}
llm.weight @w3 {source = "w3", shape = array<i64: 32, 64>, dtype = "f32"}
func.func @chain(%ids: tensor<?xi32>) -> tensor<1x32xf32> {
  %0 = llm.embedding %ids {weight = @e} : tensor<?xi32> -> tensor<?x64xf32>
  %1 = llm.linear %0 {weight = @w1} : tensor<?x64xf32> -> tensor<?x128xf32>
  %2 = llm.linear %1 {weight = @w2} : tensor<?x128xf32> -> tensor<?x64xf32>
  %3 = llm.add %0, %2 : tensor<?x64xf32>
  %4 = llm.last_token %3 : tensor<?x64xf32> -> tensor<1x64xf32>
  %5 = llm.linear %4 {weight = @w3} : tensor<1x64xf32> -> tensor<1x32xf32>
  return %5 : tensor<1x32xf32>
}

// -----

// Multi-result ops get one offset per result; an unused result still takes space at its op.
//   %0 [0,1] -> 0;  %1#0 [1,3] -> 64;  %1#1 [1,1] -> 96;  %2 [2,3]: only %1#0 live -> 0;
//   %3 [3,4]: %1#0 @64, %2 @[0,32) live -> 32;  %4: %3 @[32,64) live -> 0.  Arena = 128.
// CHECK-LABEL: func.func @multi
// CHECK-SAME: attributes {llm.arena_per_token = 128 : i64}
// CHECK-NEXT: llm.embedding {{.*}}llm.offset = array<i64: 0>
// CHECK-NEXT: llm.split {{.*}}llm.offset = array<i64: 64, 96>
// CHECK-NEXT: llm.silu {{.*}}llm.offset = array<i64: 0>
// CHECK-NEXT: llm.mul {{.*}}llm.offset = array<i64: 32>
// CHECK-NEXT: llm.last_token {{.*}}llm.offset = array<i64: 0>
llm.weight @e {source = "e", shape = array<i64: 10, 64>, dtype = "f32"}
func.func @multi(%ids: tensor<?xi32>) -> tensor<1x32xf32> {
  %0 = llm.embedding %ids {weight = @e} : tensor<?xi32> -> tensor<?x64xf32>
  %1:2 = llm.split %0 {sizes = array<i64: 32, 32>} : tensor<?x64xf32> -> tensor<?x32xf32>, tensor<?x32xf32>
  %2 = llm.silu %1#0 : tensor<?x32xf32>
  %3 = llm.mul %1#0, %2 : tensor<?x32xf32>
  %4 = llm.last_token %3 : tensor<?x32xf32> -> tensor<1x32xf32>
  return %4 : tensor<1x32xf32>
}

// -----

// A returned value stays live to the return; a later value fills the first gap that fits.
//   %0 [0,4] -> 0 (w16);  %1 [1,2] -> 16 (w64);  %2 [2,3]: %0 @[0,16), %1 @[16,80) -> 80 (w8);
//   %3 [3,4]: %0, %2 live -> gap [16,80) fits 16 -> 16.  Arena = 88.
// CHECK-LABEL: func.func @gaps
// CHECK-SAME: attributes {llm.arena_per_token = 88 : i64}
// CHECK-NEXT: llm.silu {{.*}}llm.offset = array<i64: 0>
// CHECK-NEXT: llm.linear {{.*}}llm.offset = array<i64: 16>
// CHECK-NEXT: llm.linear {{.*}}llm.offset = array<i64: 80>
// CHECK-NEXT: llm.linear {{.*}}llm.offset = array<i64: 16>
llm.weight @a {source = "a", shape = array<i64: 64, 16>, dtype = "f32"}
llm.weight @b {source = "b", shape = array<i64: 8, 64>, dtype = "f32"}
llm.weight @c {source = "c", shape = array<i64: 16, 8>, dtype = "f32"}
func.func @gaps(%x: tensor<?x16xf32>) -> (tensor<?x16xf32>, tensor<?x16xf32>) {
  %0 = llm.silu %x : tensor<?x16xf32>
  %1 = llm.linear %0 {weight = @a} : tensor<?x16xf32> -> tensor<?x64xf32>
  %2 = llm.linear %1 {weight = @b} : tensor<?x64xf32> -> tensor<?x8xf32>
  %3 = llm.linear %2 {weight = @c} : tensor<?x8xf32> -> tensor<?x16xf32>
  return %0, %3 : tensor<?x16xf32>, tensor<?x16xf32>
}
