#!/usr/bin/env bash
# The demo: builds LLVQ if needed, compresses the bundled stories260K model to about 2 bits
# per weight with Leech-lattice shape–gain quantization (GPTQ rounding, Hadamard
# incoherence, calibration on TinyStories), then compares perplexity with the original and
# generates text from the compressed file.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
BUILD=${BUILD_DIR:-build}
if [ ! -x "$BUILD/llvq" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target llvq_cli
fi
LLVQ="$BUILD/llvq"
DATA=../shared/data
MODEL=$DATA/models/stories260K/stories260K.bin
TEXT=$DATA/text/tinystories_val.txt
OUT="$BUILD/demo"
mkdir -p "$OUT"

echo "== The 48-bit Leech code: shells 2..13 of Λ24"
"$LLVQ" lattice info --max-shell 13
echo
echo "== Quantize stories260K (llvq-sg, 2 gain bits, GPTQ, input Hadamard)"
"$LLVQ" quantize --model "$MODEL" --out "$OUT/stories260K-llvq-sg.gguf" --codec llvq-sg:bpw=2,gain_bits=2 \
  --rounding gptq --hadamard in --calib "$TEXT" --calib-tokens 16384 --force
echo
echo "== Perplexity, windows protocol, ctx 512, first 30,000 tokens: original, then compressed"
"$LLVQ" eval --model "$MODEL" --text "$TEXT" --ctx 512 --max-tokens 30000
"$LLVQ" eval --model "$OUT/stories260K-llvq-sg.gguf" --text "$TEXT" --ctx 512 --max-tokens 30000
echo
echo "== Generation from the compressed file"
"$LLVQ" run --model "$OUT/stories260K-llvq-sg.gguf" --prompt "Once upon a time" -n 48 --temp 0
