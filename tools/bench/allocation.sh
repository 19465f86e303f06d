#!/usr/bin/env bash
# Evidence for per-layer bit allocation (issue #6): for each bundled model and for mnist8_zoo
# (../shared/models, MNIST test split), the accuracy A of the uniform 4-bit and 3-bit baselines
# (`quantize --bits N`), then each allocator asked for `--target-acc A`: the average weight bits it
# needs, the accuracy it measures and the wall time of the whole run. A Markdown table on stdout.
#
#   tools/bench/allocation.sh [--bin build/src/aquant] [--models "lenet5_fmnist resnet_fmnist"]
#                             [--allocators "adaptive mmse loss-aware"] [--baselines "4 3"]
#                             [--limit N] [--max-evals M]
#
# --limit N evaluates on the first N evaluation images only (baseline and targets alike, so the
# comparison stays paired); --max-evals M caps the candidates each target search measures.
#
# Accuracy is top-1 on the evaluation data (the sidecar's test split: 10,000 images; for
# mnist8_zoo the MNIST test split minus the 512 images that calibrate). Weights per channel,
# MMSE ranges, 8-bit activations. "saved" is the reduction of average weight bits against the
# baseline at the same measured-or-better accuracy.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=build/src/aquant
MODELS="lenet5_fmnist resnet_fmnist mobilenetv2_fmnist vit_fmnist mnist8_zoo"
ALLOCATORS="adaptive mmse loss-aware"
BASELINES="4 3"
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN=$2; shift 2 ;;
    --models) MODELS=$2; shift 2 ;;
    --allocators) ALLOCATORS=$2; shift 2 ;;
    --baselines) BASELINES=$2; shift 2 ;;
    --limit) EXTRA+=(--limit "$2"); shift 2 ;;
    --max-evals) MAXEVALS=$2; shift 2 ;;
    *) echo "allocation.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -x "$BIN" ] || { echo "allocation.sh: $BIN not built (bash tools/build.sh)" >&2; exit 1; }
SHARED=$(cd .. && pwd)/shared/models
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

model_args() {  # model path and data flags
  case "$1" in
    mnist8_zoo)
      [ -f "$SHARED/mnist8_zoo/model.onnx" ] || return 1
      echo "$SHARED/mnist8_zoo/model.onnx --eval $SHARED/mnist-test/t10k-images-idx3-ubyte.gz \
--labels $SHARED/mnist-test/t10k-labels-idx1-ubyte.gz" ;;
    *) echo "models/$1.onnx" ;;
  esac
}

# field of the --json report: avg weight bits, top-1, seconds
summary() {
  /usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
t = r["plan"]["totals"]; q = r["metrics"]["quantized"]
print("%.4f %.17g %d" % (t["avg_weight_bits"], q["top1"], t["bytes_packed"]))' "$1"
}

echo "| model | baseline | A (top-1) | bits | allocator | avg bits | top-1 | met | saved | KB packed | wall s |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for m in $MODELS; do
  args=$(model_args "$m") || { echo "| $m | (absent: ../shared/models) |||||||||"; continue; }
  for b in $BASELINES; do
    # shellcheck disable=SC2086
    "$BIN" -q quantize $args "${EXTRA[@]}" --bits "$b" -o "$TMP/u.onnx" --json > "$TMP/u.json"
    read -r ubits uacc ubytes < <(summary "$TMP/u.json")
    for a in $ALLOCATORS; do
      t0=$(date +%s.%N)
      rc=0
      # shellcheck disable=SC2086
      "$BIN" -q quantize $args "${EXTRA[@]}" --target-acc "$uacc" --allocator "$a" \
        --max-evals "${MAXEVALS:-10}" -o "$TMP/a.onnx" --json \
        > "$TMP/a.json" 2> "$TMP/a.err" || rc=$?
      t1=$(date +%s.%N)
      if [ "$rc" != 0 ] && [ "$rc" != 3 ]; then
        echo "| $m | W${b}A8 | $uacc | $ubits | $a | error (exit $rc): $(head -c 120 "$TMP/a.err") ||||||"
        continue
      fi
      read -r abits aacc abytes < <(summary "$TMP/a.json")
      met=$([ "$rc" = 0 ] && echo yes || echo no)
      /usr/bin/python3 -c '
import sys
m,b,uacc,ubits,a,abits,aacc,met,abytes,t0,t1 = sys.argv[1:]
saved = 100 * (1 - float(abits) / float(ubits))
print("| %s | W%sA8 | %.2f %% | %.2f | %s | %.2f | %.2f %% | %s | %.1f %% | %.1f | %.0f |" % (
    m, b, 100*float(uacc), float(ubits), a, float(abits), 100*float(aacc), met, saved,
    float(abytes)/1000, float(t1)-float(t0)))' "$m" "$b" "$uacc" "$ubits" "$a" "$abits" "$aacc" "$met" "$abytes" "$t0" "$t1"
    done
  done
done
