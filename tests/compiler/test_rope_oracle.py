"""RoPE inv_freq: llmc's importer against transformers (the oracle).

Owned by the compiler (cc). For each config (default, linear, llama3 in the old rope_scaling and
the new rope_parameters spelling, qwen2/mistral), the same config.json is given to
llmc-cc-rope-dump and to transformers' own rotary embedding class (AutoConfig.from_pretrained ->
<Model>RotaryEmbedding(config).inv_freq), and the two must agree to f32 precision. transformers
computes in f32 and llmc in f64 rounded once to f32, so a couple of f32 ulps is allowed; a wrong
scaling rule is off by far more (factor 8 at low frequencies).

usage: test_rope_oracle.py PATH/TO/llmc-cc-rope-dump
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from transformers import AutoConfig
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding
from transformers.models.mistral.modeling_mistral import MistralRotaryEmbedding
from transformers.models.qwen2.modeling_qwen2 import Qwen2RotaryEmbedding

ROTARY = {"llama": LlamaRotaryEmbedding, "mistral": MistralRotaryEmbedding, "qwen2": Qwen2RotaryEmbedding}


def base(model_type="llama", **extra):
    cfg = {
        "architectures": [{"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM",
                           "qwen2": "Qwen2ForCausalLM"}[model_type]],
        "model_type": model_type,
        "hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 2,
        "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 1000,
        "max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
    }
    cfg.update(extra)
    return cfg


LLAMA3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
          "original_max_position_embeddings": 8192}

CASES = {
    "default": base(),
    "default_small_theta": base(rope_theta=10000.0, head_dim=64),
    "linear": base(rope_scaling={"type": "linear", "factor": 4.0}),
    "llama3": base(rope_scaling=LLAMA3),
    # Llama 3.2-like: factor 32, head_dim 64.
    "llama3_32": base(head_dim=64, rope_scaling=dict(LLAMA3, factor=32.0)),
    "llama3_other_band": base(rope_theta=10000.0, rope_scaling=dict(
        LLAMA3, factor=4.0, low_freq_factor=2.0, high_freq_factor=8.0,
        original_max_position_embeddings=2048)),
    # transformers 5 spelling: everything inside rope_parameters.
    "llama3_rope_parameters": {k: v for k, v in base(rope_parameters=dict(LLAMA3, rope_theta=500000.0)).items()
                               if k != "rope_theta"},
    "qwen2": base("qwen2", rope_theta=1000000.0),
    "mistral": base("mistral", rope_theta=1000000.0, head_dim=128),
}


def oracle(path, model_type):
    config = AutoConfig.from_pretrained(path)
    rot = ROTARY[model_type](config=config)
    return rot.inv_freq.detach().to(torch.float32).numpy()


def main():
    dump = sys.argv[1]
    failures = 0
    for name, cfg in CASES.items():
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump(cfg, f)
            out = subprocess.run([dump, os.path.join(d, "config.json")], capture_output=True, text=True)
            if out.returncode != 0:
                print(f"FAIL {name}: llmc-cc-rope-dump: {out.stderr.strip()}")
                failures += 1
                continue
            ours = np.array(json.loads(out.stdout)["inv_freq"], dtype=np.float32)
            want = oracle(d, cfg["model_type"])
        if ours.shape != want.shape:
            print(f"FAIL {name}: {ours.shape[0]} frequencies, transformers has {want.shape[0]}")
            failures += 1
            continue
        rel = np.max(np.abs(ours.astype(np.float64) - want) / np.abs(want.astype(np.float64)))
        # 2 f32 ulps (2 * 2^-23 ~ 2.4e-7) relative, plus margin for transformers' f32 pow.
        ok = rel <= 1e-6
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {ours.shape[0]} frequencies, max rel diff {rel:.2e}")
        failures += not ok
    # A scaling rule llmc does not support must fail clearly, not silently use default RoPE.
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(base(rope_scaling={"rope_type": "yarn", "factor": 4.0,
                                         "original_max_position_embeddings": 4096}), f)
        out = subprocess.run([dump, os.path.join(d, "config.json")], capture_output=True, text=True)
        if out.returncode == 0 or "yarn" not in out.stderr or "config.json" not in out.stderr:
            print(f"FAIL yarn: expected an error naming config.json and yarn, got rc={out.returncode} "
                  f"stderr={out.stderr!r}")
            failures += 1
        else:
            print("ok   yarn rejected:", out.stderr.strip())
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
