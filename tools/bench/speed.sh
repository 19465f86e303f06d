#!/usr/bin/env bash
# fp32 latency of the reference engine (`aquant bench`) against ONNX Runtime (onnxruntime-node,
# tools/ort/ort_bench.js) on the bundled models: intra-op threads 1 and 2, batch 1 and 64, the
# median (and minimum) of RUNS timed runs after WARMUP untimed ones, both sides. Prints a
# Markdown table; ratio = aquant / ORT (below 1: aquant is faster). Not a test; numbers depend
# on the machine and on what else runs on it (the load average is printed first).
#
#   tools/bench/speed.sh [--aquant PATH] [--runs R] [--warmup W] [--threads "1 2"]
#                        [--batch "1 64"] [MODEL.onnx ...]
#
# Defaults: aquant from build/src/aquant, R 31 (odd: both sides take the middle run), W 5,
# the four models/*_fmnist.onnx.
# The two engines get different random inputs (same shapes); fp32 timing does not depend on
# the values. Each side runs in its own process, one configuration at a time.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

aquant="$root/build/src/aquant"
runs=31
warmup=5
threads_list="1 2"
batch_list="1 64"
models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --aquant) aquant=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --threads) threads_list=$2; shift 2 ;;
    --batch) batch_list=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "speed.sh: unknown option '$1'" >&2; exit 2 ;;
    *) models+=("$1"); shift ;;
  esac
done
if [ ${#models[@]} -eq 0 ]; then
  for m in lenet5 resnet mobilenetv2 vit; do models+=("$root/models/${m}_fmnist.onnx"); done
fi
[ -x "$aquant" ] || { echo "speed.sh: $aquant not found; build it or pass --aquant" >&2; exit 1; }
if [ "$runs" -lt 20 ]; then echo "speed.sh: --runs must be >= 20" >&2; exit 2; fi
command -v node >/dev/null || { echo "speed.sh: node not found" >&2; exit 1; }
if [ ! -d "$root/tools/ort/node_modules/onnxruntime-node" ]; then
  bash "$root/tools/ort/install.sh"
fi

# "median_ms min_ms" of a JSON object (aquant bench --json, ort_bench.js).
times_of() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
  const j=JSON.parse(s); console.log(j.median_ms.toFixed(3), j.min_ms.toFixed(3));})'; }

# On a busy machine a run that loses a time slice to another process takes several ms more, so
# the medians can swing between repetitions; the minimums show the undisturbed speed.
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores; $runs runs after $warmup warm-up"
echo
echo "| model | batch | threads | aquant median ms | ORT median ms | ratio | aquant min ms | ORT min ms | min ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for model in "${models[@]}"; do
  name=$(basename "$model" .onnx)
  for batch in $batch_list; do
    for t in $threads_list; do
      read -r am amin < <("$aquant" --threads "$t" --json bench "$model" --batch "$batch" \
            --runs "$runs" --warmup "$warmup" | times_of)
      read -r om omin < <(node "$root/tools/ort/ort_bench.js" "$model" --threads "$t" \
            --batch "$batch" --runs "$runs" --warmup "$warmup" | times_of)
      ratio=$(node -e "console.log(($am / $om).toFixed(2))")
      min_ratio=$(node -e "console.log(($amin / $omin).toFixed(2))")
      echo "| $name | $batch | $t | $am | $om | $ratio | $amin | $omin | $min_ratio |"
    done
  done
done
