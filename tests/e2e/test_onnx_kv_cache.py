"""ONNX decoders exported with an explicit KV cache build with llmc, which maps it onto its own cache.

The exports (tests/e2e/onnx_export_kv.py, torch.onnx.export(dynamo=True) of a wrapper around a
DynamicCache) take past_key_values.N.key/value [1, kv_heads, past, head_dim] and an attention_mask
of length past + seq, and return present.N.key/value. Models: tiny random Llama (GQA, llama3 rope
scaling, position_ids input) and Qwen2 (QKV biases, one KV head, no position_ids input) made by
transformers; opsets 18 and 23, and the Llama at opset 17 through the TorchScript exporter (as
optimum exports: it wraps the past in a one-input Concat); Mistral (window 16: its cache keeps the
last 15 positions, a Slice of the past and of the present) at opset 18. Oracles: onnxruntime running the same .onnx step by step (the
prompt with an empty past, then one token at a time with present fed back as past): every step's
logits within 1e-4 of llmc's; transformers' greedy tokens. Owner: onnx.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from llmc_harness import TMP, build, hf_greedy, llmc, make_tiny, run_json, workdir

PROMPT = [1, 17, 42, 99, 5, 230, 64, 7, 150, 33, 12, 280]
NEW = 16
HERE = os.path.dirname(os.path.abspath(__file__))
POSITION_IDS = {"llama": True, "qwen2": False, "mistral": True}


def export_kv(arch, opset, exporter="dynamo"):
    """The KV-cache .onnx of the tiny `arch` (exported once per test run and cached)."""
    out = os.path.join(TMP, "onnx-kv", f"{arch}-op{opset}-{exporter}", "model.onnx")
    if not os.path.exists(out):
        cmd = [sys.executable, os.path.join(HERE, "onnx_export_kv.py"), "--model", make_tiny(arch),
               "--out", out, "--opset", str(opset)]
        if not POSITION_IDS[arch]:
            cmd.append("--no-position-ids")
        if exporter == "torchscript":
            cmd.append("--torchscript")
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise AssertionError(f"export of {arch} failed:\n{proc.stderr[-3000:]}")
    return out


def ort_step_logits(onnx_path, prompt, fed):
    """onnxruntime with its own cache: the logits after the prompt, then after each id of `fed`."""
    import onnxruntime as ort
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    past = {i.name: np.zeros((1, i.shape[1], 0, i.shape[3]), np.float32)
            for i in sess.get_inputs() if i.name.startswith("past_key_values.")}
    outs = [o.name for o in sess.get_outputs()]
    rows, done = [], 0  # done: tokens seen (a sliding-window cache holds fewer)
    for step in range(len(fed) + 1):
        new = list(prompt) if step == 0 else [fed[step - 1]]
        feed = {"input_ids": np.array([new], np.int64),
                "attention_mask": np.ones((1, done + len(new)), np.int64), **past}
        if "position_ids" in names:
            feed["position_ids"] = np.arange(done, done + len(new), dtype=np.int64)[None]
        res = dict(zip(outs, sess.run(None, feed)))
        rows.append(res["logits"][0, -1].astype(np.float64))
        past = {p: res[p.replace("past_key_values.", "present.", 1)] for p in past}
        assert 0 < next(iter(past.values())).shape[2] <= done + len(new)
        done += len(new)
    return rows


@pytest.mark.parametrize("arch,opset,exporter", [("llama", 18, "dynamo"), ("llama", 23, "dynamo"),
                                                  ("qwen2", 18, "dynamo"), ("qwen2", 23, "dynamo"),
                                                  ("llama", 17, "torchscript"), ("mistral", 18, "dynamo")])
def test_every_step_matches_onnxruntime_and_transformers(arch, opset, exporter):
    path = export_kv(arch, opset, exporter)
    engine = build(path, os.path.join(workdir("onnx-kv-engines"), f"{arch}-{opset}-{exporter}.engine"),
                   "--gpu-arch", "none")
    # Raised to the per-token form: the runtime's KV cache serves the steps.
    assert json.loads(llmc("inspect", engine, "--json").stdout)["report"]["not_raised"] == []
    out = run_json(engine, "--prompt-ids", ",".join(map(str, PROMPT)), "-n", NEW, "--temperature", 0,
                   "--logits", "--step-logits", "--ignore-eos")
    got = [np.array(out["prompt_logits"])] + [np.array(r) for r in out["step_logits"]]
    assert len(got) == NEW
    # onnxruntime is fed llmc's tokens, so every row compares the same history.
    want = ort_step_logits(path, PROMPT, out["ids"][:-1])
    diff = [float(np.max(np.abs(g - w))) for g, w in zip(got, want)]
    print(f"{arch} opset {opset} {exporter}: max |llmc - onnxruntime| per step {max(diff):.2e}")
    assert max(diff) <= 1e-4, diff
    assert out["ids"] == [int(np.argmax(w)) for w in want]
    assert out["ids"] == hf_greedy(make_tiny(arch), PROMPT, NEW)[0]


def test_program_equals_the_hf_import():
    # The cache inputs vanish: the engine is the one the HF importer builds from the checkpoint.
    hf = build(make_tiny("llama"), os.path.join(workdir("onnx-kv-engines"), "llama-hf.engine"), "--gpu-arch", "none")
    ox = build(export_kv("llama", 18), os.path.join(workdir("onnx-kv-engines"), "llama-kv.engine"),
               "--gpu-arch", "none")
    ph = json.loads(llmc("inspect", hf, "--json").stdout)["program"]
    po = json.loads(llmc("inspect", ox, "--json").stdout)["program"]
    assert ph["values"] == po["values"] and len(ph["steps"]) == len(po["steps"])
    for a, b in zip(ph["steps"], po["steps"]):
        assert (a["op"], a["in"], a["out"]) == (b["op"], b["in"], b["out"])


def test_a_present_that_is_not_the_cache_is_refused():
    # present.0.key rewired to concat the new keys before the past: one line, no engine.
    import onnx
    model = onnx.load(export_kv("llama", 18))
    cat = next(n for n in model.graph.node if n.output[0] == "present.0.key")
    cat.input[0], cat.input[1] = cat.input[1], cat.input[0]
    d = workdir("onnx-kv-bad")
    path, engine = os.path.join(d, "reversed.onnx"), os.path.join(d, "reversed.engine")
    onnx.save(model, path)
    proc = llmc("build", path, "-o", engine, "--gpu-arch", "none", check=False)
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert proc.returncode == 2 and not os.path.exists(engine) and len(lines) == 1, proc.stderr
    assert f"{path}: KV-cache input 'past_key_values.0.key' is read by node '{cat.name}' (Concat input 1)" in lines[0]
