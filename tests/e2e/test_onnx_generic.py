"""Generic execution: an ONNX decoder that does not raise to the per-token form still builds and runs.

The tiny Llama export of test_onnx_import.py gets a graph edit that defeats the sdpa raising
pattern: every Softmax becomes its definition (exp(x - max) / sum). `llmc build` then writes an
engine holding the whole graph as generic ops (docs/graph-program.md) and says what it raised and
what it did not; `llmc run` recomputes the sequence for each token on the CPU. Oracles:
onnxruntime on the same edited .onnx (prompt logits) and transformers (greedy tokens).
Owner: graph.
"""
import json
import os

import numpy as np
import onnx
from onnx import helper

from llmc_harness import hf_greedy, llmc, make_tiny, run_json, workdir
from test_onnx_import import PROMPT, export, ort_last_logits


def decompose_softmax(src, dst):
    """Rewrites every Softmax(axis=-1) node of `src` into ReduceMax/Sub/Exp/ReduceSum/Div."""
    m = onnx.load(src)
    g = m.graph
    axes = helper.make_tensor("llmc_softmax_axes", onnx.TensorProto.INT64, [1], [-1])
    g.initializer.append(axes)
    nodes = []
    count = 0
    for n in g.node:
        if n.op_type != "Softmax":
            nodes.append(n)
            continue
        assert [a.i for a in n.attribute if a.name == "axis"] in ([], [-1], [3])
        x, y, p = n.input[0], n.output[0], f"llmc_sm{count}"
        nodes += [helper.make_node("ReduceMax", [x, axes.name], [p + "_max"], keepdims=1),
                  helper.make_node("Sub", [x, p + "_max"], [p + "_centered"]),
                  helper.make_node("Exp", [p + "_centered"], [p + "_exp"]),
                  helper.make_node("ReduceSum", [p + "_exp", axes.name], [p + "_sum"], keepdims=1),
                  helper.make_node("Div", [p + "_exp", p + "_sum"], [y])]
        count += 1
    assert count > 0
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    for side in ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"):
        s = os.path.join(os.path.dirname(src), side)
        if os.path.exists(s):
            with open(s, "rb") as f, open(os.path.join(os.path.dirname(dst), side), "wb") as o:
                o.write(f.read())
    return dst


def unraisable_llama():
    src = make_tiny("llama")
    d = workdir("onnx-generic")
    onnx_path = os.path.join(d, "model.onnx")
    if not os.path.exists(onnx_path):
        decompose_softmax(export(src, "llama", 18), onnx_path)
    return src, onnx_path


def test_unraised_llama_builds_and_generates():
    src, onnx_path = unraisable_llama()
    engine = os.path.join(workdir("onnx-generic"), "model.engine")
    proc = llmc("build", onnx_path, "-o", engine, "--gpu-arch", "none")
    assert "not raised" in proc.stderr and "recomputes the sequence" in proc.stderr
    meta = json.loads(llmc("inspect", engine, "--json").stdout)
    report = meta["report"]
    assert report["graph_program"] is True
    # The norms, linears and embedding were recognised; the attention (softmax edited) was not.
    assert report["raised"].get("rms_norm", 0) > 0 and report["raised"].get("linear", 0) > 0
    assert "attention" not in report["raised"]
    assert report["not_raised"].get("reduce.max", 0) > 0 and report["not_raised"].get("unary.exp", 0) > 0
    assert "graph" in [s["name"] for s in meta["sections"]] and meta["program"] is None

    want_ids, want_hf = hf_greedy(src, PROMPT, 24)
    out = run_json(engine, "--prompt-ids", ",".join(map(str, PROMPT)), "-n", 24, "--temperature", 0,
                   "--logits", "--ignore-eos")
    got = np.array(out["prompt_logits"])
    np.testing.assert_allclose(got, ort_last_logits(onnx_path, PROMPT), atol=1e-4, rtol=0)
    np.testing.assert_allclose(got, want_hf, atol=1e-4, rtol=0)
    assert out["ids"] == want_ids


def test_graph_engine_runs_with_device_auto_and_sampling():
    _, onnx_path = unraisable_llama()
    engine = os.path.join(workdir("onnx-generic"), "model-auto.engine")
    llmc("build", onnx_path, "-o", engine, "--gpu-arch", "none")
    a = run_json(engine, "--prompt-ids", "1,17,42", "-n", 6, "--temperature", 0.8, "--seed", 7,
                 "--ignore-eos", "--device", "auto")
    b = run_json(engine, "--prompt-ids", "1,17,42", "-n", 6, "--temperature", 0.8, "--seed", 7,
                 "--ignore-eos", "--device", "cpu")
    assert a["ids"] == b["ids"] and len(a["ids"]) == 6


def test_graph_engine_kinds_are_not_interchangeable(tmp_path):
    _, onnx_path = unraisable_llama()
    engine = os.path.join(workdir("onnx-generic"), "model-kinds.engine")
    llmc("build", onnx_path, "-o", engine, "--gpu-arch", "none")
    proc = llmc("eval", engine, "--out", str(tmp_path / "out"), check=False)
    assert proc.returncode == 2 and "not an engine of named tensors" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def tensor_engine(tmp_path):
    """An engine of named tensors: z = x * y + 1 (a graph that is not a token LM)."""
    g = helper.make_graph(
        [helper.make_node("Mul", ["x", "y"], ["p"]), helper.make_node("Add", ["p", "one"], ["z"])], "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("z", onnx.TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor("one", onnx.TensorProto.FLOAT, [], [1.0])])
    path = str(tmp_path / "t.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)]), path)
    engine = str(tmp_path / "t.engine")
    llmc("build", path, "-o", engine, "--gpu-arch", "none")
    return engine


def test_eval_runs_named_tensors_and_refuses_bad_input(tmp_path):
    engine = tensor_engine(tmp_path)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    y = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    llmc("eval", engine, "--input", f"x={tmp_path}/x.npy", "--input", f"y={tmp_path}/y.npy", "--out", tmp_path / "o")
    np.testing.assert_array_equal(np.load(tmp_path / "o" / "z.npy"), x * y + 1)
    (tmp_path / "bad.npy").write_bytes(b"not numpy at all")
    np.save(tmp_path / "y64.npy", y.astype(np.float64))
    cases = [
        (["--input", f"w={tmp_path}/x.npy", "--input", f"y={tmp_path}/y.npy"], "has no such input"),
        (["--input", f"x={tmp_path}/x.npy"], "input 'y' is not given"),
        (["--input", f"x={tmp_path}/bad.npy", "--input", f"y={tmp_path}/y.npy"], "not a .npy file"),
        (["--input", f"x={tmp_path}/x.npy", "--input", f"y={tmp_path}/y64.npy"], "the engine takes f32 [3]"),
    ]
    for k, (args, message) in enumerate(cases):
        out = tmp_path / f"bad{k}"
        proc = llmc("eval", engine, *args, "--out", out, check=False)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and not out.exists()
    proc = llmc("run", engine, "--prompt-ids", "1,2", check=False)
    assert proc.returncode == 2 and "llmc eval" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
