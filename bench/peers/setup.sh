#!/usr/bin/env bash
# Installs the peers the benchmark suite (bench/compare) measures dfbatch
# against, and that dfbatch's ONNX Runtime backend (onnx.RuntimeORT) loads:
#
#   - ONNX Runtime 1.30.0's shared library, from npm's onnxruntime-node
#     (pinned in package-lock.json), into bench/peers/node_modules;
#   - Debian's python3-numpy and python3-pandas, for the pandas peer.
#
# Run it from anywhere. Its standard output is only the line that exports
# DFBATCH_ORT_LIB (progress goes to standard error), for a script to eval.
#
#   bench/peers/setup.sh            # both
#   bench/peers/setup.sh --npm-only # only ONNX Runtime (no apt)
set -euo pipefail
cd "$(dirname "$0")"

npm_only=false
case "${1:-}" in
  "") ;;
  --npm-only) npm_only=true ;;
  *) echo "usage: $0 [--npm-only]" >&2; exit 2 ;;
esac

# onnxruntime-node's install script downloads extra binaries from a host
# that cannot be reached from every machine; the package already ships
# libonnxruntime for linux x64, so the script is skipped.
if ! command -v npm >/dev/null; then
  echo "setup.sh: npm is not installed; install Node.js (e.g. apt-get install nodejs npm) and run again" >&2
  exit 1
fi
npm ci --ignore-scripts --no-audit --no-fund >&2

lib="$PWD/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"
if [ ! -f "$lib" ]; then
  echo "setup.sh: npm installed onnxruntime-node, but $lib is missing (onnxruntime-node ships it for linux x64 only)" >&2
  exit 1
fi

if ! $npm_only; then
  packages=(python3-numpy python3-pandas python3-sklearn python3-onnx)
  if [ "$(id -u)" -eq 0 ]; then
    apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    apt=(sudo DEBIAN_FRONTEND=noninteractive apt-get)
  else
    apt=()
  fi
  if [ ${#apt[@]} -eq 0 ] || ! command -v apt-get >/dev/null; then
    echo "setup.sh: skipping ${packages[*]}: no apt-get, or not root and no sudo without a password; the pandas peer will be skipped" >&2
  elif ! { "${apt[@]}" update -qq && "${apt[@]}" install -y -qq "${packages[@]}"; } >&2; then
    echo "setup.sh: apt-get could not install ${packages[*]}; the pandas peer will be skipped" >&2
  fi
fi

echo "export DFBATCH_ORT_LIB=$lib"
