#!/usr/bin/env bash
# The demo: builds LLVQ if needed and runs the main job on the bundled demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
BUILD=${BUILD_DIR:-build}
if [ ! -x "$BUILD/llvq" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target llvq_cli
fi
LLVQ="$BUILD/llvq"
"$LLVQ" --help
