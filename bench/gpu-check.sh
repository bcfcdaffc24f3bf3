#!/usr/bin/env bash
# Everything the CUDA kernels need checked and measured on a lent GPU, in one call of a few
# minutes (docs/kernels-cuda.md, "Measuring on a GPU"): the CUDA tests, compute-sanitizer over
# the device tests, `llvq bench gemv --device cuda` at the shapes of issue 11 (buffers rotated
# beyond L2), and an Nsight Compute profile of the Leech and E8P GEMV kernels. Full outputs go
# to $OUT (the device tool brings that folder back); a summary table is printed last.
#
# The device machine has no Debian packages to build with, so the binaries are built here,
# portable (no -march=native; the kernels pick their ISA at run time), and carried with the
# Debian shared libraries the device image may lack (ICU, GNU OpenMP, GCC's C++ runtime; ~44 MB
# in all, under the carry limit):
#   cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DLLVQ_NATIVE=OFF
#   cmake --build build-gpu -j2 --target llvq_cli test_kernels_cuda
#   bash bench/gpu-check.sh --bundle build-gpu      (copies those libraries to build-gpu/lib)
#   device run: bash bench/gpu-check.sh build-gpu
#               carry: build-gpu/llvq, build-gpu/tests/test_kernels_cuda, build-gpu/lib
set -uo pipefail
if [[ ${1:-} == --bundle ]]; then
  build=${2:-build-gpu}
  mkdir -p "$build/lib"
  ldd "$build/llvq" "$build/tests/test_kernels_cuda" | awk '/=> \// {print $3}' | sort -u |
    grep -E '/lib(icu[a-z]*|gomp|stdc\+\+|gcc_s)\.so' | xargs -r cp -Lv -t "$build/lib"
  exit
fi
build=${1:-build-gpu}
export LD_LIBRARY_PATH="$build/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
out=${OUT:-/tmp/gpu-check}
mkdir -p "$out"
llvq="$build/llvq"
tests="$build/tests/test_kernels_cuda"
for f in "$llvq" "$tests"; do
  [[ -x $f ]] || { echo "gpu-check: $f is missing (build it here and carry it; see the header)" >&2; exit 2; }
done

nvidia-smi -L | tee "$out/device.txt"
status=0
"$tests" > "$out/tests.txt" 2>&1 || status=1
echo "tests: $(grep -E '^\[ +(PASSED|FAILED|SKIPPED) +\] [0-9]+ test' "$out/tests.txt" | tr '\n' ' ')"
compute-sanitizer --tool memcheck --error-exitcode 3 "$tests" --gtest_filter='CudaDevice.*:-*Bench*' \
  > "$out/memcheck.txt" 2>&1 || status=1
echo "memcheck: $(grep -E 'ERROR SUMMARY' "$out/memcheck.txt" | tail -1)"

# Issue 11's shapes; the Leech codes need whole 24-weight blocks, so 8192 and 14336 columns
# become 8184 and 14328 (the bench skips a codec whose block does not divide the columns).
for shape in 4096x4104 16384x16392 28672x8184 14336x4104 4096x14328; do
  "$llvq" bench gemv --device cuda --rows "${shape%x*}" --cols "${shape#*x}" --min-seconds 0.5 --json \
    > "$out/gemv_$shape.json" 2> "$out/gemv_$shape.log" || { status=1; tail -3 "$out/gemv_$shape.log"; }
done

# One launch of each fused GEMV at 4096 × 4104, clocks as the card runs them.
ncu --clock-control none -k 'regex:octet_gemv|fused_gemv' --launch-skip 20 --launch-count 2 \
  --section SpeedOfLight --section MemoryWorkloadAnalysis --section WarpStateStats --section LaunchStats \
  "$llvq" bench gemv --device cuda --codec llvq-sg --codec e8p --min-seconds 0.05 > "$out/ncu.txt" 2>&1 || status=1
grep -E '^\s+(octet_gemv|fused_gemv)|Duration|Memory Throughput|DRAM Throughput|L1/TEX Hit Rate|Registers Per' \
  "$out/ncu.txt" | head -40

python3 - "$out" <<'EOF'
import glob, json, os, sys
print(f"{'shape':>12} {'codec':<28} {'kernel':<12} {'bpw':>6} {'us':>9} {'vs fp16':>8} {'of copy':>8}")
for path in sorted(glob.glob(os.path.join(sys.argv[1], "gemv_*.json"))):
    try:
        d = json.load(open(path))
    except ValueError:
        print(f"{os.path.basename(path)}: no result")
        continue
    shape = f"{d['rows']}x{d['cols']}"
    for r in d["results"]:
        print(f"{shape:>12} {r['codec']:<28} {r['kernel']:<12} {r['bpw']:6.3f} {r['seconds'] * 1e6:9.1f} "
              f"{r.get('speedup_vs_fp16', 0):7.2f}x {100 * r.get('copy_fraction', 0):7.0f}%")
    for s in d.get("skipped", []):
        print(f"{shape:>12} {s['codec']:<28} skipped: {s['reason']}")
EOF
exit $status
