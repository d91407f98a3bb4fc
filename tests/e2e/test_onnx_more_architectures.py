"""ONNX import of Gemma, Phi-3 and GPT-2: torch.onnx.export(dynamo=True) at opsets 18 and 23 -> llmc
build -> llmc run (CPU), against transformers (greedy tokens, prompt logits) and onnxruntime (prompt
logits) on the same tiny random-weight checkpoints, made by transformers during the run.

Gemma: (1 + w) RMSNorm (the exporter folds 1 + w into constants), GeGLU with gelu tanh, embeddings
times sqrt(hidden), head_dim != hidden / heads, tied head. Phi-3: fused qkv_proj and gate_up_proj
sliced in the graph, partial rotary, sliding window 8 (crossed by 12 + 24 tokens). GPT-2: LayerNorm
with bias, learned positions, Conv1D weights, gelu_new, attention and MLP biases, tied head.
The raised program must equal the HF importer's for the same checkpoint.
Owner: onnx.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from llmc_harness import TMP, build, hf_greedy_recompute, llmc, run_json, workdir

PROMPT = [1, 17, 42, 99, 5, 230, 64, 7, 150, 33, 12, 280]
NEW = 24
HERE = os.path.dirname(os.path.abspath(__file__))
ARCHS = ["gemma", "phi3", "gpt2"]


def make_model(arch):
    import torch
    import transformers
    if arch == "gemma":
        # hidden 96: sqrt(96) is not round in f32; head_dim 32 != 96 / 4.
        cfg = transformers.GemmaConfig(
            vocab_size=300, hidden_size=96, intermediate_size=160, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, head_dim=32, max_position_embeddings=256,
            rms_norm_eps=1e-6, bos_token_id=2, eos_token_id=1, pad_token_id=0,
            hidden_act="gelu_pytorch_tanh")
        model = transformers.GemmaForCausalLM(cfg)
    elif arch == "phi3":
        cfg = transformers.Phi3Config(
            vocab_size=300, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
            original_max_position_embeddings=256, rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2,
            pad_token_id=0, tie_word_embeddings=False, partial_rotary_factor=0.5, sliding_window=8)
        model = transformers.Phi3ForCausalLM(cfg)
    else:
        cfg = transformers.GPT2Config(vocab_size=300, n_embd=64, n_layer=2, n_head=4, n_positions=128,
                                      bos_token_id=1, eos_token_id=2)
        model = transformers.GPT2LMHeadModel(cfg)
    # Wide random weights: decisive logits, and norms / biases far from transformers' init (Gemma's
    # norm offsets around 0 make a missing "+1" obvious).
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=g) * 0.15)
            elif "norm" in name or ".ln_" in name:
                centre = 0.0 if arch == "gemma" else 1.0
                p.copy_(centre + (torch.rand(p.shape, generator=g) - 0.5) * 0.6)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return model


@pytest.fixture(scope="module")
def checkpoints():
    out = {}
    for arch in ARCHS:
        d = os.path.join(workdir("onnx-more"), arch)
        if not os.path.exists(os.path.join(d, "config.json")):
            shutil.rmtree(d, ignore_errors=True)
            make_model(arch).save_pretrained(d, safe_serialization=True)
        out[arch] = d
    return out


_exports = {}


def export(src, arch, opset):
    """The .onnx of checkpoint `src` at `opset` (exported once per test run)."""
    out = os.path.join(TMP, "onnx-more", f"{arch}-op{opset}", "model.onnx")
    if out not in _exports and not os.path.exists(out):
        proc = subprocess.run([sys.executable, os.path.join(HERE, "onnx_export.py"), "--model", src,
                               "--out", out, "--opset", str(opset)], capture_output=True, text=True,
                              timeout=900)
        if proc.returncode != 0:
            if opset >= 23 and "opset" in proc.stderr.lower():
                pytest.skip(f"this torch cannot export opset {opset}: {proc.stderr[-300:]}")
            raise AssertionError(f"export of {src} failed:\n{proc.stderr[-3000:]}")
    _exports[out] = True
    return out


def oracle(folder, prompt, n, dtype=None):
    return hf_greedy_recompute(folder, prompt, n, dtype)


def ort_last_logits(onnx_path, ids):
    import onnxruntime as ort
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    return sess.run(None, {"input_ids": np.array([ids], dtype=np.int64)})[0][0, -1].astype(np.float64)


def engine_of(checkpoints, arch, opset):
    path = os.path.join(workdir("onnx-more-engines"), f"{arch}-{opset}.engine")
    if not os.path.exists(path):
        build(export(checkpoints[arch], arch, opset), path, "--gpu-arch", "none")
    return path


def inspect(engine):
    return json.loads(llmc("inspect", engine, "--json").stdout)


@pytest.mark.parametrize("opset", [18, 23])
@pytest.mark.parametrize("arch", ARCHS)
def test_greedy_and_logits_match(checkpoints, arch, opset):
    engine = engine_of(checkpoints, arch, opset)
    info = inspect(engine)
    assert info["report"]["not_raised"] == [], info["report"]
    want_ids, want_hf = oracle(checkpoints[arch], PROMPT, NEW)
    top2 = np.sort(want_hf)[-2:]
    assert top2[1] - top2[0] > 1e-3, top2  # decisive: equal greedy tokens mean something
    out = run_json(engine, "--prompt-ids", ",".join(map(str, PROMPT)), "-n", NEW, "--temperature", 0,
                   "--logits", "--ignore-eos")
    got = np.array(out["prompt_logits"])
    want_ort = ort_last_logits(export(checkpoints[arch], arch, opset), PROMPT)
    print(f"{arch} opset {opset}: max |llmc - onnxruntime| = {np.abs(got - want_ort).max():.2e}")
    np.testing.assert_allclose(got, want_ort, atol=1e-4, rtol=0)
    np.testing.assert_allclose(got, want_hf, atol=1e-4, rtol=0)
    assert out["ids"] == want_ids


@pytest.mark.parametrize("arch", ARCHS)
def test_program_equals_the_hf_import(checkpoints, arch):
    # Same steps, wiring, weights per step and memory plan as the HF importer's engine. Known,
    # harmless differences: torch folds Gemma's 1 + w into the norm weights (unit_offset false
    # on the folded weight), splits the attention scale into two f32 square roots (1 ulp), and
    # GPT-2 adds the residual as the second operand.
    hf = build(checkpoints[arch], os.path.join(workdir("onnx-more-engines"), f"{arch}-hf.engine"),
               "--gpu-arch", "none")
    ph, po = inspect(hf)["program"], inspect(engine_of(checkpoints, arch, 18))["program"]
    assert ph["arena_per_token"] == po["arena_per_token"] and ph["values"] == po["values"]
    assert [s["op"] for s in ph["steps"]] == [s["op"] for s in po["steps"]]
    for a, b in zip(ph["steps"], po["steps"]):
        order = sorted if a["op"] == "add" else list
        assert (order(a["in"]), a["out"], sorted(a.get("weights", {}))) == \
               (order(b["in"]), b["out"], sorted(b.get("weights", {}))), (a, b)
        fa, fb = dict(a.get("attrs", {})), dict(b.get("attrs", {}))
        for key, rtol in (("inv_freq", 1e-6), ("scale", 1e-6)):
            if key in fa or key in fb:
                np.testing.assert_allclose(fb.pop(key), fa.pop(key), rtol=rtol)
        if arch == "gemma" and "unit_offset" in fa:
            assert fa.pop("unit_offset") is True and fb.pop("unit_offset") is False
        assert fa == fb, (a, b)


def test_what_was_raised(checkpoints):
    import torch
    gemma, phi3, gpt2 = (inspect(engine_of(checkpoints, a, 23)) for a in ARCHS)
    emb = [s for s in gemma["program"]["steps"] if s["op"] == "embedding"][0]
    assert emb["attrs"]["scale"] == torch.tensor(96 ** 0.5, dtype=torch.float32).item()
    assert gemma["report"]["raised"]["gelu"] == 2 and gemma["model"]["head_dim"] == 32
    raised = phi3["report"]["raised"]
    assert raised["split"] == 2 and raised["glu"] == 2 and raised["rope"] == 4
    steps = phi3["program"]["steps"]
    assert {s["attrs"]["rotary_dim"] for s in steps if "rotary_dim" in s.get("attrs", {})} == {8}
    assert phi3["model"]["sliding_window"] == 8
    raised = gpt2["report"]["raised"]
    assert raised["layer_norm"] == 5 and raised["position_embedding"] == 1 and raised["gelu"] == 2
    # config.json names n_positions, not max_position_embeddings: the wpe table bounds positions.
    assert gpt2["model"]["max_position"] == 128
    assert gpt2["report"]["max_position_source"] == "position_table"
    assert gpt2["model"]["norm_eps"] == pytest.approx(1e-5)
