#!/usr/bin/env python3
"""Compile-time folding of ONNX ops vs onnxruntime.

    fold_vs_ort.py LLMC_IMPORT_ONNX WORKDIR

Each case is a graph whose output depends only on constants (plus an unused input_ids, which
the importer requires): llmc folds it at import (its eval kernels, ONNX semantics) and prints it
as one llm.constant; onnxruntime runs the same graph. The values must agree exactly (ints, bools)
or to 1e-6 (floats). Covers the corner cases of the kernels the probes rely on: Slice clamping
and negative steps, Gather/GatherND negative indices and batch dims, CumSum exclusive/reverse,
integer Div/Mod signs, Trilu offsets, Reshape 0/-1, broadcasting. Prints OK and the count.
Owner: onnx.
"""
import os
import re
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto as TP
from onnx import helper as h
from onnx import numpy_helper as nh

TOOL, WORK = sys.argv[1], sys.argv[2]
os.makedirs(WORK, exist_ok=True)
A = np.arange(24, dtype=np.int64).reshape(2, 3, 4) - 7
F = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 11.5) / 3.0
I64 = lambda *v: np.array(v, dtype=np.int64)

# (name, op, inputs as arrays (None = absent), attributes, opset)
CASES = [
    ("slice_basic", "Slice", [A, I64(0, 1), I64(2, 3), I64(1, 2), I64(1, 2)], {}, 18),
    ("slice_neg_step", "Slice", [A, I64(-1), I64(-2**63), I64(2), I64(-2)], {}, 18),
    ("slice_clamp", "Slice", [A, I64(-100, 1), I64(100, 2**63 - 1)], {}, 18),
    ("slice_neg_axis", "Slice", [A, I64(1), I64(-1), I64(-1)], {}, 18),
    ("gather_neg", "Gather", [A, I64(-1, 0, 2)], {"axis": 1}, 18),
    ("gather_scalar", "Gather", [A, np.array(-1, dtype=np.int64)], {"axis": 2}, 18),
    ("gathernd_0", "GatherND", [A, np.array([[0, 2], [1, -1]], dtype=np.int64)], {}, 18),
    ("gathernd_b1", "GatherND", [A, np.array([[1], [2]], dtype=np.int64)], {"batch_dims": 1}, 18),
    ("cumsum_excl_rev", "CumSum", [A, np.array(2, dtype=np.int64)], {"exclusive": 1, "reverse": 1}, 18),
    ("cumsum_float", "CumSum", [F, np.array(-2, dtype=np.int64)], {}, 18),
    ("div_int", "Div", [A, I64(3)], {}, 18),
    ("mod_int", "Mod", [A, I64(-5)], {}, 18),
    ("trilu_low_k", "Trilu", [A, np.array(-1, dtype=np.int64)], {"upper": 0}, 18),
    ("trilu_up_k", "Trilu", [F, np.array(2, dtype=np.int64)], {"upper": 1}, 18),
    ("reshape_0_m1", "Reshape", [A, I64(0, -1)], {}, 18),
    ("expand_bidir", "Expand", [np.array([[1], [2], [3]], dtype=np.int64), I64(2, 1, 4)], {}, 18),
    ("where_bcast", "Where", [np.array([True, False, True, False]), F, np.float32(-1.0)], {}, 18),
    ("transpose_default", "Transpose", [A], {}, 18),
    ("reducemean_axes", "ReduceMean", [F, I64(0, -1)], {"keepdims": 0}, 18),
    ("reducemax_all", "ReduceMax", [F], {"keepdims": 1}, 18),
    ("reducesum_noop", "ReduceSum", [F], {"noop_with_empty_axes": 1}, 18),
    ("reducemean_attr", "ReduceMean", [F], {"axes": [1], "keepdims": 1}, 13),
    ("squeeze_neg", "Squeeze", [A[:, :1, :], I64(-2)], {}, 13),
    ("fmod_float", "Mod", [F, np.float32(-1.25)], {"fmod": 1}, 18),
    ("unsqueeze_neg", "Unsqueeze", [A, I64(-1, 0)], {}, 18),
    ("concat_neg", "Concat", [A, A * 2], {"axis": -2}, 18),
    ("cast_trunc", "Cast", [F], {"to": TP.INT64}, 18),
    ("cast_bool", "Cast", [A], {"to": TP.BOOL}, 18),
    ("softmax", "Softmax", [F], {"axis": 1}, 18),
    ("matmul_1d", "MatMul", [F[0, 0], np.ascontiguousarray(F[1].T)], {}, 18),
    ("matmul_batch", "MatMul", [F, F.transpose(0, 2, 1)[:1]], {}, 18),
    ("max3", "Max", [F, np.float32(0.5), F[:1]], {}, 18),
    ("pow_int", "Pow", [A, I64(3)], {}, 18),
    ("less", "Less", [F, np.float32(0.0)], {}, 18),
    ("xor", "Xor", [A > 0, A < 3], {}, 18),
    ("range_float", "Range", [np.float32(1.0), np.float32(-2.0), np.float32(-0.75)], {}, 18),
    ("constofshape", "ConstantOfShape", [I64(2, 3)], {"value": h.make_tensor("v", TP.INT64, [1], [7])}, 18),
    ("shape_slice", "Shape", [A], {"start": -2}, 18),
    ("size", "Size", [A], {}, 18),
    ("flatten", "Flatten", [A], {"axis": 2}, 18),
    ("split_uneven", "Split", [A, I64(1, 3)], {"axis": 2}, 18),
    ("gemm", "Gemm", [F[0], F[1], np.float32(0.25)], {"transB": 1, "alpha": 0.5, "beta": 2.0}, 18),
    ("tanh_erf", "Erf", [F], {}, 18),
    ("sqrt_recip", "Reciprocal", [np.abs(F) + 1], {}, 18),
]


def build(name, op, inputs, attrs, opset):
    nodes, inits, names = [], [], []
    for k, arr in enumerate(inputs):
        if arr is None:
            names.append("")
            continue
        n = f"in{k}"
        # Constant nodes, not initializers: float initializer matrices are weights (never folded).
        nodes.append(h.make_node("Constant", [], [n], value=nh.from_array(np.asarray(arr), n)))
        names.append(n)
    outs = ["out"] + ([f"extra{k}" for k in range(1)] if op == "Split" else [])
    nodes.append(h.make_node(op, names, outs, name=name, **attrs))
    g = h.make_graph(nodes, name, [h.make_tensor_value_info("input_ids", TP.INT64, [1, "seq"])],
                     [h.make_tensor_value_info("out", TP.UNDEFINED, None)], initializer=inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 8
    # onnxruntime needs the output's element type: ask ONNX's shape inference for it.
    inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True)
    typed = {vi.name: vi for vi in list(inferred.graph.value_info) + list(inferred.graph.output)}
    et = typed["out"].type.tensor_type.elem_type if "out" in typed else 0
    if et == 0:
        from onnx.reference import ReferenceEvaluator
        out = ReferenceEvaluator(m).run(None, {"input_ids": np.zeros((1, 3), dtype=np.int64)})[0]
        et = h.np_dtype_to_tensor_dtype(np.asarray(out).dtype)
    m.graph.output[0].CopyFrom(h.make_tensor_value_info("out", et, None))
    return m


def parse_constant(text):
    ret = re.search(r"return (%\w+)", text).group(1)
    m = re.search(re.escape(ret) + r" = llm.constant \{value = dense<(.*)> : tensor<([^>]*)>\}", text)
    body, ttype = m.group(1), m.group(2)
    dims = [int(d) for d in ttype.split("x")[:-1]]
    body = body.replace("true", "1").replace("false", "0")
    vals = np.array(eval(body), dtype=np.float64) if body.startswith("[") else np.float64(eval(body))
    return np.broadcast_to(vals, dims)


bad = []
for name, op, inputs, attrs, opset in CASES:
    model = build(name, op, inputs, attrs, opset)
    path = os.path.join(WORK, name + ".onnx")
    onnx.save(model, path)
    proc = subprocess.run([TOOL, path], capture_output=True, text=True)
    if proc.returncode != 0:
        bad.append(f"{name}: llmc-import-onnx failed: {proc.stderr.strip()}")
        continue
    got = parse_constant(proc.stdout)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    want = sess.run(["out"], {"input_ids": np.zeros((1, 3), dtype=np.int64)})[0]
    want = np.asarray(want).astype(np.float64)
    if got.shape != want.shape:
        bad.append(f"{name}: shape {got.shape}, onnxruntime {want.shape}")
    elif not np.allclose(got, want, rtol=1e-6, atol=1e-6):
        bad.append(f"{name}: values differ, max |d| {np.abs(got - want).max()}\n  llmc {got.ravel()[:12]}\n  ort  {want.ravel()[:12]}")
if bad:
    print("\n".join(bad))
    sys.exit(1)
print(f"OK {len(CASES)} cases")
