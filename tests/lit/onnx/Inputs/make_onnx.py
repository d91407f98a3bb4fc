#!/usr/bin/env python3
"""Writes small ONNX models for the lit tests of the ONNX importer (tests/lit/onnx).

    make_onnx.py FAMILY OUT.onnx

Every model reads input_ids [1, seq] (int64, seq symbolic), gathers rows of a small embedding
table to get data that depends on the input (x: [1, seq, 8] f32), applies the family's ops and
returns one output. Built with onnx.helper only (no torch), so each test states exactly which
nodes the importer sees. Owner: onnx.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper as h
from onnx import numpy_helper as nh

RNG = np.random.default_rng(0)


def f32(name, arr):
    return nh.from_array(np.asarray(arr, np.float32), name)


def i64(name, arr):
    return nh.from_array(np.asarray(arr, np.int64), name)


def save(path, nodes, inits, out_name, out_type=TP.FLOAT, opset=18, extra_inputs=(), domains=()):
    inputs = [h.make_tensor_value_info("input_ids", TP.INT64, [1, "seq"])] + list(extra_inputs)
    outputs = [h.make_tensor_value_info(out_name, out_type, None)]
    inits = [f32("E", RNG.standard_normal((16, 8)))] + inits
    nodes = [h.make_node("Gather", ["E", "input_ids"], ["x"], name="embed", axis=0)] + nodes
    g = h.make_graph(nodes, "g", inputs, outputs, initializer=inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)] +
                     [h.make_opsetid(d, v) for d, v in domains])
    m.ir_version = 9
    onnx.save(m, path)


def math(path):
    n = h.make_node
    nodes = [
        n("Add", ["x", "c1"], ["a"], name="add"),
        n("Sub", ["a", "c2"], ["b"], name="sub"),
        n("Mul", ["b", "x"], ["c"], name="mul"),
        n("Div", ["c", "c3"], ["d"], name="div"),
        n("Pow", ["d", "two"], ["e"], name="pow"),
        n("Sqrt", ["e"], ["f"], name="sqrt"),
        n("Reciprocal", ["f"], ["g"], name="recip"),
        n("Neg", ["g"], ["h"], name="neg"),
        n("Sigmoid", ["h"], ["i"], name="sigmoid"),
        n("Tanh", ["i"], ["j"], name="tanh"),
        n("Erf", ["j"], ["k"], name="erf"),
        n("Max", ["k", "x", "c1"], ["l"], name="max3"),
        n("Less", ["l", "zero"], ["lt"], name="less"),
        n("Where", ["lt", "zero", "l"], ["m"], name="where"),
        n("Cast", ["m"], ["m2"], name="cast_same", to=TP.FLOAT),
        n("MatMul", ["m2", "W"], ["p"], name="matmul"),
        n("Softmax", ["p"], ["q"], name="softmax", axis=-1),
        n("ReduceMean", ["q", "axes"], ["r"], name="mean", keepdims=1),
        n("Gemm", ["r2d", "G"], ["s"], name="gemm", transB=1, alpha=2.0),
    ]
    # Gemm needs 2-D: flatten [1, T, 1] -> [T, 1] with a Reshape whose target is computed.
    nodes.insert(-1, n("Reshape", ["r", "shape_t1"], ["r2d"], name="to2d"))
    inits = [f32("c1", [1.5]), f32("c2", 0.5), f32("c3", 4.0), f32("two", 2.0), f32("zero", 0.0),
             f32("W", RNG.standard_normal((8, 4))), i64("axes", [-1]), i64("shape_t1", [-1, 1]),
             f32("G", RNG.standard_normal((3, 1)))]
    save(path, nodes, inits, "s")


def shape(path):
    n = h.make_node
    nodes = [
        # Reshape target [1, T, 2, 4] computed from the input's shape.
        n("Shape", ["x"], ["sx"], name="shape"),
        n("Gather", ["sx", "one"], ["seq"], name="seq_of", axis=0),
        n("Unsqueeze", ["seq", "zero_ax"], ["seq1"], name="seq1"),
        n("Concat", ["one1", "seq1", "two_four"], ["target"], name="target", axis=0),
        n("Reshape", ["x", "target"], ["r"], name="reshape"),
        n("Transpose", ["r"], ["t"], name="transpose", perm=[0, 2, 1, 3]),
        n("Unsqueeze", ["t", "ax2"], ["u"], name="unsq"),
        n("Expand", ["u", "exp_shape"], ["ex"], name="expand"),
        n("Squeeze", ["ex_slice", "ax2"], ["sq"], name="squeeze"),
        # the last token: x[:, -1:, :]
        n("Slice", ["x", "m1", "big", "one_ax"], ["last"], name="last"),
        n("Flatten", ["last"], ["fl"], name="flatten", axis=2),
        n("Split", ["x", "split"], ["s1", "s2"], name="split", axis=2),
        n("Concat", ["s2", "s1"], ["swapped"], name="swap", axis=-1),
        n("Shape", ["x"], ["sx2"], name="shape2", end=2),
        n("ConstantOfShape", ["sx2"], ["ones"], name="ones", value=h.make_tensor("v", TP.FLOAT, [1], [1.0])),
        n("Shape", ["ones"], ["so"], name="shape_ones"),
        n("Reshape", ["swapped", "so3"], ["back"], name="back"),
        n("Add", ["back", "sq_sum"], ["out"], name="out"),
    ]
    nodes.insert(8, n("Slice", ["ex", "zero1", "one_i", "ax2"], ["ex_slice"], name="ex_slice"))
    nodes.insert(-2, n("Concat", ["so", "eight"], ["so3"], name="so3", axis=0))
    nodes.insert(-1, n("ReduceSum", ["sq", "sum_axes"], ["sq_sum0"], name="sum", keepdims=0))
    nodes.insert(-1, n("Reshape", ["sq_sum0", "sum_shape"], ["sq_sum"], name="sum_shape"))
    inits = [i64("one", 1), i64("zero_ax", [0]), i64("one1", [1]), i64("two_four", [2, 4]),
             i64("ax2", [2]), i64("exp_shape", [1, 2, 3, 1, 4]), i64("m1", [-1]),
             i64("big", [2**63 - 1]), i64("one_ax", [1]), i64("split", [3, 5]), i64("zero1", [0]),
             i64("one_i", [1]), i64("eight", [8]), i64("sum_axes", [1, 3]), i64("sum_shape", [1, -1, 1])]
    save(path, nodes, inits, "out")


def canonical(path):
    n = h.make_node
    nodes = [
        n("Shape", ["input_ids"], ["s"], name="shape"),
        n("Gather", ["s", "one"], ["T"], name="T", axis=0),
        n("Range", ["zero", "T", "one"], ["pos"], name="range"),
        n("Cast", ["pos"], ["posf"], name="posf", to=TP.FLOAT),
        n("Unsqueeze", ["posf", "ax1"], ["p2"], name="p2"),
        n("Mul", ["p2", "inv_freq"], ["ang"], name="angles"),
        n("Cos", ["ang"], ["cos"], name="cos"),
        # causal mask from Trilu of ones(T, T) (torch 2.x SDPA style), as an additive mask
        n("Concat", ["T1", "T1"], ["tt"], name="tt", axis=0),
        n("ConstantOfShape", ["tt"], ["ones"], name="ones", value=h.make_tensor("v", TP.FLOAT, [1], [1.0])),
        n("Trilu", ["ones"], ["lower"], name="lower", upper=0),
        n("Equal", ["lower", "zerof"], ["masked"], name="masked"),
        n("Where", ["masked", "neginf", "zerof"], ["mask"], name="mask"),
        n("Unsqueeze", ["T", "zero_ax"], ["T1"], name="T1"),
        # data: x @ x^T + mask, then a table lookup by position
        n("Transpose", ["x"], ["xt"], name="xt", perm=[0, 2, 1]),
        n("MatMul", ["x", "xt"], ["scores"], name="scores"),
        n("Add", ["scores", "mask"], ["sm"], name="add_mask"),
        n("ReduceMax", ["sm", "lastax"], ["red"], name="red", keepdims=1),
        n("Mul", ["red", "cos"], ["out0"], name="use_cos"),
        n("Mul", ["out0", "am_f"], ["out"], name="use_attention_mask"),
        n("Cast", ["attention_mask"], ["am_f0"], name="am_cast", to=TP.FLOAT),
        n("Unsqueeze", ["am_f0", "lastax"], ["am_f"], name="am_unsq"),
    ]
    # Keep the graph topologically sorted: T1 before tt, attention_mask cast before its use.
    order = ["shape", "T", "T1", "range", "posf", "p2", "angles", "cos", "tt", "ones", "lower", "masked",
             "mask", "xt", "scores", "add_mask", "red", "use_cos", "am_cast", "am_unsq", "use_attention_mask"]
    nodes = sorted(nodes, key=lambda x: order.index(x.name))
    inits = [i64("one", 1), i64("zero", 0), i64("ax1", [-1]), f32("inv_freq", [1.0, 0.1, 0.01, 0.001]),
             i64("zero_ax", [0]), f32("zerof", 0.0), f32("neginf", -np.inf), i64("lastax", [-1])]
    am = h.make_tensor_value_info("attention_mask", TP.INT64, [1, "seq"])
    save(path, nodes, inits, "out", extra_inputs=[am])


def nn(path):
    n = h.make_node
    nodes = [
        n("RMSNormalization", ["x", "w"], ["rms"], name="rms", epsilon=1e-6, axis=-1),
        n("LayerNormalization", ["rms", "w", "b"], ["ln"], name="ln", epsilon=1e-5, axis=-1),
        n("Gelu", ["ln"], ["gelu"], name="gelu", approximate="tanh"),
    ]
    inits = [f32("w", RNG.standard_normal(8)), f32("b", RNG.standard_normal(8))]
    save(path, nodes, inits, "gelu", opset=23)


def attention(path):
    n = h.make_node
    nodes = [
        n("Reshape", ["x", "heads"], ["xh"], name="split_heads"),
        n("Transpose", ["xh"], ["q"], name="q", perm=[0, 2, 1, 3]),
        n("Shape", ["input_ids"], ["s"], name="shape"),
        n("Gather", ["s", "one"], ["T"], name="T", axis=0),
        n("Range", ["zero", "T", "one"], ["pos"], name="range"),
        n("Cast", ["pos"], ["posf"], name="posf", to=TP.FLOAT),
        n("Unsqueeze", ["posf", "ax01"], ["p3"], name="p3"),
        n("Mul", ["p3", "inv_freq"], ["ang"], name="angles"),
        n("Cos", ["ang"], ["cos"], name="cos"),
        n("Sin", ["ang"], ["sin"], name="sin"),
        n("RotaryEmbedding", ["q", "cos", "sin"], ["qr"], name="rope", interleaved=0),
        n("Attention", ["qr", "qr", "q"], ["y"], name="attn", is_causal=1, scale=0.5),
    ]
    inits = [i64("heads", [1, -1, 2, 4]), i64("one", 1), i64("zero", 0), i64("ax01", [0, 2]),
             f32("inv_freq", [1.0, 0.01])]
    save(path, nodes, inits, "y", opset=23)


def unsupported(path):
    n = h.make_node
    nodes = [
        n("Foo", ["x"], ["a"], name="foo_1"),
        n("GroupQueryAttention", ["a"], ["b"], name="gqa_0", domain="com.microsoft"),
        n("Foo", ["b"], ["c"], name="foo_2"),
        n("Neg", ["c"], ["d"], name="fine"),
        n("Bar", ["d"], ["e"], name="bar_0", domain="org.example"),
    ]
    save(path, nodes, [], "e", domains=[("com.microsoft", 1)])


def bad_value_info(path):
    """value_info states x as [1, seq, 9], but the table has 8 columns."""
    n = h.make_node
    save(path, [n("Neg", ["x"], ["y"], name="neg")], [], "y")
    m = onnx.load(path)
    m.graph.value_info.append(h.make_tensor_value_info("x", TP.FLOAT, [1, "seq", 9]))
    onnx.save(m, path)


def seq_static(path):
    g = h.make_graph([h.make_node("Gather", ["E", "input_ids"], ["x"], axis=0)], "g",
                     [h.make_tensor_value_info("input_ids", TP.INT64, [1, 7])],
                     [h.make_tensor_value_info("x", TP.FLOAT, None)],
                     initializer=[f32("E", RNG.standard_normal((16, 8)))])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 18)])
    onnx.save(m, path)


if __name__ == "__main__":
    globals()[sys.argv[1]](sys.argv[2])
