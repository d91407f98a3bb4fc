// Compile-time evaluation of ONNX ops (the importer's probes) equals onnxruntime's on the same
// graphs, corner cases included (Inputs/fold_vs_ort.py lists them).
// RUN: %python %S/Inputs/fold_vs_ort.py llmc-import-onnx %t.dir | FileCheck %s
// CHECK: OK {{[0-9]+}} cases
