"""Tiny random-weight checkpoints made by transformers: llmc's tokens and logits equal transformers'."""
import os

import numpy as np
import pytest

from llmc_harness import build, hf_greedy, make_tiny, run_json, workdir

PROMPT = [1, 17, 42, 99, 5, 230, 64, 7, 150, 33, 12, 280]
ARCHS = ["llama", "llama-tied", "mistral", "qwen2"]


@pytest.mark.parametrize("arch", ARCHS)
def test_greedy_matches_transformers(arch):
    model = make_tiny(arch)
    engine = build(model, os.path.join(workdir("archs"), f"{arch}.engine"))
    # Mistral's sliding window is 16: 12 prompt + 24 new tokens crosses it.
    want_ids, want_logits = hf_greedy(model, PROMPT, 24)
    out = run_json(engine, "--prompt-ids", ",".join(map(str, PROMPT)), "-n", 24, "--temperature", 0,
                   "--logits", "--ignore-eos")
    np.testing.assert_allclose(np.array(out["prompt_logits"]), want_logits, atol=1e-4, rtol=0)
    assert out["ids"] == want_ids


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
def test_long_prompt_is_chunked_and_still_matches(arch):
    model = make_tiny(arch)
    engine = build(model, os.path.join(workdir("archs"), f"{arch}.engine"))
    prompt = [(i * 37 + 11) % 300 + 3 for i in range(150)]
    want_ids, want_logits = hf_greedy(model, prompt, 8)
    out = run_json(engine, "--prompt-ids", ",".join(map(str, prompt)), "-n", 8, "--temperature", 0,
                   "--logits", "--ignore-eos", "--max-batch-tokens", 64)
    np.testing.assert_allclose(np.array(out["prompt_logits"]), want_logits, atol=1e-4, rtol=0)
    assert out["ids"] == want_ids


def test_bf16_engine_of_f32_checkpoint_is_close():
    model = make_tiny("llama")
    engine = build(model, os.path.join(workdir("archs"), "llama-bf16.engine"), "--dtype", "bf16")
    _, want_logits = hf_greedy(model, PROMPT, 1)
    out = run_json(engine, "--prompt-ids", ",".join(map(str, PROMPT)), "-n", 1, "--temperature", 0, "--logits")
    got = np.array(out["prompt_logits"])
    rel = np.linalg.norm(got - want_logits) / np.linalg.norm(want_logits)
    assert rel < 3e-2, rel


def test_bf16_checkpoint_keeps_bf16_by_default():
    model = make_tiny("qwen2", dtype="bfloat16")
    engine = build(model, os.path.join(workdir("archs"), "qwen2-bf16ckpt.engine"))
    import json
    import subprocess
    from llmc_harness import llmc
    info = json.loads(llmc("inspect", engine, "--json").stdout)
    assert {w["dtype"] for w in info["weights"]} == {"bf16"}
