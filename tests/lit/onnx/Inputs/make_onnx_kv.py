#!/usr/bin/env python3
"""Writes small KV-cache ONNX graphs for tests/lit/onnx/import-kv-cache.mlir.

    make_onnx_kv.py VARIANT OUT.onnx

One layer, opset 23: k = heads(embed(input_ids)) [1, 2, T, 4], v = -k,
present.0.key/value = Concat(past_key_values.0.key/value, k/v) along the past axis, and an
Attention over the presents. VARIANT "ok" is that graph, "alias" reads the past through a one-input
Concat and an Identity (as TorchScript exports do), "attn_past" feeds the past to the Attention op
(past_key/past_value inputs, present outputs) instead; the other variants break one rule each and
must be refused. Owner: onnx.
"""
import os
import sys

import onnx
from onnx import TensorProto as TP
from onnx import helper as h

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_onnx import RNG, f32, i64  # noqa: E402


def build(variant):
    n = h.make_node
    pk, pv = "past_key_values.0.key", "past_key_values.0.value"
    past_shape = [1, 2, 3 if variant == "static_past" else "past", 4]
    if variant == "no_role":
        pk = "past_key_values.0"
    if variant == "not_past_name":
        pk = "cache.0.key"
    nodes = [
        n("Gather", ["E", "input_ids"], ["x"], name="embed", axis=0),
        n("Reshape", ["x", "heads"], ["xh"], name="split_heads"),
        n("Transpose", ["xh"], ["k"], name="k", perm=[0, 2, 1, 3]),
        n("Neg", ["k"], ["v"], name="v"),
    ]
    outputs = [h.make_tensor_value_info("y", TP.FLOAT, [1, 2, "seq", 4])]
    present = [h.make_tensor_value_info("present.0.key", TP.FLOAT, [1, 2, "past + seq", 4]),
               h.make_tensor_value_info("present.0.value", TP.FLOAT, [1, 2, "past + seq", 4])]
    if variant == "attn_past":
        nodes.append(n("Attention", ["k", "k", "v", "", pk, pv], ["y", "present.0.key", "present.0.value"],
                       name="attn", is_causal=1))
    else:
        key_parts = {"reversed": ["k", pk], "read_by_other": ["pk_copy", "k"],
                     "alias": ["pk_alias", "k"]}.get(variant, [pk, "k"])
        if variant == "read_by_other":
            nodes.append(n("Identity", [pk], ["pk_copy"], name="copy_past"))
            nodes.append(n("Neg", ["pk_copy"], ["pk_neg"], name="neg_past"))
            outputs.append(h.make_tensor_value_info("pk_neg", TP.FLOAT, None))
        if variant == "alias":
            nodes.append(n("Concat", [pk], ["pk_one"], name="one_input_concat", axis=-2))
            nodes.append(n("Identity", ["pk_one"], ["pk_alias"], name="identity"))
        key_out = "kcat" if variant == "not_returned" else "present.0.key"
        nodes += [
            n("Concat", key_parts, [key_out], name="cat_k", axis=-2),
            n("Concat", [pv, "v"], ["present.0.value"], name="cat_v", axis=2),
            n("Attention", ["k", "k" if variant == "unread" else key_out, "present.0.value"], ["y"],
              name="attn", is_causal=1),
        ]
        if variant == "not_returned":
            present = present[1:]
    outputs += present
    if variant == "extra_output":
        outputs.append(h.make_tensor_value_info("x", TP.FLOAT, [1, "seq", 8]))
    inputs = [h.make_tensor_value_info("input_ids", TP.INT64, [1, "seq"]),
              h.make_tensor_value_info("attention_mask", TP.INT64, [1, "total"]),
              h.make_tensor_value_info(pk, TP.FLOAT, past_shape),
              h.make_tensor_value_info(pv, TP.FLOAT, past_shape)]
    inits = [f32("E", RNG.standard_normal((16, 8))), i64("heads", [1, -1, 2, 4])]
    g = h.make_graph(nodes, "g", inputs, outputs, initializer=inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 23)])
    m.ir_version = 10
    return m


if __name__ == "__main__":
    onnx.save(build(sys.argv[1]), sys.argv[2])
