#!/usr/bin/env bash
# LLVQ against llama.cpp's own quantizations of the same real model, one command:
#   bash bench/peers.sh [OUT_DIR]           (default: build/peers)
# 1. Builds llama.cpp's llama-quantize, llama-imatrix and llama-perplexity from the llama.cpp
#    source vendored in the PyPI sdist of llama-cpp-python (downloaded with pip and built in
#    $LLVQ_CACHE/peers; no llama.cpp code is in this repository).
# 2. The baseline both tools compress: SmolLM2-135M-Instruct (scripts/fetch-models.sh) with its
#    Q4_1 weights dequantized, written as F16 by `llvq convert`.
# 3. Calibration: WikiText-2 validation (llama.cpp: an importance matrix over CALIB_CHUNKS
#    chunks of 512 tokens; LLVQ: GPTQ over the same CALIB_CHUNKS × 512 tokens).
#    Evaluation: WikiText-2 test, llama.cpp's protocol (ctx 512, EVAL_CHUNKS chunks), PPL and KL
#    against the baseline; llama.cpp's files are scored by llama-perplexity, ours by `llvq eval`
#    (the two agree on the baseline to the reported digits: docs/model.md).
# 4. Table (a), whole model: llama.cpp's standard mixes against LLVQ codecs on every linear layer
#    (LLVQ's embedding Q8_0; llama.cpp's mixes choose their own embedding type).
#    Table (b), same tensors: only ffn_down (1536-wide rows, where llama.cpp's 2/3-bit types
#    apply) quantized by each tool, every other 2-D tensor Q8_0 in both.
# Writes $OUT/peers.md (tables), $OUT/peers.json and $OUT/peers.png (PPL against bpw).
# Knobs: LLAMA_CPP_PYTHON_VERSION (0.3.36), CALIB_CHUNKS (16), EVAL_CHUNKS (40), PEERS_QUICK=1
# (fewer rows, for a smoke run). Needs the shared texts: $LLVQ_DATA (default ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$(realpath -m "${1:-build/peers}")
CACHE=${LLVQ_CACHE:-$ROOT/.cache}
DATA=${LLVQ_DATA:-$ROOT/../shared/data}
VERSION=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
CALIB_CHUNKS=${CALIB_CHUNKS:-16}
EVAL_CHUNKS=${EVAL_CHUNKS:-40}
CALIB=$DATA/text/wiki.valid.raw
EVAL=$DATA/text/wiki.test.raw
for f in "$CALIB" "$EVAL"; do
  [ -f "$f" ] || { echo "peers: missing $f (set LLVQ_DATA to the folder holding text/wiki.*.raw)" >&2; exit 2; }
done
mkdir -p "$OUT" "$CACHE/peers"
log() { echo "peers: $*" >&2; }

# --- tools
BUILD=${BUILD_DIR:-$ROOT/build}
if [ ! -x "$BUILD/llvq" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target llvq_cli
fi
LLVQ=$BUILD/llvq
SRC=$CACHE/peers/llama_cpp_python-$VERSION/vendor/llama.cpp
if [ ! -d "$SRC" ]; then
  log "downloading the llama-cpp-python $VERSION sdist (llama.cpp's source) from PyPI"
  python3 -m pip download --no-deps --no-binary :all: -q "llama-cpp-python==$VERSION" -d "$CACHE/peers" >&2
  tar xzf "$CACHE/peers/llama_cpp_python-$VERSION.tar.gz" -C "$CACHE/peers"
fi
BIN=$SRC/build/bin
STAMP=$SRC/build/llvq-peers-build-v2
if [ ! -f "$STAMP" ] || [ ! -x "$BIN/llama-perplexity" ] || [ ! -x "$BIN/llama-imatrix" ] || [ ! -x "$BIN/llama-quantize" ]; then
  log "building llama.cpp (llama-quantize, llama-imatrix, llama-perplexity)"
  # Native code without AMX: ggml's AMX matrix path crashed (SIGSEGV in ggml_backend_amx_mul_mat)
  # on the AMX-capable KVM guest these figures come from; everything else stays native.
  if ! { cmake -S "$SRC" -B "$SRC/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
           -DLLAMA_BUILD_TESTS=OFF -DBUILD_SHARED_LIBS=OFF \
           -DCMAKE_C_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" \
           -DCMAKE_CXX_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" &&
         cmake --build "$SRC/build" -j"$(nproc)" --target llama-quantize llama-imatrix llama-perplexity; } \
       >"$CACHE/peers/build.log" 2>&1; then
    tail -20 "$CACHE/peers/build.log" >&2
    log "error: building llama.cpp failed (log: $CACHE/peers/build.log)"
    exit 2
  fi
  touch "$STAMP"
fi

# --- the baseline and the importance matrix
MODEL=$(bash scripts/fetch-models.sh)
BASE=$OUT/base-f16.gguf
[ -f "$BASE" ] || "$LLVQ" convert "$MODEL" "$BASE" --type f16 >&2
IMATRIX=$OUT/imatrix.dat
if [ ! -f "$IMATRIX" ]; then
  log "importance matrix over $CALIB_CHUNKS chunks of $(basename "$CALIB")"
  "$BIN/llama-imatrix" -m "$BASE" -f "$CALIB" -c 512 --chunks "$CALIB_CHUNKS" -o "$IMATRIX" >"$OUT/imatrix.log" 2>&1
fi
KLBASE=$OUT/base.kld
PPL_ARGS=(-f "$EVAL" -c 512 --chunks "$EVAL_CHUNKS")
[ -f "$KLBASE" ] || "$BIN/llama-perplexity" -m "$BASE" "${PPL_ARGS[@]}" --kl-divergence-base "$KLBASE" >"$OUT/base.ppl.log" 2>&1
OUR_KL=$OUT/base.llvq-kl
EVAL_TOKENS=$((EVAL_CHUNKS * 512))
[ -f "$OUR_KL" ] || "$LLVQ" eval --model "$BASE" --text "$EVAL" --ctx 512 --protocol llamacpp \
  --max-tokens "$EVAL_TOKENS" --kl-base "$OUR_KL" --json >"$OUT/base.llvq.json"

ROWS=$OUT/rows.jsonl
: >"$ROWS"

# One llama.cpp file: quantize, score (PPL, KL, top-1) and record a row.
llama_row() {  # table name type [extra llama-quantize args...]
  local table=$1 name=$2 type=$3
  shift 3
  local file=$OUT/$table-$name.gguf t0 t1
  t0=$(date +%s.%N)
  "$BIN/llama-quantize" --imatrix "$IMATRIX" "$@" "$BASE" "$file" "$type" >"$file.quant.log" 2>&1
  t1=$(date +%s.%N)
  "$BIN/llama-perplexity" -m "$file" "${PPL_ARGS[@]}" --kl-divergence-base "$KLBASE" --kl-divergence \
    >"$file.ppl.log" 2>&1
  python3 bench/peers_row.py llama "$table" "$name" "$file" "$(echo "$t1 - $t0" | bc)" >>"$ROWS"
  log "$table $name done"
}

# One LLVQ file: quantize with GPTQ or Spherical GPTQ on the same calibration text, score and
# record a row.
llvq_row() {  # table name rounding [llvq quantize args...]
  local table=$1 name=$2 rounding=$3
  shift 3
  local file=$OUT/$table-${name//[ ,]/_}.gguf
  "$LLVQ" quantize --model "$BASE" --out "$file" --rounding "$rounding" --hadamard in --calib "$CALIB" \
    --calib-tokens $((CALIB_CHUNKS * 512)) --force --json "$@" >"$file.quant.json" 2>"$file.quant.log"
  "$LLVQ" eval --model "$file" --text "$EVAL" --ctx 512 --protocol llamacpp --max-tokens "$EVAL_TOKENS" \
    --kl "$OUR_KL" --json >"$file.eval.json"
  python3 bench/peers_row.py llvq "$table" "$name" "$file" >>"$ROWS"
  log "$table $name done"
}

if [ "${PEERS_QUICK:-0}" = 1 ]; then
  LLAMA_A=(IQ2_XXS Q4_K_M)
  LLVQ_A=("e8p gptq")
  LLAMA_B=(iq2_xxs)
  LLVQ_B=(e8p)
else
  LLAMA_A=(IQ2_XXS Q2_K IQ3_XXS IQ4_XS IQ4_NL Q4_0 Q4_K_M)
  # "codec rounding": every codec at 2, 3 and 4 bpw, both Hessian-aware roundings for the Leech
  # codes (Spherical GPTQ is the seed paper's), GPTQ for the baselines.
  LLVQ_A=("llvq-sg gptq" "llvq-sg spherical-gptq" "llvq-ss gptq" "llvq-ss spherical-gptq" "e8p gptq"
          "pvq gptq" "scalar:bpw=2 gptq" "llvq-ss:bpw=3 gptq" "llvq-ss:bpw=3 spherical-gptq" "pvq:bpw=3 gptq"
          "scalar:bpw=3 gptq" "llvq-ss:bpw=4 gptq" "llvq-ss:bpw=4 spherical-gptq" "pvq:bpw=4 gptq"
          "scalar:bpw=4 gptq" "llvq-sg:bpw=3 gptq" "llvq-sg:bpw=4 gptq")
  LLAMA_B=(iq2_xxs iq2_xs q2_K iq3_xxs iq4_xs)
  LLVQ_B=(llvq-sg llvq-ss e8p llvq-ss:bpw=3 llvq-ss:bpw=4 llvq-sg:bpw=3 llvq-sg:bpw=4)
fi
for t in "${LLAMA_A[@]}"; do llama_row a "$t" "$t"; done
for cr in "${LLVQ_A[@]}"; do
  read -r c r <<<"$cr"
  name=$c
  [ "$r" = gptq ] || name="$c, $r"
  llvq_row a "$name" "$r" --codec "$c" --dense-type q8_0
done
for t in "${LLAMA_B[@]}"; do llama_row b "ffn_down=$t" Q8_0 --tensor-type "ffn_down=$t"; done
for c in "${LLVQ_B[@]}"; do llvq_row b "ffn_down=$c" gptq --codec keep --rule "ffn_down=$c" --dense-type q8_0; done

python3 bench/peers_report.py "$ROWS" "$OUT" "$(basename "$EVAL")" "$EVAL_CHUNKS" "$CALIB_CHUNKS"
log "tables in $OUT/peers.md"
