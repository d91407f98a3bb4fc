// RUN: not llmc-opt %s --llmc-check-raised --split-input-file 2>/dev/null | FileCheck %s --check-prefix=OK
// RUN: not llmc-opt %s --llmc-check-raised --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=ERR

// The per-token form passes unchanged.
// OK-LABEL: func.func @forward
// OK: llm.silu
func.func @forward(%x: tensor<?x8xf32>) -> tensor<1x8xf32> {
  %y = llm.silu %x : tensor<?x8xf32>
  %l = llm.last_token %y : tensor<?x8xf32> -> tensor<1x8xf32>
  return %l : tensor<1x8xf32>
}
// ERR-NOT: split at {{.*}}check-raised.mlir:1 offset

// -----

// Every generic op left is listed once with its count and where it first appears.
// ERR: error: not raised to the per-token form: llm.binary x2 (first at loc("mul_1")), llm.unary x1 (first at loc("sig"))
func.func @forward(%x: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  %s = llm.unary "sigmoid" %x : tensor<1x?x8xf32> -> tensor<1x?x8xf32> loc("sig")
  %y = llm.binary "mul" %x, %s : tensor<1x?x8xf32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32> loc("mul_1")
  %z = llm.binary "mul" %y, %s : tensor<1x?x8xf32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32> loc("mul_2")
  return %z : tensor<1x?x8xf32>
}

// -----

// Per-token ops only, but all rows' logits: the runtime needs the last row's.
// ERR: error: @forward must return the last token's logits (tensor<1xVxf32>), it returns 'tensor<?x8xf32>'
func.func @forward(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %y = llm.silu %x : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
