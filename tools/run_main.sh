#!/usr/bin/env bash
# One command: install what is missing, build, and run the main job on a bundled model with its
# bundled data (README "Two commands"): the smallest quantized ResNet (Fashion-MNIST) that keeps
# 91 % top-1 on the 10,000 test images (fp32: 91.68 %), with its per-layer report.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/tools/install_deps.sh"
bash "$root/tools/build.sh"
aquant="$root/build/src/aquant"
model="$root/models/resnet_fmnist.onnx"
out="${TMPDIR:-/tmp}/resnet_fmnist.q.onnx"
"$aquant" inspect "$model"
"$aquant" quantize "$model" --target-acc 0.91 -o "$out" --report "${out%.onnx}.report.json"
echo "written: $out (report: ${out%.onnx}.report.json; read it back with: $aquant report $out)"
