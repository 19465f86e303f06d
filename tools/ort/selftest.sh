#!/usr/bin/env bash
# Self-test of the ONNX Runtime harness: builds tiny ONNX models with Debian's python3-onnx
# (onnx 1.12) + numpy, runs them through ort_run.js / ort_bench.js and compares with numpy.
# Ends with a plain "N passed, N failed" line; exits non-zero if anything failed.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${PYTHON:-/usr/bin/python3}"

"$here/install.sh" || { echo "selftest: install.sh failed"; echo "0 passed, 1 failed"; exit 1; }
if ! "$PY" -c 'import onnx, numpy' 2>/dev/null; then
  echo "selftest: $PY cannot import onnx and numpy (apt-get install python3-onnx python3-numpy)"
  echo "0 passed, 1 failed"
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$PY" "$here/make_test_models.py" "$tmp/m" >/dev/null || { echo "selftest: make_test_models.py failed"; echo "0 passed, 1 failed"; exit 1; }

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
M="$tmp/m"
RUN=(node "$here/ort_run.js")
CMP=("$PY" "$here/compare_npy.py")

# check NAME OUT_DIR REF [compare args] -- [ort_run args]
check() {
  local name="$1" out="$2" ref="$3"
  shift 3
  local cmpargs=()
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do cmpargs+=("$1"); shift; done
  shift
  if "${RUN[@]}" "$@" --out "$tmp/o/$out" >"$tmp/log" 2>&1 &&
    "${CMP[@]}" "$tmp/o/$out/y.npy" "$ref" "${cmpargs[@]}" >>"$tmp/log" 2>&1; then
    ok "$name"
  else
    ko "$name"
    sed 's/^/    /' "$tmp/log"
  fi
}

# --- plain float model: .npy input, .npz (stored and deflated) input, batching
check "mm_add --input"             o1 "$M/mm_add_ref.npy" -- "$M/mm_add.onnx" --input "x=$M/mm_add_in.npy"
check "mm_add --npz (stored)"      o2 "$M/mm_add_ref.npy" -- "$M/mm_add.onnx" --npz "$M/mm_add.npz" --threads 1
check "mm_add --npz (deflate)"     o3 "$M/mm_add_ref.npy" -- "$M/mm_add.onnx" --npz "$M/mm_add_z.npz" --opt basic
check "mm_add --batch 4 (uneven)"  o4 "$M/mm_add_ref.npy" -- "$M/mm_add.onnx" --npz "$M/mm_add.npz" --batch 4
check "mm_add fixed batch 1 --batch 1" o5 "$M/mm_add_ref.npy" -- "$M/mm_add_b1.onnx" --input "x=$M/mm_add_in.npy" --batch 1
check "mm_add --opt disabled"      o6 "$M/mm_add_ref.npy" -- "$M/mm_add.onnx" --input "x=$M/mm_add_in.npy" --opt disabled

# --- opset 21 / IR 10 INT4 models: exact paths must match numpy dequantization
for c in int4_axis0 int4_axis0_zp int4_axis1_zp int4_block32 int4_block16_zp uint4_block32_zp int4_dq_only int4_qdq; do
  check "$c --opt disabled" "${c}_d" "$M/${c}_ref.npy" -- "$M/$c.onnx" --input "x=$M/${c}_in.npy" --opt disabled
  check "$c accuracy_level=0" "${c}_a0" "$M/${c}_ref.npy" -- "$M/$c.onnx" --input "x=$M/${c}_in.npy" \
    --config session.qdq_matmulnbits_accuracy_level=0
done
# default session (MatMulNBits with accuracy_level 4 = int8 activations): only loosely close
for c in int4_axis1_zp int4_block32 uint4_block32_zp; do
  check "$c default session (loose)" "${c}_def" "$M/${c}_ref.npy" --atol 0.5 --rtol 0.1 -- \
    "$M/$c.onnx" --input "x=$M/${c}_in.npy"
done

# --- the fusion really happens by default, and the config entry reaches it
if "${RUN[@]}" "$M/int4_block32.onnx" --input "x=$M/int4_block32_in.npy" --out "$tmp/o/f" \
  --save-optimized "$tmp/opt.onnx" --config session.qdq_matmulnbits_accuracy_level=1 >/dev/null 2>&1 &&
  "$PY" - "$tmp/opt.onnx" <<'EOF'
import sys, onnx
g = onnx.load(sys.argv[1]).graph
ops = [n.op_type for n in g.node]
lv = [a.i for n in g.node if n.op_type == "MatMulNBits" for a in n.attribute if a.name == "accuracy_level"]
sys.exit(0 if ops == ["MatMulNBits"] and lv == [1] else 1)
EOF
then ok "DQ(int4)+MatMul fused to MatMulNBits, --config sets accuracy_level"; else ko "MatMulNBits fusion / --config"; fi

# --- output names with '/' and ':', bool/int64 outputs, int4 output skipped
if "${RUN[@]}" "$M/odd_outputs.onnx" --input "x=$M/odd_outputs_in.npy" --out "$tmp/o/odd" >"$tmp/odd.json" 2>"$tmp/log" &&
  "${CMP[@]}" "$tmp/o/odd/out_a_0.npy" "$M/odd_outputs_ref_out_a_0.npy" --atol 0 >>"$tmp/log" &&
  "${CMP[@]}" "$tmp/o/odd/out_b.npy" "$M/odd_outputs_ref_out_b.npy" --atol 0 >>"$tmp/log" &&
  "${CMP[@]}" "$tmp/o/odd/i64.npy" "$M/odd_outputs_ref_i64.npy" --atol 0 >>"$tmp/log" &&
  node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
    if (j.outputs.length!==3 || j.skipped[0].name!=="q4" || typeof j.ms!=="number") process.exit(1)' "$tmp/odd.json"; then
  ok "odd output names / dtypes / skipped int4 output"
else
  ko "odd output names / dtypes / skipped int4 output"
  sed 's/^/    /' "$tmp/log" "$tmp/odd.json"
fi

# --- .npy reader/writer round trip over dtypes, fortran order, big endian, v2 header, scalar
"$PY" - "$tmp/npy" <<'EOF'
import os, sys
import numpy as np
from numpy.lib import format as F
d = sys.argv[1]
os.makedirs(d)
r = np.random.default_rng(0)
arrs = {
    "f4": r.standard_normal((3, 4)).astype(np.float32), "f8": r.standard_normal((2, 3, 2)),
    "u1": r.integers(0, 255, (5,), dtype=np.uint8), "i1": r.integers(-128, 127, (2, 2), dtype=np.int8),
    "i4": r.integers(-10**9, 10**9, (7,), dtype=np.int32), "i8": r.integers(-2**62, 2**62, (2, 3), dtype=np.int64),
    "b1": r.random((3, 3)) > 0.5, "f2": r.standard_normal(4).astype(np.float16),
    "scalar": np.array(3.5, np.float32), "empty": np.zeros((0, 3), np.float32),
    "fortran": np.asfortranarray(r.standard_normal((3, 4, 5)).astype(np.float32)),
    "bigendian": r.standard_normal((3, 2)).astype(">f4"), "bige_i8": np.arange(6).astype(">i8").reshape(2, 3),
}
for k, v in arrs.items():
    np.save(os.path.join(d, k + ".npy"), v)
with open(os.path.join(d, "v2.npy"), "wb") as f:
    F.write_array(f, r.standard_normal((2, 2)).astype(np.float32), version=(2, 0))
EOF
if node -e '
  const npy = require(process.argv[1]); const fs = require("fs"), path = require("path");
  const [src, dst] = process.argv.slice(2); fs.mkdirSync(dst);
  for (const f of fs.readdirSync(src)) npy.writeNpy(path.join(dst, f), npy.readNpy(path.join(src, f)));
' "$here/npy.js" "$tmp/npy" "$tmp/npy_out" 2>"$tmp/log" && "$PY" - "$tmp/npy" "$tmp/npy_out" >>"$tmp/log" 2>&1 <<'EOF'
import os, sys
import numpy as np
s, d = sys.argv[1:3]
bad = 0
for f in sorted(os.listdir(s)):
    a, b = np.load(os.path.join(s, f)), np.load(os.path.join(d, f))
    good = a.shape == b.shape and a.dtype.newbyteorder("=") == b.dtype.newbyteorder("=") and np.array_equal(a, b)
    if not good:
        print("mismatch", f, a.dtype, b.dtype, a.shape, b.shape)
        bad += 1
sys.exit(1 if bad else 0)
EOF
then ok ".npy read/write round trip"; else ko ".npy read/write round trip"; sed 's/^/    /' "$tmp/log"; fi

# --- benchmark smoke test
if node "$here/ort_bench.js" "$M/int4_block32.onnx" --batch 8 --threads 1 --runs 3 --warmup 1 >"$tmp/b.json" 2>"$tmp/log" &&
  node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
    if (!(j.median_ms>0) || !(j.min_ms>0) || j.runs!==3 || j.threads!==1 || j.batch!==8) process.exit(1)' "$tmp/b.json"; then
  ok "ort_bench.js"
else
  ko "ort_bench.js"; sed 's/^/    /' "$tmp/log" "$tmp/b.json"
fi

# --- errors: non-zero exit and a message naming the file
expect_error() {
  local name="$1" needle="$2"
  shift 2
  if "$@" >/dev/null 2>"$tmp/err"; then
    ko "$name (exit 0)"
  elif grep -qF -- "$needle" "$tmp/err"; then
    ok "$name"
  else
    ko "$name (message lacks '$needle')"; sed 's/^/    /' "$tmp/err"
  fi
}
echo garbage >"$tmp/bad.npy"
"$PY" -c "import numpy as np; np.save('$tmp/x64.npy', np.zeros((2, 8)))"
expect_error "error: missing input file" "$tmp/nope.npy" "${RUN[@]}" "$M/mm_add.onnx" --input "x=$tmp/nope.npy" --out "$tmp/e"
expect_error "error: corrupt .npy" "$tmp/bad.npy" "${RUN[@]}" "$M/mm_add.onnx" --input "x=$tmp/bad.npy" --out "$tmp/e"
expect_error "error: wrong dtype" "$tmp/x64.npy" "${RUN[@]}" "$M/mm_add.onnx" --input "x=$tmp/x64.npy" --out "$tmp/e"
expect_error "error: corrupt model" "$tmp/bad.npy" "${RUN[@]}" "$tmp/bad.npy" --input "x=$M/mm_add_in.npy" --out "$tmp/e"
expect_error "error: fixed batch without --batch" "--batch" "${RUN[@]}" "$M/mm_add_b1.onnx" --input "x=$M/mm_add_in.npy" --out "$tmp/e"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
