#!/usr/bin/env bash
# The test command: installs dependencies, fetches the real model (scripts/fetch-models.sh),
# builds in Release and runs every unit test, then installs the Python module into build-venv
# and runs its pytest suite (python/tests).
#   bash scripts/test.sh            (build directory: build/)
# Tests that read a missing model or data file skip with a message naming it (the shared data:
# $LLVQ_DATA, default ../shared/data); LLVQ_REQUIRE_DATA=1 makes that an error (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/fetch-models.sh >/dev/null || echo "test: SmolLM2 could not be fetched; the tests that read it will skip"
# Absolute paths, so that BUILD_DIR and LLVQ_VENV may be given either way.
BUILD=$(realpath -m "${BUILD_DIR:-build}")
VENV=$(realpath -m "${LLVQ_VENV:-build-venv}")
bash scripts/python-env.sh "$VENV"
# One build directory serves the C++ tests, the CLI and the Python module (built with the
# same flags), so `pip install` below finds everything built and only installs it.
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DLLVQ_BUILD_PYTHON=ON -DPython_EXECUTABLE="$VENV/bin/python"
cmake --build "$BUILD" -j"$(nproc)"
ctest --test-dir "$BUILD" --output-on-failure -j"$(nproc)"
CMAKE_GENERATOR="Unix Makefiles" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "$VENV/bin/pip" install -q --no-build-isolation \
  --config-settings=build-dir="$BUILD" --config-settings=cmake.define.LLVQ_NATIVE=ON --config-settings=cmake.define.LLVQ_BUILD_TESTS=ON \
  --config-settings=cmake.define.LLVQ_BUILD_CLI=ON --config-settings=cmake.define.LLVQ_CUDA=ON .
LLVQ_CLI="$BUILD/llvq" "$VENV/bin/python" -m pytest -q python/tests
