#!/usr/bin/env python3
"""Writes small KV-cache ONNX graphs for tests/lit/onnx/import-kv-cache.mlir.

    make_onnx_kv.py VARIANT OUT.onnx

One layer, opset 23: k = heads(embed(input_ids)) [1, 2, T, 4], v = -k,
present.0.key/value = Concat(past_key_values.0.key/value, k/v) along the past axis, and an
Attention over the presents. VARIANT "ok" is that graph, "alias" reads the past through a one-input
Concat and an Identity (as TorchScript exports do), "attn_past" feeds the past to the Attention op
(past_key/past_value inputs, present outputs) instead; the other variants break one rule each and
must be refused. build_window: a sliding-window cache (tail Slices of the past and presents).
Owner: onnx.
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


def build_window(variant):
    """A sliding-window cache: the past and the presents keep their last `keep` positions, the
    attention has a window-4 mask ("window": keep 3; "window_too_wide": keep 2; "crop_no_mask":
    keep 3 and is_causal without a mask)."""
    n = h.make_node
    keep = 2 if variant == "window_too_wide" else 3
    nodes = [
        n("Gather", ["E", "input_ids"], ["x"], name="embed", axis=0),
        n("Reshape", ["x", "heads"], ["xh"], name="split_heads"),
        n("Transpose", ["xh"], ["k"], name="k", perm=[0, 2, 1, 3]),
        n("Neg", ["k"], ["v"], name="v"),
        # mask[i, j] = 0 <= i - j < 4
        n("Shape", ["input_ids"], ["s"], name="shape"),
        n("Gather", ["s", "one"], ["T"], name="T", axis=0),
        n("Range", ["zero", "T", "one"], ["r"], name="range"),
        n("Unsqueeze", ["r", "ax1"], ["row"], name="row"),
        n("Unsqueeze", ["r", "ax0"], ["col"], name="col"),
        n("Sub", ["row", "col"], ["d"], name="d"),
        n("GreaterOrEqual", ["d", "zero"], ["causal"], name="causal"),
        n("Less", ["d", "window"], ["near"], name="near"),
        n("And", ["causal", "near"], ["mask"], name="mask"),
    ]
    for kind, new in (("key", "k"), ("value", "v")):
        past = f"past_key_values.0.{kind}"
        nodes += [n("Slice", [past, "tail", "end", "ax2"], [f"{kind}_tail"], name=f"crop_past_{kind}"),
                  n("Concat", [f"{kind}_tail", new], [f"{kind}_all"], name=f"cat_{kind}", axis=2),
                  n("Slice", [f"{kind}_all", "tail", "end", "ax2"], [f"present.0.{kind}"],
                    name=f"crop_present_{kind}")]
    if variant == "crop_no_mask":
        nodes.append(n("Attention", ["k", "key_all", "value_all"], ["y"], name="attn", is_causal=1))
    else:
        nodes.append(n("Attention", ["k", "key_all", "value_all", "mask"], ["y"], name="attn"))
    shape = [1, 2, "past", 4]
    inputs = [h.make_tensor_value_info("input_ids", TP.INT64, [1, "seq"]),
              h.make_tensor_value_info("past_key_values.0.key", TP.FLOAT, shape),
              h.make_tensor_value_info("past_key_values.0.value", TP.FLOAT, shape)]
    outputs = [h.make_tensor_value_info(o, TP.FLOAT, None) for o in ("y", "present.0.key", "present.0.value")]
    inits = [f32("E", RNG.standard_normal((16, 8))), i64("heads", [1, -1, 2, 4]), i64("one", 1),
             i64("zero", 0), i64("window", 4), i64("ax0", [0]), i64("ax1", [1]), i64("ax2", [2]),
             i64("tail", [-keep]), i64("end", [2**63 - 1])]
    m = h.make_model(h.make_graph(nodes, "g", inputs, outputs, initializer=inits),
                     opset_imports=[h.make_opsetid("", 23)])
    m.ir_version = 10
    return m


if __name__ == "__main__":
    v = sys.argv[1]
    onnx.save(build_window(v) if v in ("window", "window_too_wide", "crop_no_mask") else build(v), sys.argv[2])
