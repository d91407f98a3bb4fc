"""ONNX import: decoders exported with torch.onnx.export(dynamo=True) build with llmc and match the oracles.

Models: tiny random Llama (GQA, llama3 rope scaling), Llama with tied head and head_dim 24, Qwen2 (QKV biases, tied head, MQA), Mistral
(sliding window 16) made by transformers, and the real stories260K; opsets 18 and 23. Oracles:
transformers (greedy tokens with its KV cache) and onnxruntime on the same .onnx (prompt logits).
Exports run in a subprocess (tests/e2e/onnx_export.py) and are cached under the test tmp dir.
Owner: onnx.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from llmc_harness import STORIES, TMP, build, hf_greedy, llmc, make_tiny, need_shared, run_json, workdir

PROMPT = [1, 17, 42, 99, 5, 230, 64, 7, 150, 33, 12, 280]
HERE = os.path.dirname(os.path.abspath(__file__))


def export(model_dir, name, opset, external=False, side_files=True, mask_and_batch=False):
    """The .onnx of `model_dir` (exported once per test run and cached)."""
    tag = (f"{name}-op{opset}" + ("-ext" if external else "") + ("" if side_files else "-bare") +
           ("-maskbatch" if mask_and_batch else ""))
    out = os.path.join(TMP, "onnx", tag, "model.onnx")
    if not os.path.exists(out):
        cmd = [sys.executable, os.path.join(HERE, "onnx_export.py"), "--model", model_dir, "--out", out,
               "--opset", str(opset)]
        if external:
            cmd.append("--external-data")
        if not side_files:
            cmd.append("--no-side-files")
        if mask_and_batch:
            cmd.append("--mask-and-batch")
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            if opset >= 23 and "opset" in proc.stderr.lower():
                pytest.skip(f"this torch cannot export opset {opset}: {proc.stderr[-300:]}")
            raise AssertionError(f"export of {model_dir} failed:\n{proc.stderr[-3000:]}")
    return out


def ort_last_logits(onnx_path, ids):
    import onnxruntime as ort
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    return sess.run(None, {"input_ids": np.array([ids], dtype=np.int64)})[0][0, -1].astype(np.float64)


def model_dir(arch):
    return need_shared(STORIES) if arch == "stories" else make_tiny(arch)


@pytest.mark.parametrize("opset", [18, 23])
@pytest.mark.parametrize("arch", ["llama", "llama-tied", "qwen2", "mistral", "stories"])
def test_greedy_and_logits_match(arch, opset):
    src = model_dir(arch)
    onnx_path = export(src, arch, opset)
    engine = build(onnx_path, os.path.join(workdir("onnx-engines"), f"{arch}-{opset}.engine"), "--gpu-arch", "none")
    # 12 prompt + 24 new tokens: crosses Mistral's window of 16.
    want_ids, want_hf = hf_greedy(src, PROMPT, 24)
    out = run_json(engine, "--prompt-ids", ",".join(map(str, PROMPT)), "-n", 24, "--temperature", 0,
                   "--logits", "--ignore-eos")
    got = np.array(out["prompt_logits"])
    np.testing.assert_allclose(got, ort_last_logits(onnx_path, PROMPT), atol=1e-4, rtol=0)
    np.testing.assert_allclose(got, want_hf, atol=1e-4, rtol=0)
    assert out["ids"] == want_ids


def test_dynamic_batch_and_attention_mask_input():
    # The runtime batches sequences itself: a dynamic batch axis is taken as 1 and the
    # attention_mask input as all ones (no padding).
    src = make_tiny("llama")
    onnx_path = export(src, "llama", 18, mask_and_batch=True)
    engine = build(onnx_path, os.path.join(workdir("onnx-engines"), "llama-maskbatch.engine"), "--gpu-arch", "none")
    want_ids, _ = hf_greedy(src, PROMPT, 8)
    out = run_json(engine, "--prompt-ids", ",".join(map(str, PROMPT)), "-n", 8, "--temperature", 0,
                   "--logits", "--ignore-eos")
    import onnxruntime as ort
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    want = sess.run(None, {"input_ids": np.array([PROMPT], dtype=np.int64),
                           "attention_mask": np.ones((1, len(PROMPT)), dtype=np.int64)})[0][0, -1]
    np.testing.assert_allclose(np.array(out["prompt_logits"]), want, atol=1e-4, rtol=0)
    assert out["ids"] == want_ids


def test_stories_golden_from_onnx():
    golden = json.load(open(os.path.join(need_shared(STORIES), "golden_greedy.json")))
    onnx_path = export(STORIES, "stories", 18)
    engine = build(onnx_path, os.path.join(workdir("onnx-engines"), "stories-golden.engine"), "--gpu-arch", "none")
    ids = golden["prompt_ids_with_bos"]
    out = run_json(engine, "--prompt-ids", ",".join(map(str, ids)), "-n", len(golden["greedy_new_ids"]),
                   "--temperature", 0, "--ignore-eos")
    assert out["ids"] == golden["greedy_new_ids"]


@pytest.mark.parametrize("arch", ["llama", "qwen2", "mistral"])
def test_program_equals_the_hf_import(arch):
    # Raising must reach exactly the per-token form the HF importer builds from the same
    # checkpoint: same steps, attributes and value wiring after the same fusions and memory plan
    # (weights are named differently; inv_freq may differ in the last f32 bit: torch computes it
    # in f32, the HF importer in double).
    src = make_tiny(arch)
    d = workdir("onnx-vs-hf")
    hf = build(src, os.path.join(d, f"{arch}-hf.engine"), "--gpu-arch", "none")
    ox = build(export(src, arch, 18), os.path.join(d, f"{arch}-onnx.engine"), "--gpu-arch", "none")
    ph = json.loads(llmc("inspect", hf, "--json").stdout)["program"]
    po = json.loads(llmc("inspect", ox, "--json").stdout)["program"]
    assert ph["arena_per_token"] == po["arena_per_token"] and ph["values"] == po["values"]
    assert len(ph["steps"]) == len(po["steps"])
    for a, b in zip(ph["steps"], po["steps"]):
        assert (a["op"], a["in"], a["out"], sorted(a.get("weights", {}))) == \
               (b["op"], b["in"], b["out"], sorted(b.get("weights", {})))
        fa, fb = dict(a.get("attrs", {})), dict(b.get("attrs", {}))
        ia, ib = fa.pop("inv_freq", None), fb.pop("inv_freq", None)
        assert fa == fb
        if ia is not None:
            np.testing.assert_allclose(ib, ia, rtol=1e-6)


def test_report_says_what_was_raised():
    onnx_path = export(make_tiny("llama"), "llama", 18)
    engine = build(onnx_path, os.path.join(workdir("onnx-engines"), "llama-report.engine"), "--gpu-arch", "none")
    info = json.loads(llmc("inspect", engine, "--json").stdout)
    report, model = info["report"], info["model"]
    assert report["not_raised"] == []
    assert report["raised"]["attention"] == 2 and report["raised"]["rms_norm"] == 5
    assert report["raised"]["linear"] == 2 * 7 + 1
    assert report["onnx_ops"]["MatMul"] >= 15
    # Hyper-parameters read back from the raised graph agree with the checkpoint's config.
    cfg = json.load(open(os.path.join(make_tiny("llama"), "config.json")))
    assert model["num_layers"] == cfg["num_hidden_layers"]
    assert model["num_heads"] == cfg["num_attention_heads"]
    assert model["num_kv_heads"] == cfg["num_key_value_heads"]
    assert model["hidden_size"] == cfg["hidden_size"]
    assert model["vocab_size"] == cfg["vocab_size"]
    assert model["max_position"] == cfg["max_position_embeddings"]  # from config.json beside it
    assert model["eos_token_ids"] == [cfg["eos_token_id"]] and model["bos_token_id"] == cfg["bos_token_id"]


def test_verbose_build_prints_raising():
    onnx_path = export(make_tiny("llama"), "llama", 18)
    out = os.path.join(workdir("onnx-engines"), "llama-v.engine")
    proc = llmc("build", onnx_path, "-o", out, "--gpu-arch", "none", "-v")
    assert "raised to the per-token form" in proc.stderr and '"attention":2' in proc.stderr


def test_builds_are_deterministic_and_dump_every_pass():
    onnx_path = export(make_tiny("llama"), "llama", 18)
    d = workdir("onnx-det")
    shutil.rmtree(os.path.join(d, "ir"), ignore_errors=True)  # a rerun's dump must not meet an older one's
    a = build(onnx_path, os.path.join(d, "a.engine"), "--gpu-arch", "none", "--dump-ir", os.path.join(d, "ir"))
    b = build(onnx_path, os.path.join(d, "b.engine"), "--gpu-arch", "none")
    assert open(a, "rb").read() == open(b, "rb").read()
    dumps = sorted(os.listdir(os.path.join(d, "ir")))
    assert dumps[0] == "00-import.mlir" and dumps[-1].endswith("-llmc-plan-memory.mlir")
    assert any(n.endswith("-llmc-raise-attention.mlir") for n in dumps)
    assert len({n[:2] for n in dumps}) == len(dumps)  # one number per pass, no gaps reused
    imported = open(os.path.join(d, "ir", "00-import.mlir")).read()
    assert "llm.causal_mask" in imported and "llm.positions" in imported and "llm.sdpa" not in imported


def test_mistral_sliding_window_is_recovered():
    onnx_path = export(make_tiny("mistral"), "mistral", 18)
    engine = build(onnx_path, os.path.join(workdir("onnx-engines"), "mistral-w.engine"), "--gpu-arch", "none")
    info = json.loads(llmc("inspect", engine, "--json").stdout)
    assert info["model"]["sliding_window"] == 16


def test_external_data_gives_the_same_engine_weights():
    src = make_tiny("llama")
    inline = build(export(src, "llama", 18), os.path.join(workdir("onnx-engines"), "inline.engine"),
                   "--gpu-arch", "none")
    ext_path = export(src, "llama", 18, external=True)
    assert os.path.exists(ext_path + ".data")
    ext = build(ext_path, os.path.join(workdir("onnx-engines"), "ext.engine"), "--gpu-arch", "none")
    a = run_json(inline, "--prompt-ids", ",".join(map(str, PROMPT)), "-n", 4, "--temperature", 0, "--logits")
    b = run_json(ext, "--prompt-ids", ",".join(map(str, PROMPT)), "-n", 4, "--temperature", 0, "--logits")
    assert a["prompt_logits"] == b["prompt_logits"] and a["ids"] == b["ids"]
    np.testing.assert_allclose(np.array(b["prompt_logits"]), ort_last_logits(ext_path, PROMPT), atol=1e-4, rtol=0)


def test_defaults_without_side_files():
    onnx_path = export(make_tiny("qwen2"), "qwen2", 18, side_files=False)
    engine = build(onnx_path, os.path.join(workdir("onnx-engines"), "bare.engine"), "--gpu-arch", "none")
    info = json.loads(llmc("inspect", engine, "--json").stdout)
    assert info["model"]["bos_token_id"] is None and info["model"]["eos_token_ids"] == []
    assert info["report"]["max_position_source"] == "default"


def failed_build(path, out):
    if os.path.exists(out):
        os.remove(out)
    proc = llmc("build", path, "-o", out, "--gpu-arch", "none", check=False)
    assert proc.returncode == 2, proc.stderr
    assert not os.path.exists(out)
    assert not [f for f in os.listdir(os.path.dirname(out)) if f.startswith(os.path.basename(out) + ".tmp")]
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_unsupported_ops_are_all_listed():
    import onnx
    model = onnx.load(export(make_tiny("llama"), "llama", 18))
    # Two realistic misfits: a contrib-domain attention and an op llmc does not know, each used
    # several times (only the first node of each is named), plus a third op type.
    model.opset_import.append(onnx.helper.make_opsetid("com.microsoft", 1))
    softmaxes = [n for n in model.graph.node if n.op_type == "Softmax"]
    negs = [n for n in model.graph.node if n.op_type == "Neg"]
    sig = [n for n in model.graph.node if n.op_type == "Sigmoid"]
    for n in softmaxes:
        n.op_type, n.domain = "GroupQueryAttention", "com.microsoft"
    for n in negs:
        n.op_type = "Foo"
    sig[0].op_type = "DFT"
    d = workdir("onnx-bad")
    path = os.path.join(d, "unsupported.onnx")
    onnx.save(model, path)
    line = failed_build(path, os.path.join(d, "unsupported.engine"))
    order = sorted([(list(model.graph.node).index(softmaxes[0]), f"com.microsoft::GroupQueryAttention (opset 1, first node '{softmaxes[0].name}')"),
                    (list(model.graph.node).index(negs[0]), f"ai.onnx::Foo (opset 18, first node '{negs[0].name}')"),
                    (list(model.graph.node).index(sig[0]), f"ai.onnx::DFT (opset 18, first node '{sig[0].name}')")])
    assert line.endswith(f"{path}: unsupported ops: " + ", ".join(m for _, m in order)), line


@pytest.mark.parametrize("kind", ["truncated", "garbage", "empty", "text", "no-graph"])
def test_broken_files_fail_with_one_line(kind):
    d = workdir("onnx-bad")
    path = os.path.join(d, f"{kind}.onnx")
    good = open(export(make_tiny("llama"), "llama", 18), "rb").read()
    data = {"truncated": good[: len(good) // 2], "garbage": np.random.default_rng(0).bytes(4096),
            "empty": b"", "text": b"this is not a model\n"}.get(kind)
    if kind == "no-graph":
        import onnx
        data = onnx.helper.make_model(onnx.helper.make_graph([], "g", [], [])).SerializeToString()
    with open(path, "wb") as f:
        f.write(data)
    line = failed_build(path, os.path.join(d, f"{kind}.engine"))
    assert path in line and "not an ONNX model" in line, line


def test_missing_external_data_file_is_named():
    import shutil
    ext_path = export(make_tiny("llama"), "llama", 18, external=True)
    d = workdir("onnx-bad-ext")
    shutil.copy(ext_path, os.path.join(d, "model.onnx"))
    line = failed_build(os.path.join(d, "model.onnx"), os.path.join(d, "model.engine"))
    assert "model.onnx.data" in line and "no such file" in line, line
