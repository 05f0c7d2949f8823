#!/usr/bin/python3
"""The benchmark's model zoo: models trained by scikit-learn on data and exported to ONNX the way
their usual converters write them (skl2onnx for scikit-learn, onnxmltools for LightGBM and
XGBoost), with the rows to score and scikit-learn's own answers on those rows.

Run with Debian's Python (python3-sklearn, python3-onnx, python3-numpy):

    /usr/bin/python3 bench/zoo/zoo.py --out DIR [--rows N] [--quick]

It writes into DIR:
  manifest.json             one entry per model (see Zoo.add)
  <name>.onnx               the model
  <name>.x.f32              the rows to score: rows x features float32, little-endian, row-major
                            (NaN where a value is missing)
  <name>.<output>.f32|i64   scikit-learn's answer for ONNX output <output>: float32 rows x width,
                            or int64 labels

skl2onnx and onnxmltools are not installed here, so the conversions are written with
onnx.helper in the converters' layout; each family's module checks its conversion against
scikit-learn before the model is written, and the benchmark checks ONNX Runtime and dfbatch
against the answers written here.

Families live in their own modules (zoo_nets.py, zoo_trees.py), each with a
models(zoo) function that trains, converts and calls zoo.add. Everything is deterministic:
fixed seeds, single-threaded training.
"""

import argparse
import importlib
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.datasets import make_classification, make_regression

HERE = os.path.dirname(os.path.abspath(__file__))
FAMILIES = ["zoo_nets", "zoo_trees"]
OPSET = 17  # the default domain's opset skl2onnx declares for recent exports
ML_OPSET = 3  # ai.onnx.ml
IR_VERSION = 8


class Zoo:
    """Where the families put their models: out is the folder, rows the rows scored per model,
    quick a smoke test's sizes (fewer trees, fewer rows)."""

    def __init__(self, out, rows, quick):
        self.out = out
        self.rows = rows
        self.quick = quick
        self.entries = []

    def dataset(self, seed, features, classes=0, missing=0.0, train=4000):
        """Training rows and bench rows drawn from one distribution: make_classification for
        classes >= 2, make_regression for classes == 0. missing is the share of bench and
        training values set to NaN. Returns X_train, y_train, X_bench (float32)."""
        n = train + self.rows
        if classes >= 2:
            X, y = make_classification(
                n_samples=n, n_features=features, n_informative=max(2, features * 2 // 3),
                n_redundant=features // 6, n_classes=classes, n_clusters_per_class=1,
                class_sep=0.8, flip_y=0.02, random_state=seed)
        else:
            X, y = make_regression(n_samples=n, n_features=features, n_informative=max(1, features // 2),
                                   noise=5.0, random_state=seed)
        X = X.astype(np.float32)
        if missing > 0:
            rng = np.random.RandomState(seed + 1)
            X[rng.random_sample(X.shape) < missing] = np.nan
        return X[:train], y[:train], X[train:]

    def add(self, name, family, description, model, X, reference, tolerance=1e-4, params=None):
        """Writes one model: model is an onnx.ModelProto, X the float32 rows to score,
        reference a dict from ONNX output name to scikit-learn's answer on X (int64 labels of
        shape [rows], or float32 of shape [rows] or [rows, k]), tolerance the relative
        difference the benchmark accepts on float outputs. params describes the model's shape
        ({"trees": 100, "depth": 6, "classes": 3, ...})."""
        import onnx

        onnx.checker.check_model(model)
        X = np.ascontiguousarray(X, dtype=np.float32)
        with open(os.path.join(self.out, name + ".onnx"), "wb") as f:
            f.write(model.SerializeToString())
        X.astype("<f4").tofile(os.path.join(self.out, name + ".x.f32"))
        outputs = []
        for out_name, value in reference.items():
            value = np.asarray(value)
            if value.dtype.kind in "iub":
                value, dtype, ext = value.astype("<i8"), "int64", "i64"
            else:
                value, dtype, ext = value.astype("<f4"), "float32", "f32"
            if value.shape[0] != X.shape[0]:
                raise ValueError(f"{name}: reference {out_name} has {value.shape[0]} rows, X {X.shape[0]}")
            width = 1 if value.ndim == 1 else value.shape[1]
            path = f"{name}.{out_name}.{ext}"
            value.tofile(os.path.join(self.out, path))
            outputs.append({"name": out_name, "dtype": dtype, "width": width, "file": path})
        self.entries.append({
            "name": name, "family": family, "description": description, "model": name + ".onnx",
            "features": int(X.shape[1]), "rows": int(X.shape[0]), "input": name + ".x.f32",
            "missing": bool(np.isnan(X).any()), "outputs": outputs, "tolerance": tolerance,
            "params": params or {},
        })
        print(f"zoo: {name}: {description}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--rows", type=int, default=65536)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="", help="families to build, comma-separated (default all)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    zoo = Zoo(args.out, args.rows, args.quick)
    sys.path.insert(0, HERE)
    for family in FAMILIES:
        if args.only and family not in args.only.split(","):
            continue
        importlib.import_module(family).models(zoo)
    manifest = {"sklearn": sklearn.__version__, "numpy": np.__version__, "rows": args.rows,
                "quick": args.quick, "models": zoo.entries}
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
