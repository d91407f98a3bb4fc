#!/usr/bin/env python3
"""Makes a tiny random-weight HuggingFace checkpoint with transformers, for tests and the quick start.

    make_tiny_model.py --arch llama --out DIR [--dtype float32] [--seed 0] [--tokenizer train|none|DIR]

The checkpoint is what `save_pretrained` writes (config.json, model.safetensors), so llmc's importer
reads exactly what users have. `--tokenizer train` trains a small byte-level BPE tokenizer with the
HF `tokenizers` library on a built-in corpus, so the model needs nothing from outside the project.
Architectures: llama (GQA, llama3 rope scaling), mistral (sliding window), qwen2 (QKV bias).
"""
import argparse
import json
import os
import shutil
import sys

# Small but not degenerate: several heads, GQA, head_dim != hidden/heads where the variant asks.
BASE = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, vocab_size=320, max_position_embeddings=256, rms_norm_eps=1e-5,
            bos_token_id=1, eos_token_id=2)

ARCHS = {
    "llama": dict(model_type="llama", rope_theta=500000.0, tie_word_embeddings=False,
                  rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                    high_freq_factor=4.0, original_max_position_embeddings=64)),
    "llama-tied": dict(model_type="llama", rope_theta=10000.0, tie_word_embeddings=True,
                       head_dim=24),
    "mistral": dict(model_type="mistral", rope_theta=10000.0, sliding_window=16,
                    tie_word_embeddings=False),
    "qwen2": dict(model_type="qwen2", rope_theta=1000000.0, tie_word_embeddings=True,
                  num_key_value_heads=1),
}

CORPUS = [
    "Once upon a time, there was a little robot who loved to compile programs.",
    "The quick brown fox jumps over the lazy dog. 0123456789 + - * / = ( ) [ ] { }",
    "def forward(x):\n    return x * 2  # tabs\tand   spaces",
    "Héllo wörld, ça va? Привет мир. 你好世界. مرحبا بالعالم. 🙂",
] * 8


def train_tokenizer(out_dir, vocab_size):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    special = ["<unk>", "<s>", "</s>"]
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", 1)])
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
                   "add_bos_token": True, "tokenizer_class": "PreTrainedTokenizerFast"}, f, indent=1)
    return tok.get_vocab_size()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=sorted(ARCHS), default="llama")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], default="float32")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tokenizer", default="none",
                    help="'train' (small BPE on a built-in corpus), 'none', or a folder to copy from")
    args = ap.parse_args()

    import torch
    import transformers

    os.makedirs(args.out, exist_ok=True)
    cfg = dict(BASE)
    cfg.update(ARCHS[args.arch])
    if args.tokenizer == "train":
        cfg["vocab_size"] = max(cfg["vocab_size"], train_tokenizer(args.out, cfg["vocab_size"]))
    elif args.tokenizer != "none":
        for name in ("tokenizer.json", "tokenizer_config.json"):
            src = os.path.join(args.tokenizer, name)
            if os.path.exists(src):
                shutil.copy(src, os.path.join(args.out, name))
    model_type = cfg.pop("model_type")
    config = transformers.AutoConfig.for_model(model_type, **cfg)
    torch.manual_seed(args.seed)
    model = transformers.AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32)
    # Default init draws weights with std 0.02: logits would be nearly flat and greedy ties likely.
    # Wider weights give decisive, well-separated logits so token-for-token comparisons are robust.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.15)
            elif "norm" in name:
                p.uniform_(0.8, 1.2)
            else:
                p.normal_(0.0, 0.1)
    model = model.to(getattr(torch, args.dtype))
    model.save_pretrained(args.out, safe_serialization=True)
    print(f"wrote {args.arch} ({args.dtype}) checkpoint to {args.out}")


if __name__ == "__main__":
    sys.exit(main())
