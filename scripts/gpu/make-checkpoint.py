#!/usr/bin/env python3
"""make-checkpoint.py - random-weight HuggingFace checkpoints in real model shapes, for benchmarks.

    python3 scripts/gpu/make-checkpoint.py llama2-7b OUT_DIR [--tokenizer DIR] [--dtype bf16] [--seed 0]
    python3 scripts/gpu/make-checkpoint.py llama3-8b OUT_DIR
    python3 scripts/gpu/make-checkpoint.py tiny OUT_DIR          # a few MB, same code path (for a smoke test)

Speed depends on the shapes, not on the values, so a random checkpoint measures decode speed as well
as the real one while needing no download (the GPU machine has no network). The model is built from
its config alone (transformers), its parameters created on the GPU (or CPU) directly in the target
dtype and filled with N(0, 0.02) (never zeros: METHOD.md), then written with save_pretrained as
sharded safetensors. --tokenizer copies tokenizer.json (+ tokenizer_config.json) from a folder, so
`llmc build` embeds it (e.g. ../shared/tokenizers/llama2 carried along).
"""
import argparse
import json
import os
import shutil
import sys
import time

SHAPES = {
    # Llama-2-7B: https://huggingface.co/meta-llama/Llama-2-7b-hf/blob/main/config.json
    "llama2-7b": dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                      num_key_value_heads=32, vocab_size=32000, max_position_embeddings=4096, rms_norm_eps=1e-5,
                      rope_theta=10000.0, bos_token_id=1, eos_token_id=2, tie_word_embeddings=False),
    # Llama-3-8B: https://huggingface.co/meta-llama/Meta-Llama-3-8B/blob/main/config.json
    "llama3-8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                      num_key_value_heads=8, vocab_size=128256, max_position_embeddings=8192, rms_norm_eps=1e-5,
                      rope_theta=500000.0, bos_token_id=128000, eos_token_id=128001, tie_word_embeddings=False),
    "tiny": dict(hidden_size=256, intermediate_size=688, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, vocab_size=32000, max_position_embeddings=1024, rms_norm_eps=1e-5,
                 rope_theta=10000.0, bos_token_id=1, eos_token_id=2, tie_word_embeddings=False),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("shape", choices=sorted(SHAPES))
    ap.add_argument("out")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "f16", "f32"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tokenizer", help="folder with tokenizer.json (and tokenizer_config.json) to copy")
    ap.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    args = ap.parse_args()

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    dtype = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}[args.dtype]
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    cfg = LlamaConfig(**SHAPES[args.shape], torch_dtype=dtype, hidden_act="silu", attention_bias=False, mlp_bias=False)
    t0 = time.time()
    torch.manual_seed(args.seed)
    # Parameters are made on the meta device (no memory, no init), then materialised on `device`
    # in `dtype` and filled there: a 7B model in seconds instead of minutes of CPU init.
    with torch.device("meta"):
        model = LlamaForCausalLM(cfg)
    model = model.to_empty(device=device).to(dtype)
    gen = torch.Generator(device=device).manual_seed(args.seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen, device=device, dtype=torch.float32))
            else:
                p.copy_(0.02 * torch.randn(p.shape, generator=gen, device=device, dtype=torch.float32))
        # Buffers (rotary inv_freq) were created on meta too: recompute them from the config.
        for module in model.modules():
            if hasattr(module, "rope_init_fn") and hasattr(module, "inv_freq"):
                inv_freq, _ = module.rope_init_fn(module.config, device)
                module.register_buffer("inv_freq", inv_freq, persistent=False)
                module.original_inv_freq = inv_freq
    n = sum(p.numel() for p in model.parameters())
    os.makedirs(args.out, exist_ok=True)
    model.save_pretrained(args.out, safe_serialization=True, max_shard_size="5GB")
    if args.tokenizer:
        for f in ("tokenizer.json", "tokenizer_config.json"):
            src = os.path.join(args.tokenizer, f)
            if os.path.exists(src):
                shutil.copy(src, os.path.join(args.out, f))
    with open(os.path.join(args.out, "llmc-random-checkpoint.json"), "w") as f:
        json.dump({"shape": args.shape, "dtype": args.dtype, "seed": args.seed, "parameters": n}, f, indent=1)
    print(f"{args.shape}: {n / 1e9:.2f}B parameters, {args.dtype}, written to {args.out} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
