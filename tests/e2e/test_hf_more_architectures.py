"""Gemma and Phi-3 through the HF importer: tiny random checkpoints made by transformers -> llmc build
-> llmc run (CPU), compared with transformers itself (the oracle) on the same prompt.

Owned by arch. Gemma: (1 + w) RMSNorm, GeGLU (gelu tanh), embeddings times sqrt(hidden) in the
model's dtype, head_dim from the config (!= hidden / heads), tied head, optional attention biases,
the legacy hidden_act "gelu". Phi-3: fused qkv_proj and gate_up_proj, partial rotary, sliding window
on every layer, tied / untied heads; LongRoPE configs must fail with a clear message.

F32 engines: greedy tokens equal transformers' and the logits after the prompt within 1e-4.
bf16 engines: close to the float32 oracle (relative L2 < 3e-2) and, for Gemma, the embedding
scale is sqrt(hidden) rounded to bf16 the way torch rounds it.

usage: LLMC_BIN=build/bin/llmc python -m pytest tests/e2e/test_hf_more_architectures.py
"""
import json
import os
import shutil

import numpy as np
import pytest
import torch
import transformers

from llmc_harness import hf_greedy_recompute, llmc, run_json, workdir

PROMPT = [5, 17, 42, 99, 3, 230, 64, 7, 150, 33, 12, 200]


def widen(model, seed, unit_offset_norms=False):
    """Random weights wide enough that greedy tokens are decisive (transformers' init has std 0.02,
    norms at 1 (Gemma: 0) and zero biases, which would hide swapped or mis-scaled tensors)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=g) * 0.15)
            elif "norm" in name:
                # Gemma stores offsets from 1: values around 0 make a missing "+1" obvious.
                centre = 0.0 if unit_offset_norms else 1.0
                p.copy_(centre + (torch.rand(p.shape, generator=g) - 0.5) * 0.6)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return model


def save(model, name, dtype=torch.float32):
    d = os.path.join(workdir("more-archs"), name)
    shutil.rmtree(d, ignore_errors=True)
    model.to(dtype).save_pretrained(d, safe_serialization=True)
    return d


def oracle(folder, prompt, n, dtype=None):
    return hf_greedy_recompute(folder, prompt, n, dtype)


def build_and_run(folder, prompt, n, *build_flags, run_flags=()):
    engine = os.path.join(folder, "m.engine")
    if os.path.exists(engine):
        os.remove(engine)
    llmc("build", folder, "-o", engine, *build_flags)
    out = run_json(engine, "--prompt-ids", ",".join(map(str, prompt)), "-n", n, "--temperature", 0,
                   "--logits", "--ignore-eos", *run_flags)
    return engine, out


def assert_matches(folder, n=24, prompt=PROMPT, run_flags=()):
    want_ids, want_logits = oracle(folder, prompt, n)
    # Decisive logits: the top two differ clearly, so equal greedy tokens mean something.
    top2 = np.sort(want_logits)[-2:]
    assert top2[1] - top2[0] > 1e-3, top2
    engine, out = build_and_run(folder, prompt, n, run_flags=run_flags)
    np.testing.assert_allclose(np.array(out["prompt_logits"]), want_logits, atol=1e-4, rtol=0)
    assert out["ids"] == want_ids
    return engine


def program(engine):
    return json.loads(llmc("inspect", engine, "--json").stdout)["program"]


# --- Gemma ------------------------------------------------------------------------------------

def gemma(seed=0, **extra):
    # hidden 96: sqrt(96) is not a round number in f32 or bf16; head_dim 32 != 96 / 4.
    kw = dict(vocab_size=300, hidden_size=96, intermediate_size=160, num_hidden_layers=3,
              num_attention_heads=4, num_key_value_heads=2, head_dim=32, max_position_embeddings=256,
              rms_norm_eps=1e-6, bos_token_id=2, eos_token_id=1, pad_token_id=0,
              hidden_act="gelu_pytorch_tanh")
    kw.update(extra)
    torch.manual_seed(seed)
    cfg = transformers.GemmaConfig(**kw)
    return widen(transformers.GemmaForCausalLM(cfg), seed, unit_offset_norms=True)


def test_gemma_f32_matches_transformers():
    folder = save(gemma(), "gemma")
    cfg = json.load(open(os.path.join(folder, "config.json")))
    assert cfg["model_type"] == "gemma" and cfg["tie_word_embeddings"] is True
    engine = assert_matches(folder)
    steps = program(engine)["steps"]
    emb = [s for s in steps if s["op"] == "embedding"][0]
    # f32 model: HF multiplies by torch.tensor(96 ** 0.5) (float32).
    assert emb["attrs"]["scale"] == torch.tensor(96 ** 0.5, dtype=torch.float32).item()
    assert any(s["op"] == "glu" and s["attrs"]["activation"] == "gelu_tanh" for s in steps) or \
        any(s["op"] == "gelu" and s["attrs"]["approximate"] == "tanh" for s in steps)


def test_gemma_attention_bias_and_legacy_gelu_name():
    # Released Gemma configs say hidden_act "gelu" and mean the tanh approximation; transformers
    # maps it so when loading, and llmc must too.
    folder = save(gemma(seed=1, attention_bias=True, num_key_value_heads=1), "gemma-bias")
    path = os.path.join(folder, "config.json")
    cfg = json.load(open(path))
    cfg["hidden_act"] = "gelu"
    json.dump(cfg, open(path, "w"), indent=1)
    assert_matches(folder)


def test_gemma_chunked_long_prompt():
    folder = save(gemma(seed=2), "gemma-long")
    prompt = [(i * 37 + 11) % 290 + 3 for i in range(100)]
    assert_matches(folder, n=8, prompt=prompt, run_flags=("--max-batch-tokens", 32))


def test_gemma_bf16_engine_is_close_and_scale_is_bf16():
    folder = save(gemma(seed=3), "gemma-bf16")
    _, want = oracle(folder, PROMPT, 1)
    engine, out = build_and_run(folder, PROMPT, 1, "--dtype", "bf16")
    got = np.array(out["prompt_logits"])
    rel = np.linalg.norm(got - want) / np.linalg.norm(want)
    assert rel < 3e-2, rel
    emb = [s for s in program(engine)["steps"] if s["op"] == "embedding"][0]
    # A bf16 model multiplies by the normalizer cast to bf16 (GemmaTextScaledWordEmbedding).
    want_scale = torch.tensor(96 ** 0.5).to(torch.bfloat16).float().item()
    assert emb["attrs"]["scale"] == want_scale
    assert want_scale != torch.tensor(96 ** 0.5).item()


def test_gemma_bf16_checkpoint_close_to_transformers_in_bf16():
    folder = save(gemma(seed=4), "gemma-bf16ckpt", dtype=torch.bfloat16)
    _, want32 = oracle(folder, PROMPT, 1)
    _, want16 = oracle(folder, PROMPT, 1, dtype=torch.bfloat16)
    _, out = build_and_run(folder, PROMPT, 1)
    got = np.array(out["prompt_logits"])
    for want in (want32, want16):
        rel = np.linalg.norm(got - want) / np.linalg.norm(want)
        assert rel < 3e-2, rel


# --- Phi-3 ------------------------------------------------------------------------------------

def phi3(seed=0, **extra):
    kw = dict(vocab_size=300, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
              original_max_position_embeddings=256, rms_norm_eps=1e-5, bos_token_id=1,
              eos_token_id=2, pad_token_id=0, tie_word_embeddings=False)
    kw.update(extra)
    torch.manual_seed(seed)
    cfg = transformers.Phi3Config(**kw)
    return widen(transformers.Phi3ForCausalLM(cfg), seed)


def test_phi3_partial_rotary_sliding_window_matches_transformers():
    # Window 8 with 12 prompt + 24 new tokens: every layer's window is crossed in prefill and decode.
    model = phi3(partial_rotary_factor=0.5, sliding_window=8)
    folder = save(model, "phi3")
    cfg = json.load(open(os.path.join(folder, "config.json")))
    assert cfg["model_type"] == "phi3" and cfg["sliding_window"] == 8
    params = cfg.get("rope_parameters") or {}
    assert cfg.get("partial_rotary_factor", params.get("partial_rotary_factor")) == 0.5
    engine = assert_matches(folder)
    steps = program(engine)["steps"]
    rot = [s["attrs"]["rotary_dim"] for s in steps if "rotary_dim" in s.get("attrs", {})]
    assert rot and set(rot) == {8}  # head_dim 16 * 0.5
    windows = [s["attrs"]["sliding_window"] for s in steps if "sliding_window" in s.get("attrs", {})]
    assert windows == [8, 8, 8]


def test_phi3_tied_full_rotary_gelu_tanh():
    folder = save(phi3(seed=1, tie_word_embeddings=True, hidden_act="gelu_pytorch_tanh",
                       num_key_value_heads=4, rope_theta=500.0), "phi3-tied")
    assert_matches(folder)


def test_phi3_chunked_long_prompt():
    folder = save(phi3(seed=2, sliding_window=40), "phi3-long")
    prompt = [(i * 37 + 11) % 290 + 3 for i in range(100)]
    assert_matches(folder, n=8, prompt=prompt, run_flags=("--max-batch-tokens", 32))


def test_phi3_bf16_checkpoint_close():
    folder = save(phi3(seed=3, sliding_window=8), "phi3-bf16", dtype=torch.bfloat16)
    _, want = oracle(folder, PROMPT, 1)
    engine, out = build_and_run(folder, PROMPT, 1)
    got = np.array(out["prompt_logits"])
    rel = np.linalg.norm(got - want) / np.linalg.norm(want)
    assert rel < 3e-2, rel
    info = json.loads(llmc("inspect", engine, "--json").stdout)
    assert {w["dtype"] for w in info["weights"]} == {"bf16"}


@pytest.mark.parametrize("spelling", ["longrope", "su"])
def test_phi3_longrope_is_rejected_with_a_clear_message(spelling):
    folder = save(phi3(seed=4), f"phi3-{spelling}")
    path = os.path.join(folder, "config.json")
    cfg = json.load(open(path))
    cfg.pop("rope_parameters", None)
    cfg["rope_scaling"] = {"type": spelling, "short_factor": [1.0] * 8, "long_factor": [2.0] * 8}
    json.dump(cfg, open(path, "w"), indent=1)
    engine = os.path.join(folder, "m.engine")
    p = llmc("build", folder, "-o", engine, check=False)
    assert p.returncode == 2, p.stderr
    assert "LongRoPE" in p.stderr and spelling in p.stderr and "config.json" in p.stderr, p.stderr
    assert not os.path.exists(engine)
