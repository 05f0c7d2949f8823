#!/usr/bin/env bash
# kill -9 a large single-file run midway, resume it, and check the result
# against an uninterrupted run: issue 13's acceptance test, as a user would
# run it. The input is written by pandas (Debian's python3-pandas), the
# model is examples/churn/churn.onnx.
#
#   bench/kill9.sh                 # 5M rows, killed at 60%
#   ROWS=1000000 AT=50 FORMAT=csv bench/kill9.sh
#
# It prints the rows the resumed run took from the checkpoint and scored,
# the peak RSS of each run, and whether the resumed output equals the
# uninterrupted one byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${ROWS:-5000000}
at=${AT:-60}
format=${FORMAT:-parquet}
batch=${BATCH:-10000}
work=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "work folder: $work" || trap 'rm -rf "$work"' EXIT

go build -o "$work/dfbatch" ./cmd/dfbatch
/usr/bin/python3 - "$work/in.csv" "$rows" <<'EOF'
import sys
import numpy as np
import pandas as pd
path, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(7)
pd.DataFrame({
    "customer_id": [f"C{i:08d}" for i in range(n)],
    "age": rng.integers(18, 90, n),
    "tenure_months": rng.integers(0, 120, n),
    "monthly_charges": rng.uniform(10, 200, n).round(2),
    "total_charges": rng.uniform(0, 20000, n).round(2),
    "support_calls": rng.integers(0, 12, n),
    "contract_type": rng.integers(0, 3, n),
}).to_csv(path, index=False)
EOF

tasks=$(( (rows + batch - 1) / batch ))
kill_at=$(( tasks * at / 100 ))
args=(run --model examples/churn/churn.onnx --input "$work/in.csv" --batch-size "$batch" --executors 2
  --features age,tenure_months,monthly_charges,total_charges,support_calls,contract_type
  --keep-columns customer_id --rename probabilities_1=Churn_Probability --output-columns Churn_Probability)
out="$work/scored.$format"
journal="$work/.scored.$format.dfbatch/journal.jsonl"

# Task outputs in the checkpoint: journal lines naming a spool.
spooled() { local n; n=$(grep -c '"spool"' "$journal" 2>/dev/null) || true; echo "${n:-0}"; }

"$work/dfbatch" "${args[@]}" --output "$out" 2>"$work/first.log" &
pid=$!
while [ "$(spooled)" -lt "$kill_at" ]; do
  if ! kill -0 "$pid" 2>/dev/null; then echo "the run ended before $at%: $(cat "$work/first.log")" >&2; exit 1; fi
  sleep 0.01
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
echo "killed with $(spooled) of $tasks tasks checkpointed; output under its final name: $([ -e "$out" ] && echo yes || echo no)"

/usr/bin/time -f "%M" -o "$work/resume.rss" "$work/dfbatch" "${args[@]}" --output "$out" --resume 2>"$work/resume.log" >/dev/null
grep -o 'rows out.*' "$work/resume.log" | head -1
/usr/bin/time -f "%M" -o "$work/ref.rss" "$work/dfbatch" "${args[@]}" --output "$work/reference.$format" --checkpoint=false 2>/dev/null >/dev/null
/usr/bin/time -f "%M" -o "$work/cp.rss" "$work/dfbatch" "${args[@]}" --output "$work/checkpointed.$format" 2>/dev/null >/dev/null
echo "peak RSS: resumed run $(( $(cat "$work/resume.rss") / 1024 )) MiB, uninterrupted with checkpoint $(( $(cat "$work/cp.rss") / 1024 )) MiB, without $(( $(cat "$work/ref.rss") / 1024 )) MiB"
# Parquet: arrow-go (v18.8.0) writes each column chunk's encoding_stats
# list from a Go map, so its order in the footer changes from run to run
# whenever a chunk has pages of two encodings (a dictionary that fell back
# to plain): two uninterrupted runs differ there too. The data, every byte
# before the footer, must be equal; the footer may differ only in that
# order.
data_bytes() {
  local size footer
  size=$(stat -c %s "$1")
  if [ "$format" != parquet ]; then echo "$size"; return; fi
  footer=$(od -An -tu4 -j $((size - 8)) -N4 "$1" | tr -d ' ')
  echo $((size - 8 - footer))
}
n=$(data_bytes "$out")
for other in "$work/reference.$format" "$work/checkpointed.$format"; do
  if [ "$(data_bytes "$other")" != "$n" ] || ! cmp -s -n "$n" "$out" "$other"; then
    echo "resumed output DIFFERS from $(basename "$other")" >&2
    exit 1
  fi
done
if cmp -s "$out" "$work/reference.$format"; then
  echo "resumed output equals the uninterrupted run's byte for byte ($(stat -c %s "$out") bytes)"
else
  echo "resumed output equals the uninterrupted run's byte for byte in its $n bytes of data; the footers differ in $(cmp -l "$out" "$work/reference.$format" | wc -l) bytes (encoding_stats order)"
  echo "two uninterrupted runs' footers differ in $(cmp -l "$work/checkpointed.$format" "$work/reference.$format" | wc -l) bytes"
fi
