#!/usr/bin/env bash
# Installs the tools whose files the interop tests read (internal/interop):
# DuckDB (@duckdb/node-api), polars (nodejs-polars), arrow-rs's Parquet
# writer (parquet-wasm) and Arrow JS (apache-arrow), at the versions
# package-lock.json pins, into tools/interop/node_modules. Their packages
# ship prebuilt linux x64 binaries; install scripts are skipped (they
# reach for hosts not every machine can reach).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v npm >/dev/null; then
  echo "tools/interop/setup.sh: npm is not installed; install Node.js (e.g. apt-get install nodejs npm) and run again" >&2
  exit 1
fi
# npm install, not npm ci: polars lists binaries for other platforms as
# optional dependencies that the lock cannot hold where npm cannot fetch
# them, and npm ci refuses such a lock; install keeps its versions.
npm install --ignore-scripts --no-audit --no-fund >&2
