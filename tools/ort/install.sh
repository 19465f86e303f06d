#!/usr/bin/env bash
# Install the pinned onnxruntime-node (CPU binaries ship inside the npm package) into
# tools/ort/node_modules. Idempotent: does nothing when the pinned version is already there.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

die() { echo "tools/ort/install.sh: error: $*" >&2; exit 1; }

command -v node >/dev/null 2>&1 || die "node not found on PATH (need Node.js >= 18)"
command -v npm >/dev/null 2>&1 || die "npm not found on PATH"

want="$(node -p "require('./package.json').dependencies['onnxruntime-node']")" \
  || die "cannot read onnxruntime-node version from $here/package.json"

have_ok() {
  [ -f node_modules/onnxruntime-node/package.json ] || return 1
  local have
  have="$(node -p "require('onnxruntime-node/package.json').version" 2>/dev/null)" || return 1
  [ "$have" = "$want" ] || return 1
  node -e "require('onnxruntime-node')" >/dev/null 2>&1
}

if have_ok; then
  exit 0
fi

# The package's postinstall script would try to download extra (GPU) binaries: skip it.
export ONNXRUNTIME_NODE_INSTALL=skip
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "tools/ort/install.sh: installing onnxruntime-node@$want ..." >&2
if ! npm ci --no-audit --no-fund >"$log" 2>&1; then
  echo "tools/ort/install.sh: 'npm ci' failed, trying 'npm install':" >&2
  tail -n 20 "$log" >&2
  if ! npm install --no-audit --no-fund --no-save >"$log" 2>&1; then
    echo "tools/ort/install.sh: 'npm install' failed, trying 'npm ci --ignore-scripts':" >&2
    tail -n 20 "$log" >&2
    npm ci --no-audit --no-fund --ignore-scripts >"$log" 2>&1 || {
      tail -n 40 "$log" >&2
      die "could not install onnxruntime-node@$want with npm (is the npm registry reachable?)"
    }
  fi
fi

have_ok || die "onnxruntime-node@$want was installed but cannot be loaded by $(command -v node) ($(node -v)); try: cd $here && node -e \"require('onnxruntime-node')\""
echo "tools/ort/install.sh: onnxruntime-node@$want ready" >&2
