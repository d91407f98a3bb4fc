// llmc-plan-memory refuses values it cannot place.
// RUN: llmc-opt %s -split-input-file --llmc-plan-memory -verify-diagnostics

func.func @not_activation() -> i32 {
  // expected-error @+1 {{llmc-plan-memory: result is not a [T, W] activation with static W: 'i32'}}
  %c = arith.constant 1 : i32
  return %c : i32
}
