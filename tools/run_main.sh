#!/usr/bin/env bash
# One command: install what is missing, build, and run the main job on a bundled model with its
# bundled data (README "Two commands").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/tools/install_deps.sh"
bash "$root/tools/build.sh"
aquant="$root/build/src/aquant"
model="$root/models/resnet_fmnist.onnx"
"$aquant" inspect "$model"
"$aquant" eval "$model"
