#!/usr/bin/python3
"""Score an MLP on a pandas DataFrame the way a Python user of the batch
platform would locally: cut the frame into batches, score them on a pool
of workers (numpy matmul + relu + sigmoid, one BLAS thread per worker) and
concatenate the outputs in order.

The Go side (bench/compare) writes the weights, the input and the expected
output as raw little-endian float32 files next to a JSON spec:

    {"rows": N, "features": F, "batch": B, "workers": W,
     "layers": [{"weight": "w0.f32", "bias": "b0.f32", "in": F, "out": H}, ...],
     "input": "x.f32", "expected": "y.f32"}

Layer weights are [out, in] row-major (PyTorch's Linear.weight); every layer
but the last is followed by a ReLU, the last by a sigmoid.

    mlp_pandas.py spec.json            # warm up, time --reps passes, print one JSON line
    mlp_pandas.py spec.json --serve    # warm up, print a JSON line; then for each
                                       # "run K" on stdin time K passes and print a JSON line

Every JSON line has rows_per_s (after the warm-up) or the check's results.
"""

import os

# One BLAS thread per worker: the pool is the parallelism. Set before numpy
# loads OpenBLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import concurrent.futures
import json
import platform
import sys
import time

import numpy as np
import pandas as pd


def load(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    base = os.path.dirname(os.path.abspath(spec_path))

    def read(name, shape):
        return np.fromfile(os.path.join(base, name), dtype="<f4").reshape(shape)

    layers = []
    for layer in spec["layers"]:
        w = read(layer["weight"], (layer["out"], layer["in"]))
        b = read(layer["bias"], (layer["out"],))
        layers.append((w, b))
    x = read(spec["input"], (spec["rows"], spec["features"]))
    expected = read(spec["expected"], (spec["rows"],))
    columns = ["f%02d" % i for i in range(spec["features"])]
    df = pd.DataFrame(x, columns=columns)
    return spec, layers, df, expected


def make_scorer(layers):
    last = len(layers) - 1

    def score(batch):
        h = batch.to_numpy(dtype=np.float32)
        for i, (w, b) in enumerate(layers):
            h = h @ w.T + b
            if i < last:
                np.maximum(h, 0, out=h)
            else:
                h = 1 / (1 + np.exp(-h))
        return pd.DataFrame({"output": h[:, 0]}, index=batch.index)

    return score


def run(df, score, batch, workers):
    batches = [df.iloc[start:start + batch] for start in range(0, len(df), batch)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        outs = list(pool.map(score, batches))
    return pd.concat(outs)


def timed(df, score, batch, workers, passes):
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(passes):
        run(df, score, batch, workers)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start  # this process, all threads
    rows = passes * len(df)
    return {"rows_per_s": rows / seconds, "seconds": seconds, "cpu_seconds": cpu_seconds, "rows": rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec")
    parser.add_argument("--serve", action="store_true", help="time passes asked for on stdin")
    parser.add_argument("--reps", type=int, default=5, help="passes to time without --serve")
    args = parser.parse_args()

    spec, layers, df, expected = load(args.spec)
    batch = spec["batch"]
    workers = spec.get("workers") or os.cpu_count()
    score = make_scorer(layers)

    out = run(df, score, batch, workers)  # warm-up, and the check
    got = out["output"].to_numpy()
    err = np.abs(got - expected) / np.maximum(np.abs(expected), 1e-3)
    info = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "workers": workers,
        "batch": batch,
        "rows": len(df),
        "in_order": bool((out.index == df.index).all()),
        "max_rel_err": float(err.max()),
        "ok": bool(len(got) == len(expected) and err.max() <= 1e-4 and (out.index == df.index).all()),
    }
    if not args.serve:
        if info["ok"]:
            info.update(timed(df, score, batch, workers, args.reps))
        print(json.dumps(info), flush=True)
        return 0 if info["ok"] else 1

    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        passes = int(parts[1]) if len(parts) > 1 else 1
        print(json.dumps(timed(df, score, batch, workers, passes)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
