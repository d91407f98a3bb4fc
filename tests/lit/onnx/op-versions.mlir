// The operator versions the converters are keyed by equal ONNX's own schemas (onnx package).
// RUN: llmc-import-onnx --list-ops > %t.ops
// RUN: %python %S/Inputs/check_versions.py %t.ops 25 | FileCheck %s
// CHECK: OK {{[0-9]+}} ops
