#!/usr/bin/env bash
# The Python environment of the tests: a venv over Debian's python3 (its NumPy comes from
# python3-numpy, scripts/deps.sh) with what the module's build and tests need from PyPI:
# scikit-build-core, nanobind, pytest, tqdm (progress bars), and PyTorch's CPU build for the
# llvq.torch tests (from PyTorch's CPU index, else plain PyPI; without it those tests skip,
# saying so).
#   bash scripts/python-env.sh [VENV]      (default: build-venv)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-build-venv}
[ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$VENV"
"$VENV/bin/pip" install -q "scikit-build-core>=0.10" "nanobind>=2.0" pytest tqdm
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  "$VENV/bin/pip" install -q torch --index-url https://download.pytorch.org/whl/cpu 2>/dev/null ||
    "$VENV/bin/pip" install -q torch ||
    echo "python-env: PyTorch could not be installed; the llvq.torch tests will skip"
fi
