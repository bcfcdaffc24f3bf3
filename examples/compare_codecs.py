#!/usr/bin/env python3
"""Compare codecs on one weight matrix: exact bits per weight against distortion, as a table
and a rate–distortion plot (matplotlib, when installed).

  python examples/compare_codecs.py [--model FILE --tensor blk.0.ffn_down.weight] [--plot rd.png] [--force]

Without --model the matrix is i.i.d. Gaussian (--rows × --cols, 256 × 1032 by default), the
source of the README's rate–distortion table. Each codec quantizes the matrix through the
pipeline (input Hadamard) with round-to-nearest, or with GPTQ on Gaussian calibration inputs
(--rounding gptq); distortion is the relative error ‖Ŵ − W‖² / ‖W‖².
"""
import argparse
import os
import sys

import numpy as np

import llvq

DEFAULT_CODECS = ["scalar:bpw=2,kind=lloyd,group=32", "e8p", "pvq:bpw=2", "llvq-ss", "llvq-sg",
                  "scalar:bpw=3,group=32", "llvq-ss:bpw=3", "pvq:bpw=3", "scalar:bpw=4,group=32", "llvq-ss:bpw=4"]


def weight_matrix(a):
    if a.model:
        w = llvq.load_model(a.model).linear(a.tensor)
        if isinstance(w, llvq.QuantizedTensor):
            sys.exit(f"{a.tensor} is already compressed in {a.model}")
        return w
    return np.random.default_rng(a.seed).standard_normal((a.rows, a.cols)).astype(np.float32)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="model file (llama2.c, GGUF, safetensors directory)")
    ap.add_argument("--tensor", default="blk.0.ffn_down.weight", help="GGUF name of the linear layer")
    ap.add_argument("--codecs", default=";".join(DEFAULT_CODECS), help="specs separated by ';'")
    ap.add_argument("--rounding", default="rtn", choices=["rtn", "gptq"])
    ap.add_argument("--rows", type=int, default=256, help="rows of the Gaussian matrix")
    # The pipeline's work on the (identity or calibration) Hessian grows as cols³: 1032 keeps
    # the default run to seconds per codec.
    ap.add_argument("--cols", type=int, default=1032, help="columns of the Gaussian matrix")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--plot", help="write the rate–distortion plot to this PNG")
    ap.add_argument("--force", action="store_true", help="replace the plot if it exists")
    a = ap.parse_args(argv)
    if a.plot and os.path.exists(a.plot) and not a.force:
        sys.exit(f"{a.plot}: exists (pass --force to replace it)")

    w = weight_matrix(a)
    act = None
    if a.rounding == "gptq":
        act = np.random.default_rng(a.seed + 1).standard_normal((4 * w.shape[1], w.shape[1])).astype(np.float32)
    specs = a.codecs.split(";")
    results = llvq.compare_matrix(w, specs, rounding=a.rounding, activations=act, hadamard="in")
    rows = []
    print(f"{'codec':<40} {'bpw':>7} {'rel. error':>11} {'seconds':>8}")
    for spec, r in zip(specs, results):
        rows.append((spec, r["bpw"], r["rel_error"]))
        print(f"{spec:<40} {r['bpw']:7.4f} {r['rel_error']:11.5f} {r['seconds']:8.2f}")

    if a.plot:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            sys.exit("matplotlib is not installed (pip install matplotlib): no plot")
        fig, ax = plt.subplots(figsize=(8, 5))
        for spec, bpw, err in rows:
            ax.scatter(bpw, err)
            ax.annotate(spec, (bpw, err), fontsize=7, xytext=(4, 2), textcoords="offset points")
        r = np.linspace(1.8, 4.8, 50)
        ax.plot(r, 2.0 ** (-2 * r), "k--", lw=0.8, label="D(R) = 2^(-2R), Gaussian")
        ax.set(xlabel="bits per weight (exact)", ylabel="relative squared error", yscale="log",
               title="LLVQ codecs: rate–distortion on " + (a.tensor if a.model else "a Gaussian matrix"))
        ax.legend()
        ax.grid(alpha=0.3)
        tmp = a.plot + ".tmp.png"
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, a.plot)
        print(f"plot: {a.plot}", file=sys.stderr)


if __name__ == "__main__":
    main()
