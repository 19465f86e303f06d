#!/usr/bin/env bash
# One command: install what is missing, build, run every test (README "Tests").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/tools/install_deps.sh" --tests
bash "$root/tools/build.sh"
cd "$root/build"
ctest --output-on-failure -j"$(nproc)" --timeout 900
