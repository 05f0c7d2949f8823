#!/usr/bin/env bash
# Issue 16's acceptance, as a user runs it: a 5M-row CSV and a folder of 20
# CSV files are scored by `dfbatch run` locally and with --cloud on the
# test cluster (internal/kubecluster: the real kube-apiserver, Job
# controller and scheduler, with a node agent that runs each pod as a local
# `dfbatch worker` process), and the outputs are compared byte for byte.
# It prints the peak RSS of the client process (`dfbatch run`) of each run:
# the cloud run's must stay within 1.5x of the local file run's.
#
#   bench/cloudrss.sh                     # 5M rows, 20 files, batch 250,000
#   ROWS=200000 BATCH=20000 bench/cloudrss.sh
#
# Needs the control plane's binaries (tools/kube/build.sh builds and caches
# them) and Debian's python3-pandas, which writes the inputs.
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${ROWS:-5000000}
files=${FILES:-20}
batch=${BATCH:-250000}
executors=${EXECUTORS:-2}
repeat=${REPEAT:-3}
work=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "work folder: $work" || trap 'rm -rf "$work"' EXIT

eval "$(tools/kube/build.sh)"
go build -o "$work/dfbatch" ./cmd/dfbatch
go build -o "$work/kubecluster" ./internal/kubecluster/cmd/kubecluster
/usr/bin/python3 - "$work" "$rows" "$files" <<'PY'
import os, sys
import numpy as np
import pandas as pd
work, n, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(7)
df = pd.DataFrame({
    "customer_id": [f"C{i:08d}" for i in range(n)],
    "age": rng.integers(18, 90, n),
    "tenure_months": rng.integers(0, 120, n),
    "monthly_charges": rng.uniform(10, 200, n).round(2),
    "total_charges": rng.uniform(0, 20000, n).round(2),
    "support_calls": rng.integers(0, 12, n),
    "contract_type": rng.integers(0, 3, n),
})
df.to_csv(f"{work}/in.csv", index=False)
os.mkdir(f"{work}/parts")
for k, part in enumerate(np.array_split(np.arange(n), files)):
    df.iloc[part].to_csv(f"{work}/parts/part-{k:02d}.csv", index=False)
PY

# The runs, inside the cluster's lifetime: KUBECONFIG names it.
cat >"$work/runs.sh" <<'SH'
set -euo pipefail
args=(run --model examples/churn/churn.onnx --batch-size "$BATCH" --executors "$EXECUTORS"
  --features age,tenure_months,monthly_charges,total_charges,support_calls,contract_type
  --keep-columns customer_id --rename probabilities_1=Churn_Probability --output-columns Churn_Probability)
cloud=(--cloud --image dfbatch:bench --bucket "file://$WORK/bucket" --kubeconfig "$KUBECONFIG" --namespace default)
measure() { local name=$1; shift; /usr/bin/time -f "%M %e" -o "$WORK/$name.time" "$@" >/dev/null 2>"$WORK/$name.log"; }
for i in $(seq "$REPEAT"); do # interleaved: local, cloud, local, cloud...
  measure "local-file.$i" "$WORK/dfbatch" "${args[@]}" --input "$WORK/in.csv" --output "$WORK/local.csv"
  measure "cloud-file.$i" "$WORK/dfbatch" "${args[@]}" "${cloud[@]}" --input "$WORK/in.csv" --output "$WORK/cloud.csv"
  measure "local-folder.$i" "$WORK/dfbatch" "${args[@]}" --input "$WORK/parts" --output "$WORK/local-parts"
  measure "cloud-folder.$i" "$WORK/dfbatch" "${args[@]}" "${cloud[@]}" --input "$WORK/parts" --output "$WORK/cloud-parts"
done
SH
mkdir -p "$work/bucket"
WORK=$work BATCH=$batch EXECUTORS=$executors REPEAT=$repeat "$work/kubecluster" -image "dfbatch:bench=$work/dfbatch" -- bash "$work/runs.sh"

# min / median / max of values, one per line.
spread() { sort -g | awk '{ v[NR] = $1 } END { printf "%.2f / %.2f / %.2f", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
column() { for f in "$work/$1".*.time; do cut -d' ' -f"$2" "$f"; done; }
for run in local-file cloud-file local-folder cloud-folder; do
  printf '%-13s peak RSS %s MiB, wall %s s (min / median / max of %d)\n' "$run" \
    "$(column "$run" 1 | awk '{ print $1 / 1024 }' | spread)" "$(column "$run" 2 | spread)" "$repeat"
done
for input in file folder; do
  ratios=$(paste <(column "cloud-$input" 1) <(column "local-$input" 1) | awk '{ print $1 / $2 }' | spread)
  echo "cloud / local peak RSS, $input, pair by pair (min / median / max): $ratios"
done
if ! cmp "$work/local.csv" "$work/cloud.csv"; then
  echo "file: the cloud output differs from the local one" >&2
  exit 1
fi
echo "file: the cloud output equals the local one byte for byte"
if ! diff -r "$work/local-parts" "$work/cloud-parts"; then
  echo "folder: the cloud outputs differ from the local ones" >&2
  exit 1
fi
echo "folder: the $files cloud outputs equal the local ones byte for byte"
