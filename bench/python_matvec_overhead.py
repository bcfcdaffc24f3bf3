#!/usr/bin/env python3
"""The cost of calling the CPU kernels from Python: QuantizedTensor.matvec on a 4096 × 4104
matrix against the same C++ call timed in C++ (QuantizedLinear::forward, batch 1).

  python bench/python_matvec_overhead.py [--codec llvq-sg] [--repeats 300] [--json]

The matrix is built as `llvq bench gemv` builds its own: 64 Gaussian rows encoded by the codec,
tiled to 4096 rows (no incoherence transform), so that no quantization run is needed.
Overhead = (median Python call − median C++ call) / median C++ call; both medians are taken
over interleaved rounds, so that a load change on a shared machine hits both alike.
Threads: OpenMP's default (all cores) unless OMP_NUM_THREADS is set.
"""
import argparse
import json
import statistics
import time

import numpy as np

import llvq

ROWS, COLS, SEED_ROWS = 4096, 4104, 64


def tiled_tensor(spec):
    codec = llvq.Codec(spec)
    w = np.random.default_rng(1).standard_normal((SEED_ROWS, COLS)).astype(np.float32)
    codes = codec.encode(w)
    row_bytes = codes.size // SEED_ROWS
    if row_bytes * SEED_ROWS != codes.size:
        raise SystemExit(f"{spec}: rows of {COLS} weights are not whole bytes; pick another codec")
    return llvq.QuantizedTensor.from_codes(spec, np.tile(codes, ROWS // SEED_ROWS), ROWS, COLS)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--codec", default="llvq-sg")
    ap.add_argument("--repeats", type=int, default=300, help="calls per round (5 rounds)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    q = tiled_tensor(a.codec)
    x = np.random.default_rng(2).standard_normal(COLS).astype(np.float32)
    for _ in range(20):  # warm up caches, threads, the page cache of the codes
        q.matvec(x)
    py, cpp = [], []
    for _ in range(5):
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            q.matvec(x)
            py.append(time.perf_counter() - t0)
        cpp.append(q._q._forward_seconds(x, a.repeats))
    t_py, t_cpp = statistics.median(py), statistics.median(cpp)
    r = {"codec": q.codec, "rows": ROWS, "cols": COLS, "isa": llvq.active_isa(), "python_ms": 1e3 * t_py,
         "cpp_ms": 1e3 * t_cpp, "overhead_us": 1e6 * (t_py - t_cpp), "overhead_percent": 100 * (t_py - t_cpp) / t_cpp}
    if a.json:
        print(json.dumps(r, indent=2))
    else:
        print(f"{r['codec']} {ROWS}x{COLS} ({r['isa']}): Python call {r['python_ms']:.3f} ms, C++ call "
              f"{r['cpp_ms']:.3f} ms, overhead {r['overhead_us']:.1f} us = {r['overhead_percent']:.2f}%")


if __name__ == "__main__":
    main()
