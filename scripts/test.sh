#!/usr/bin/env bash
# The test command: installs dependencies, fetches the real model (scripts/fetch-models.sh),
# builds in Release and runs every unit test.
#   bash scripts/test.sh            (build directory: build/)
# Tests that read a missing model or data file skip with a message naming it (the shared data:
# $LLVQ_DATA, default ../shared/data); LLVQ_REQUIRE_DATA=1 makes that an error (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/fetch-models.sh >/dev/null || echo "test: SmolLM2 could not be fetched; the tests that read it will skip"
BUILD=${BUILD_DIR:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD" -j"$(nproc)"
ctest --test-dir "$BUILD" --output-on-failure -j"$(nproc)"
