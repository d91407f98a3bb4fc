#!/usr/bin/env python3
"""Exports a HF causal LM to ONNX with an explicit KV cache, as optimum-style exports have it.

    onnx_export_kv.py --model DIR --out DIR/model.onnx --opset 18 [--no-position-ids] [--torchscript]

Graph inputs: input_ids [batch, seq], attention_mask [batch, past + seq], position_ids [batch, seq]
(unless --no-position-ids), past_key_values.N.key / .value [batch, kv_heads, past, head_dim].
Outputs: logits [batch, seq, vocab], present.N.key / .value [batch, kv_heads, past + seq, head_dim].
The wrapper builds a DynamicCache from the flat past tensors and returns the updated cache flat,
which is what torch.onnx.export(dynamo=True) can trace. --torchscript uses the TorchScript exporter
(dynamo=False, dynamic_axes) as optimum does. Side files are copied next to the .onnx.
Used by test_onnx_kv_cache.py. Owner: onnx.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_export import copy_side_files  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--opset", type=int, default=18)
    ap.add_argument("--no-position-ids", action="store_true")
    ap.add_argument("--torchscript", action="store_true")
    args = ap.parse_args()

    import torch
    import transformers

    model = transformers.AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    model.eval()
    cfg = model.config
    layers = cfg.num_hidden_layers
    kv_heads = cfg.num_key_value_heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    with_pos = not args.no_position_ids

    class WithCache(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, *rest):
            pos = rest[0] if with_pos else None
            flat = rest[1:] if with_pos else rest
            cache = transformers.DynamicCache(
                ddp_cache_data=[(flat[2 * i], flat[2 * i + 1]) for i in range(layers)], config=cfg)
            out = self.m(input_ids=input_ids, attention_mask=attention_mask, position_ids=pos,
                         past_key_values=cache, use_cache=True)
            present = []
            for layer in out.past_key_values.layers:
                present += [layer.keys, layer.values]
            return (out.logits, *present)

    # Example: past 5, seq 3 (both > 1 so torch keeps them symbolic).
    past, seq = 5, 3
    ids = torch.tensor([[7, 11, 13]])
    mask = torch.ones(1, past + seq, dtype=torch.int64)
    pos = torch.arange(past, past + seq).unsqueeze(0)
    g = torch.Generator().manual_seed(0)
    kv = [torch.randn(1, kv_heads, past, head_dim, generator=g) for _ in range(2 * layers)]
    past_names = [f"past_key_values.{i}.{kind}" for i in range(layers) for kind in ("key", "value")]
    present_names = [f"present.{i}.{kind}" for i in range(layers) for kind in ("key", "value")]
    inputs = (ids, mask) + ((pos,) if with_pos else ()) + tuple(kv)
    names = ["input_ids", "attention_mask"] + (["position_ids"] if with_pos else []) + past_names
    S, P, M = torch.export.Dim("seq", max=4096), torch.export.Dim("past", max=4096), \
        torch.export.Dim("total", max=8192)
    dyn = [{1: S}, {1: M}] + ([{1: S}] if with_pos else []) + [{2: P}] * (2 * layers)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".partial.onnx"
    if args.torchscript:
        axes = {"input_ids": {1: "seq"}, "attention_mask": {1: "total"}, "position_ids": {1: "seq"},
                "logits": {1: "seq"}, **{n: {2: "past"} for n in past_names},
                **{n: {2: "past + seq"} for n in present_names}}
        torch.onnx.export(WithCache(model).eval(), inputs, tmp, dynamo=False, opset_version=args.opset,
                          input_names=names, output_names=["logits"] + present_names,
                          dynamic_axes={k: v for k, v in axes.items() if k in names or k == "logits" or
                                        k in present_names})
    else:
        torch.onnx.export(WithCache(model).eval(), inputs, tmp, dynamo=True, opset_version=args.opset,
                          input_names=names, output_names=["logits"] + present_names,
                          dynamic_shapes=(dyn[0], dyn[1], tuple(dyn[2:])))  # *rest is one element
    os.replace(tmp, args.out)
    copy_side_files(args.model, args.out)
    print(args.out)


if __name__ == "__main__":
    sys.exit(main())
