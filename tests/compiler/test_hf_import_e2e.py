"""HF importer end to end: tiny random checkpoints made by transformers -> llmc build -> llmc run,
compared with transformers itself (the oracle) on the same prompt.

Owned by the compiler (cc). Covers what the shared e2e suite does not: GPT-2 (LayerNorm, learned
positions, fused Conv1D c_attn -> transpose + split, gelu_new), GPT-2 checkpoints without the
"transformer." prefix, llama3 RoPE scaling, sharded checkpoints (model.safetensors.index.json),
and a bf16 Qwen2 checkpoint with per-layer sliding windows.

usage: python -m pytest test_hf_import_e2e.py   (env LLMC_BIN = the llmc binary)
"""
import json
import os
import subprocess
import tempfile

import numpy as np
import pytest
import torch
import transformers
from safetensors.torch import load_file, save_file

LLMC = os.environ.get("LLMC_BIN", "llmc")
PROMPT = [5, 17, 42, 99, 3, 230, 64, 7, 150, 33, 12, 200]


def llmc(*args):
    p = subprocess.run([LLMC, *map(str, args)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, f"llmc {' '.join(map(str, args))} failed ({p.returncode}):\n{p.stderr}"
    return p.stdout


def hf_greedy(model, prompt, n):
    """transformers' greedy continuation and the logits after the prompt (float64)."""
    ids = torch.tensor([prompt])
    out_ids = []
    with torch.no_grad():
        for _ in range(n + 1):
            logits = model(ids).logits[0, -1]
            if not out_ids and ids.shape[1] == len(prompt):
                first = logits.double().numpy()
            if len(out_ids) == n:
                break
            nxt = int(torch.argmax(logits))
            out_ids.append(nxt)
            ids = torch.cat([ids, torch.tensor([[nxt]])], dim=1)
    return out_ids, first


def check(folder, n=20, atol=1e-4, build_flags=()):
    # The oracle reads the same files llmc reads, in float32 (bf16 weights widen exactly; a model
    # cast in memory would also have cast its RoPE buffers).
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32,
                                                              attn_implementation="eager")
    model.eval()
    engine = os.path.join(folder, "m.engine")
    llmc("build", folder, "-o", engine, *build_flags)
    out = json.loads(llmc("run", engine, "--json", "--prompt-ids", ",".join(map(str, PROMPT)),
                          "-n", n, "--temperature", 0, "--logits", "--ignore-eos"))
    want_ids, want_logits = hf_greedy(model, PROMPT, n)
    np.testing.assert_allclose(np.array(out["prompt_logits"]), want_logits, atol=atol, rtol=0)
    assert out["ids"] == want_ids


def randomize(model, seed):
    # transformers initialises norms to 1 and biases to 0; random values catch swapped tensors.
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            is_norm_weight = p.dim() == 1 and ("norm" in name or ".ln_" in name) and name.endswith("weight")
            p.copy_(torch.randn(p.shape, generator=g) * 0.2 + (1.0 if is_norm_weight else 0.0))
    return model


def gpt2(seed=0):
    torch.manual_seed(seed)
    cfg = transformers.GPT2Config(vocab_size=256, n_positions=64, n_embd=64, n_layer=2, n_head=4,
                                  bos_token_id=1, eos_token_id=2,
                                  attn_implementation="eager")
    return randomize(transformers.GPT2LMHeadModel(cfg), seed)


def test_gpt2():
    with tempfile.TemporaryDirectory() as d:
        model = gpt2()
        model.save_pretrained(d, safe_serialization=True)
        check(d)


def test_gpt2_without_base_prefix():
    # Hub GPT-2 checkpoints were saved from GPT2Model: "h.0.attn..." instead of "transformer.h.0...".
    with tempfile.TemporaryDirectory() as d:
        model = gpt2(1)
        model.save_pretrained(d, safe_serialization=True)
        path = os.path.join(d, "model.safetensors")
        tensors = load_file(path)
        save_file({k.removeprefix("transformer."): v.contiguous() for k, v in tensors.items()}, path,
                  metadata={"format": "pt"})
        check(d)


def llama(**extra):
    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                   num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                                   attn_implementation="eager", **extra)
    return randomize(transformers.LlamaForCausalLM(cfg), 2)


def test_llama3_rope_scaling():
    # original_max_position_embeddings 16 puts head_dim-16 frequencies in all three llama3 bands.
    rope = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": 16, "rope_theta": 10000.0}
    with tempfile.TemporaryDirectory() as d:
        model = llama(rope_parameters=rope)
        model.save_pretrained(d, safe_serialization=True)
        assert "llama3" in open(os.path.join(d, "config.json")).read()
        check(d)


def test_sharded_checkpoint():
    with tempfile.TemporaryDirectory() as d:
        model = llama()
        model.save_pretrained(d, safe_serialization=True, max_shard_size="40KB")
        assert os.path.exists(os.path.join(d, "model.safetensors.index.json"))
        check(d)


def test_qwen2_bf16_per_layer_sliding_window():
    torch.manual_seed(0)
    cfg = transformers.Qwen2Config(vocab_size=256, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
                                   num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                                   use_sliding_window=True, sliding_window=8, max_window_layers=1,
                                   attn_implementation="eager")
    model = randomize(transformers.Qwen2ForCausalLM(cfg), 3).to(torch.bfloat16)
    with tempfile.TemporaryDirectory() as d:
        model.save_pretrained(d, safe_serialization=True)
        check(d, n=16)
        meta = llmc("inspect", os.path.join(d, "m.engine"))
        assert "bf16" in meta
