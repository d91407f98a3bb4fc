// Import errors are one line naming the file: every unsupported (domain, op, opset) with its
// first node, in graph order; a static sequence axis; files that are not ONNX.
// RUN: %make_onnx unsupported %t.unsupported.onnx
// RUN: not llmc-import-onnx %t.unsupported.onnx 2>&1 | FileCheck %s --check-prefix=OPS
// OPS: error: {{.*}}.unsupported.onnx: unsupported ops: ai.onnx::Foo (opset 18, first node 'foo_1'), com.microsoft::GroupQueryAttention (opset 1, first node 'gqa_0'), org.example::Bar (opset not imported, first node 'bar_0'){{$}}

// RUN: %make_onnx seq_static %t.static.onnx
// RUN: not llmc-import-onnx %t.static.onnx 2>&1 | FileCheck %s --check-prefix=STATIC
// STATIC: error: {{.*}}.static.onnx: graph input 'input_ids' has a static sequence length 7; export with a dynamic sequence axis

// RUN: %python -c "open('%t.garbage.onnx', 'wb').write(bytes(range(256)) * 4)"
// RUN: not llmc-import-onnx %t.garbage.onnx 2>&1 | FileCheck %s --check-prefix=GARBAGE
// GARBAGE: error: {{.*}}.garbage.onnx: not an ONNX model

// RUN: %make_onnx bad_value_info %t.vi.onnx
// RUN: not llmc-import-onnx %t.vi.onnx 2>&1 | FileCheck %s --check-prefix=VI
// VI: error: {{.*}}.vi.onnx: value_info of 'x' says dimension 2 is 9 but the graph computes 8 (at T=6)
