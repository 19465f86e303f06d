#!/usr/bin/env bash
# Installs what aquant needs on Debian 12 when it is missing (idempotent; root or sudo).
#   tools/install_deps.sh          build + runtime data packages
#   tools/install_deps.sh --tests  also what the tests use (ONNX test data, ONNX Runtime via npm)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
want_tests=0
[ "${1:-}" = "--tests" ] && want_tests=1

pkgs=(build-essential cmake pkg-config git
      libonnx-dev libprotobuf-dev protobuf-compiler libeigen3-dev libcli11-dev libspdlog-dev
      libgtest-dev nlohmann-json3-dev zlib1g-dev
      dataset-fashion-mnist)
if [ $want_tests -eq 1 ]; then
  pkgs+=(libonnx-testdata nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from elsewhere than Debian (e.g. a preinstalled node); accept those.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do
    case "$p" in nodejs|npm) ;; *) filtered+=("$p") ;; esac
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "install_deps: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install_deps: all Debian packages present"
fi

if [ $want_tests -eq 1 ]; then
  bash "$here/ort/install.sh"
fi
