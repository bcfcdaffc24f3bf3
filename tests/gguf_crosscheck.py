#!/usr/bin/env python3
"""Reads a GGUF written by `llvq convert` from a llama2.c checkpoint with llama.cpp's own
Python reader (the `gguf` package) and checks every tensor and the llama.* keys against the
checkpoint read independently with NumPy. Exit status 0 when all match.

usage: gguf_crosscheck.py CHECKPOINT.bin FILE.gguf
"""
import struct
import sys

import gguf
import numpy as np


def llama2c_tensors(path):
    with open(path, "rb") as f:
        dim, hidden, layers, heads, kv_heads, vocab, seq_len = struct.unpack("7i", f.read(28))
        data = np.frombuffer(f.read(), dtype="<f4")
    kv_dim = dim * kv_heads // heads
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        out = data[pos:pos + n].reshape(shape)
        pos += n
        return out

    t = {"token_embd.weight": take(abs(vocab), dim)}
    groups = [("attn_norm", (dim,)), ("attn_q", (dim, dim)), ("attn_k", (kv_dim, dim)), ("attn_v", (kv_dim, dim)),
              ("attn_output", (dim, dim)), ("ffn_norm", (dim,)), ("ffn_gate", (hidden, dim)),
              ("ffn_down", (dim, hidden)), ("ffn_up", (hidden, dim))]
    for name, shape in groups:
        block = take(layers, *shape)
        for l in range(layers):
            t[f"blk.{l}.{name}.weight"] = block[l]
    t["output_norm.weight"] = take(dim)
    keys = {"llama.embedding_length": dim, "llama.feed_forward_length": hidden, "llama.block_count": layers,
            "llama.attention.head_count": heads, "llama.attention.head_count_kv": kv_heads,
            "llama.context_length": seq_len}
    return t, keys


def main():
    ref, keys = llama2c_tensors(sys.argv[1])
    reader = gguf.GGUFReader(sys.argv[2])
    got = {t.name: t for t in reader.tensors}
    bad = sorted(set(ref) ^ set(got))
    for name, want in ref.items():
        if name in got:
            have = np.asarray(got[name].data, dtype=np.float32).reshape(want.shape)
            expect = want.astype(np.float16).astype(np.float32) if got[name].tensor_type == 1 else want
            if not np.array_equal(have, expect):
                bad.append(name)
    for key, value in keys.items():
        field = reader.fields[key]
        if int(field.parts[field.data[0]][0]) != value:
            bad.append(key)
    if reader.fields["general.architecture"].parts[-1].tobytes() != b"llama":
        bad.append("general.architecture")
    print("mismatches:", bad if bad else "none", "; tensors:", len(got))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
