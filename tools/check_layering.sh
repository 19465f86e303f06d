#!/usr/bin/env bash
# Fails when a module includes a module it may not (see README "Layout"), or when protobuf/onnx
# headers appear outside src/io/.
set -u
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
declare -A allowed=(
  [core]="core"
  [ir]="core ir"
  [io]="core ir io"
  [data]="core ir io data"
  [quant]="core quant"
  [engine]="core ir quant engine"
  [sensitivity]="core ir quant engine sensitivity"
  [alloc]="core ir quant sensitivity alloc"
  [export]="core ir quant alloc export"
  [report]="core ir io data quant engine sensitivity alloc export report"
  [pipeline]="core ir io data quant engine sensitivity alloc export report pipeline"
)
bad=0
for mod in "${!allowed[@]}"; do
  for dir in "src/$mod" "include/aquant/$mod"; do
    [ -d "$dir" ] || continue
    while IFS= read -r line; do
      file=${line%%:*}
      inc=$(echo "$line" | sed -E 's/.*#include "aquant\/([a-z_]+)\/.*/\1/')
      case " ${allowed[$mod]} " in
        *" $inc "*) ;;
        *) echo "layering: $file includes aquant/$inc/ (module '$mod' may include: ${allowed[$mod]})"; bad=1 ;;
      esac
    done < <(grep -rnE '#include "aquant/[a-z_]+/' "$dir" || true)
  done
done
if grep -rnE '#include [<"](onnx|google/protobuf)/' src include | grep -v '^src/io/'; then
  echo "layering: protobuf/onnx headers outside src/io/"
  bad=1
fi
[ $bad -eq 0 ] && echo "layering: ok"
exit $bad
