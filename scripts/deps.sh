#!/usr/bin/env bash
# Installs the build and test dependencies from Debian packages when any is missing
# (python3-dev: the headers the Python module, `pip install .`, compiles against).
set -euo pipefail
PACKAGES=(cmake g++ make pkg-config libgtest-dev libgmock-dev libbenchmark-dev libomp-dev
          libeigen3-dev nlohmann-json3-dev libcli11-dev libicu-dev python3 python3-dev python3-numpy python3-venv gnuplot-nox)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
