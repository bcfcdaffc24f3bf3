#!/usr/bin/env python3
"""Writes a GGUF of random quantized blocks, each followed by its dequantization as computed
by llama.cpp's `gguf` Python package (an implementation independent of ours), for the
cross-check test of llvq's dequantizers.

For every type T in the list: tensor "T" holds 8 random blocks (fp16 scale fields replaced
by small finite values so no block is NaN/inf), tensor "T.ref" the F32 reference values.

usage: gguf_quant_reference.py OUT.gguf SEED
"""
import sys

import gguf
import numpy as np

TYPES = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]

# Byte offsets of the fp16 scale fields within one block, per type.
HALF_FIELDS = {"Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2], "Q8_0": [0],
               "Q2_K": [80, 82], "Q3_K": [108], "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208]}


def main():
    out, seed = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(seed)
    writer = gguf.GGUFWriter(out, "llvq-test")
    for name in TYPES:
        qtype = gguf.GGMLQuantizationType[name]
        block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
        n_blocks = 8
        raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
        for off in HALF_FIELDS[name]:
            scales = rng.uniform(-2.0, 2.0, size=n_blocks).astype(np.float16)
            raw[:, off:off + 2] = scales.view(np.uint8).reshape(n_blocks, 2)
        ref = gguf.quants.dequantize(raw.reshape(1, -1), qtype).astype(np.float32).reshape(-1)
        assert ref.size == n_blocks * block_size
        writer.add_tensor(name, raw.reshape(1, -1), raw_shape=[1, n_blocks * type_size], raw_dtype=qtype)
        writer.add_tensor(name + ".ref", ref)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
