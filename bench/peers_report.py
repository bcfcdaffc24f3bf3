#!/usr/bin/env python3
"""Tables and plot of bench/peers.sh. usage: peers_report.py ROWS.jsonl OUT_DIR EVAL_NAME EVAL_CHUNKS CALIB_CHUNKS"""
import json
import os
import subprocess
import sys

rows_path, out, eval_name, eval_chunks, calib_chunks = sys.argv[1:6]
rows = [json.loads(line) for line in open(rows_path) if line.strip()]
base = json.load(open(os.path.join(out, "base.llvq.json")))
base_ppl = base["ppl"]
titles = {"a": "(a) Whole model: every linear layer quantized",
          "b": "(b) Same tensors: only the 30 ffn_down tensors (1536-wide rows) quantized, everything else Q8_0"}


def fmt(x, f):
    return "–" if x is None else f % x


lines = [f"Baseline: SmolLM2-135M-Instruct, Q4_1 weights dequantized, F16; PPL {base_ppl:.4f} ± {base['ppl_stderr']:.4f} "
         f"on {eval_name}, llama.cpp protocol, ctx 512, {eval_chunks} chunks. Calibration: {calib_chunks} × 512 tokens "
         "of wiki.valid.raw (llama.cpp: importance matrix; LLVQ: GPTQ).", ""]
for table in ("a", "b"):
    lines += [f"**{titles[table]}**", "",
              "| tool | recipe | bpw (quantized tensors) | bpw (file) | PPL | ΔPPL | KL | top-1 | quantize s |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in sorted((r for r in rows if r["table"] == table), key=lambda r: r["bpw"]):
        lines.append(f"| {'llama.cpp' if r['tool'] == 'llama' else 'LLVQ'} | {r['name']} | {r['bpw']:.4f} | "
                     f"{r['file_bpw']:.3f} | {r['ppl']:.4f} ± {r['ppl_stderr']:.4f} | {r['ppl'] - base_ppl:+.4f} | "
                     f"{fmt(r['kl'], '%.5f')} | {fmt(r['top1'], '%.4f')} | {r['quant_seconds']:.1f} |")
    lines.append("")
open(os.path.join(out, "peers.md"), "w").write("\n".join(lines))
json.dump({"base_ppl": base_ppl, "rows": rows}, open(os.path.join(out, "peers.json"), "w"), indent=2)

dat = os.path.join(out, "peers.dat")
with open(dat, "w") as f:
    for table in ("a", "b"):
        for tool in ("llama", "llvq"):
            for r in rows:
                if r["table"] == table and r["tool"] == tool:
                    f.write(f'{r["bpw"]} {r["ppl"]} "{r["name"]}"\n')
            f.write("\n\n")
script = (f"set terminal pngcairo size 1200,520 noenhanced; set output '{os.path.join(out, 'peers.png')}';"
          "set multiplot layout 1,2; set logscale y; set grid; set xlabel 'bits per weight of the quantized tensors';"
          "set ylabel 'PPL'; set key top right;"
          f"set title '(a) whole model'; plot '{dat}' index 0 using 1:2 with points pt 7 title 'llama.cpp',"
          f" '' index 0 using 1:2:3 with labels offset 0,1 font ',7' notitle, '' index 1 using 1:2 with points pt 5 title 'LLVQ',"
          f" '' index 1 using 1:2:3 with labels offset 0,-1 font ',7' notitle, {base_ppl} title 'baseline';"
          f"set title '(b) ffn_down only'; plot '{dat}' index 2 using 1:2 with points pt 7 title 'llama.cpp',"
          f" '' index 2 using 1:2:3 with labels offset 0,1 font ',7' notitle, '' index 3 using 1:2 with points pt 5 title 'LLVQ',"
          f" '' index 3 using 1:2:3 with labels offset 0,-1 font ',7' notitle, {base_ppl} title 'baseline';"
          "unset multiplot")
subprocess.run(["gnuplot", "-e", script], check=True)
print(open(os.path.join(out, "peers.md")).read())
