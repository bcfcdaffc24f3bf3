#!/usr/bin/env python3
"""One row of bench/peers.sh as a JSON line: the file's rates (from `llvq inspect --json`),
its perplexity and KL (from llama-perplexity's log or `llvq eval --json`), quantize time.
usage: peers_row.py llama|llvq TABLE NAME FILE [QUANT_SECONDS]"""
import json
import os
import re
import subprocess
import sys

tool, table, name, path = sys.argv[1:5]
llvq = os.path.join(os.environ.get("BUILD_DIR", "build"), "llvq")
info = json.loads(subprocess.run([llvq, "inspect", "--json", path], check=True, capture_output=True, text=True).stdout)
meta = {kv["key"]: kv["value"] for kv in info["metadata"]} if isinstance(info["metadata"], list) else info["metadata"]


def is_linear(t):
    return re.match(r"blk\.\d+\.(attn_(q|k|v|output)|ffn_(gate|up|down))\.weight", t) is not None


def target(t):  # the tensors this table quantizes
    return is_linear(t) and (table == "a" or ".ffn_down." in t)


# Stored bits of the target tensors: llama.cpp's own types, or LLVQ's code tensors
# (<name>.llvq_body / .llvq_tail) for the tensors it compressed.
bits = 0
weights = 0
params = 0
for t in info["tensors"]:
    n = 1
    for d in t["ne"]:
        n *= d
    base = re.sub(r"\.llvq_(body|tail|glvq_\w+)$", "", t["name"])
    if base != t["name"]:
        if target(base):
            bits += 8 * t["bytes"]
        continue
    params += n
    if target(t["name"]):
        bits += 8 * t["bytes"]
        weights += n
for key, value in meta.items():  # compressed tensors: their weight count from the recorded shape
    m = re.match(r"llvq\.t\.(.+)\.shape$", key)
    if m and target(m.group(1)):
        shape = value["items"]
        weights += shape[0] * shape[1]
        params += shape[0] * shape[1]

row = {"tool": tool, "table": table, "name": name, "bpw": bits / weights if weights else 0.0,
       "file_bytes": os.path.getsize(path), "file_bpw": 8 * os.path.getsize(path) / params}
if tool == "llama":
    log = open(path + ".ppl.log", encoding="utf-8", errors="replace").read()
    m = re.search(r"Mean PPL\(Q\)\s*:\s*([\d.]+)\s*±\s*([\d.]+)", log) or re.search(r"PPL = ([\d.]+) \+/- ([\d.]+)", log)
    row["ppl"], row["ppl_stderr"] = float(m.group(1)), float(m.group(2))
    m = re.search(r"Mean\s+KLD:\s*([\d.]+)\s*±\s*([\d.]+)", log)
    row["kl"] = float(m.group(1)) if m else None
    m = re.search(r"Same top p:\s*([\d.]+)", log)
    row["top1"] = float(m.group(1)) / 100 if m else None
    row["quant_seconds"] = float(sys.argv[5])
else:
    ev = json.load(open(path + ".eval.json"))
    q = json.load(open(path + ".quant.json"))
    row.update(ppl=ev["ppl"], ppl_stderr=ev["ppl_stderr"], kl=ev.get("kl"), top1=ev.get("top1_agreement"),
               quant_seconds=q["seconds"], calib_seconds=q["calib_seconds"])
print(json.dumps(row))
