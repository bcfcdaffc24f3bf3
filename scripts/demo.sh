#!/usr/bin/env bash
# The demo: builds LLVQ if needed, fetches a real model (SmolLM2-135M-Instruct from PyPI,
# scripts/fetch-models.sh), compresses its linear layers to 2 bits per weight with Leech-lattice
# shape–gain quantization (llvq-sg, GPTQ rounding, Hadamard incoherence) and to 4 bits per
# weight (llvq-ss Voronoi code), then compares perplexity with the original and chats with each
# compressed file.
#   bash scripts/demo.sh          outputs in $BUILD_DIR/demo (default build/demo)
# Texts: WikiText-2 (validation for calibration, test for evaluation) from $LLVQ_DATA (default
# ../shared/data) when present; otherwise the English reference text of Python's own
# documentation (pydoc_data, PSF license), split in two, so the demo needs nothing beyond the
# repository and the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
BUILD=${BUILD_DIR:-build}
if [ ! -x "$BUILD/llvq" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target llvq_cli
fi
LLVQ="$BUILD/llvq"
OUT="$BUILD/demo"
mkdir -p "$OUT"

MODEL=$(bash scripts/fetch-models.sh)
DATA=${LLVQ_DATA:-../shared/data}
if [ -f "$DATA/text/wiki.test.raw" ] && [ -f "$DATA/text/wiki.valid.raw" ]; then
  CALIB=$DATA/text/wiki.valid.raw
  EVAL=$DATA/text/wiki.test.raw
else
  CALIB=$OUT/python-docs-a.txt
  EVAL=$OUT/python-docs-b.txt
  /usr/bin/python3 - "$CALIB" "$EVAL" <<'EOF'
import sys
from pydoc_data.topics import topics
keys = sorted(topics)
for path, part in zip(sys.argv[1:], (keys[0::2], keys[1::2])):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n\n".join(topics[k] for k in part))
EOF
  echo "demo: no WikiText-2 at $DATA/text; using Python's documentation text instead"
fi
EVAL_TOKENS=8192  # 16 chunks of 512 tokens, llama.cpp's perplexity protocol

echo "== SmolLM2-135M-Instruct (Q4_1 GGUF from PyPI): its linear layers, 2 bpw with llvq-sg + GPTQ"
"$LLVQ" quantize --model "$MODEL" --out "$OUT/smollm2-llvq-sg-2bpw.gguf" --codec llvq-sg \
  --rounding gptq --hadamard in --calib "$CALIB" --calib-tokens 4096 --force
echo
echo "== The same at 4 bpw with the llvq-ss Voronoi code"
"$LLVQ" quantize --model "$MODEL" --out "$OUT/smollm2-llvq-ss-4bpw.gguf" --codec llvq-ss:bpw=4 \
  --rounding gptq --hadamard in --calib "$CALIB" --calib-tokens 4096 --force
echo
echo "== Perplexity on $(basename "$EVAL"), ctx 512, first $EVAL_TOKENS tokens: original, 2 bpw, 4 bpw"
for m in "$MODEL" "$OUT/smollm2-llvq-sg-2bpw.gguf" "$OUT/smollm2-llvq-ss-4bpw.gguf"; do
  "$LLVQ" eval --model "$m" --text "$EVAL" --ctx 512 --protocol llamacpp --max-tokens "$EVAL_TOKENS"
done
echo
for m in "$OUT/smollm2-llvq-ss-4bpw.gguf" "$OUT/smollm2-llvq-sg-2bpw.gguf"; do
  echo "== Chat with $(basename "$m")"
  "$LLVQ" run --model "$m" --chat --prompt "What is the capital of France? Answer in one sentence." -n 48 --temp 0
  echo
done
