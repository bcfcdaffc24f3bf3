#!/usr/bin/env python3
"""Writes a llama2.c (version 0) checkpoint as a Hugging Face Llama safetensors model.

The test fixture for the safetensors reader, generated at test time: config.json plus one
model.safetensors, or N shards with model.safetensors.index.json. q/k rows are permuted
the way Hugging Face's convert_llama_weights_to_hf.py does, so that a correct reader has
to undo it to get the llama2.c weights back.

usage: make_safetensors.py CHECKPOINT OUT_DIR [--dtype F32|F16|BF16] [--shards N] [--untied]
"""
import argparse
import json
import os
import struct

import numpy as np


def read_llama2c(path):
    with open(path, "rb") as f:
        dim, hidden, layers, heads, kv_heads, vocab, seq_len = struct.unpack("7i", f.read(28))
        data = np.frombuffer(f.read(), dtype="<f4")
    cfg = dict(dim=dim, hidden=hidden, layers=layers, heads=heads, kv_heads=kv_heads,
               vocab=abs(vocab), seq_len=seq_len)
    kv_dim = dim * kv_heads // heads
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        out = data[pos:pos + n].reshape(shape)
        pos += n
        return out

    w = {}
    w["embed"] = take(cfg["vocab"], dim)
    w["rms_att"] = take(layers, dim)
    w["wq"] = take(layers, dim, dim)
    w["wk"] = take(layers, kv_dim, dim)
    w["wv"] = take(layers, kv_dim, dim)
    w["wo"] = take(layers, dim, dim)
    w["rms_ffn"] = take(layers, dim)
    w["w1"] = take(layers, hidden, dim)
    w["w2"] = take(layers, dim, hidden)
    w["w3"] = take(layers, hidden, dim)
    w["rms_final"] = take(dim)
    return cfg, w


def hf_permute(w, n_heads):
    """Meta's interleaved rotary row order → HF's half-split order, within every head."""
    rows, cols = w.shape
    return w.reshape(n_heads, rows // n_heads // 2, 2, cols).transpose(0, 2, 1, 3).reshape(rows, cols)


def hf_tensors(cfg, w, untied):
    t = {"model.embed_tokens.weight": w["embed"], "model.norm.weight": w["rms_final"]}
    for l in range(cfg["layers"]):
        p = f"model.layers.{l}."
        t[p + "input_layernorm.weight"] = w["rms_att"][l]
        t[p + "post_attention_layernorm.weight"] = w["rms_ffn"][l]
        t[p + "self_attn.q_proj.weight"] = hf_permute(w["wq"][l], cfg["heads"])
        t[p + "self_attn.k_proj.weight"] = hf_permute(w["wk"][l], cfg["kv_heads"])
        t[p + "self_attn.v_proj.weight"] = w["wv"][l]
        t[p + "self_attn.o_proj.weight"] = w["wo"][l]
        t[p + "mlp.gate_proj.weight"] = w["w1"][l]
        t[p + "mlp.down_proj.weight"] = w["w2"][l]
        t[p + "mlp.up_proj.weight"] = w["w3"][l]
    if untied:
        t["lm_head.weight"] = -w["embed"]
    return t


def encode(a, dtype):
    a = np.ascontiguousarray(a, dtype="<f4")
    if dtype == "F32":
        return a.tobytes()
    if dtype == "F16":
        return a.astype("<f2").tobytes()
    # bfloat16: the top half of the fp32 bits, rounded to nearest-even.
    bits = a.view("<u4").astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")
    return rounded.tobytes()


def write_safetensors(path, tensors, dtype):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    # Reverse name order, so that readers cannot depend on any particular order.
    for name in sorted(tensors, reverse=True):
        blob = encode(tensors[name], dtype)
        header[name] = {"dtype": dtype, "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # the reference writer pads the header to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("out_dir")
    ap.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"])
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--untied", action="store_true", help="store lm_head = -embedding")
    args = ap.parse_args()

    cfg, w = read_llama2c(args.checkpoint)
    tensors = hf_tensors(cfg, w, args.untied)
    os.makedirs(args.out_dir, exist_ok=True)
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": cfg["dim"], "intermediate_size": cfg["hidden"],
        "num_hidden_layers": cfg["layers"], "num_attention_heads": cfg["heads"],
        "num_key_value_heads": cfg["kv_heads"], "vocab_size": cfg["vocab"],
        "max_position_embeddings": cfg["seq_len"], "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "tie_word_embeddings": not args.untied, "torch_dtype": "float32",
    }
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)

    if args.shards == 1:
        write_safetensors(os.path.join(args.out_dir, "model.safetensors"), tensors, args.dtype)
        return
    names = sorted(tensors)
    weight_map = {}
    for s in range(args.shards):
        shard = f"model-{s + 1:05d}-of-{args.shards:05d}.safetensors"
        part = {n: tensors[n] for n in names[s::args.shards]}
        write_safetensors(os.path.join(args.out_dir, shard), part, args.dtype)
        weight_map.update({n: shard for n in part})
    with open(os.path.join(args.out_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=2)


if __name__ == "__main__":
    main()
