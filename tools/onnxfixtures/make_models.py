#!/usr/bin/python3
"""Builds dfbatch's ONNX test fixtures: models, inputs and reference outputs.

Run with Debian's Python (python3-onnx, python3-numpy, python3-sklearn):

    /usr/bin/python3 tools/onnxfixtures/make_models.py

It writes, under testdata/onnx/ (or --out):
  <name>.onnx            the model
  <name>.input.json      the input fed to it (and, where there is one, an independent
                         reference: sklearn's or numpy's outputs on that input)
  fixtures.json          the manifest: every fixture with its inputs, outputs and ops
  churn_customers.csv    the churn example's customers, churn.features.json
and, under tools/onnxfixtures/build/ (ignored by git), one helper model per ZipMap fixture:
the same graph with the ZipMap's input tensor as an extra output, since onnxruntime-node cannot
return seq(map) values (expected.mjs zips that tensor itself).

expected.mjs then runs ONNX Runtime on each model and writes <name>.expected.json.

skl2onnx is not available, so sklearn models are converted by hand with onnx.helper; every
conversion is checked here against sklearn before it is written, and expected.mjs checks ONNX
Runtime's outputs against the same reference.

Everything is deterministic: fixed seeds (np.random.RandomState, whose streams numpy keeps
stable), single-threaded sklearn, no timestamps, fixed JSON formatting.
"""

import argparse
import csv
import io
import json
import math
import os
import sys
import warnings

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import sklearn
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

# the benchmark zoo's skl2onnx-layout converters: one converter for the zoo and the fixtures
sys.path.insert(0, os.path.join(ROOT, "bench", "zoo"))
import zoo_nets  # noqa: E402

ROWS = 37  # shorter than any power-of-two batch: tests see a short last batch
OPSET = 17  # default domain; what a recent PyTorch export declares
ML_OPSET = 3  # ai.onnx.ml
IR_VERSION = 8
PRODUCER = "dfbatch-onnxfixtures"

MANIFEST = []


# --------------------------------------------------------------------------------------------
# JSON writing: fixed formatting, float32 values as their shortest round-tripping decimal,
# NaN as null, flat tensor data broken into one line per row.


class Flat:
    """A flat list of scalars written row by row (rowlen values per line)."""

    def __init__(self, values, rowlen):
        self.values = values
        self.rowlen = max(1, rowlen)


def f32(x):
    x = np.float32(x)
    if np.isnan(x):
        return None
    if np.isinf(x):
        raise ValueError("infinite value has no JSON form")
    s = str(x)  # numpy prints the shortest decimal that reads back as the same float32
    # readers parse JSON numbers as float64 (JavaScript, Go's float64) and then round to
    # float32; make sure that double rounding lands on the same value
    if np.float32(float(s)) != x:
        s = repr(float(x))
    assert np.float32(float(s)) == x
    return RawNumber(s)


def f64(x):
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        raise ValueError("infinite value has no JSON form")
    return RawNumber(repr(x))


class RawNumber:
    def __init__(self, s):
        self.s = s


def scalar_json(v):
    if v is None:
        return "null"
    if isinstance(v, RawNumber):
        return v.s
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return scalar_json(f64(v))
    return json.dumps(v, ensure_ascii=False)


def is_scalar(v):
    return v is None or isinstance(v, (RawNumber, str, int, float, bool, np.integer, np.floating, np.bool_))


def to_json(v, indent=0):
    pad = "  " * indent
    pad1 = "  " * (indent + 1)
    if isinstance(v, Flat):
        vals = [scalar_json(x) for x in v.values]
        if len(vals) <= v.rowlen and len(vals) <= 16:
            return "[" + ", ".join(vals) + "]"
        lines = [", ".join(vals[i : i + v.rowlen]) for i in range(0, len(vals), v.rowlen)]
        return "[\n" + ",\n".join(pad1 + ln for ln in lines) + "\n" + pad + "]"
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = [pad1 + json.dumps(k) + ": " + to_json(x, indent + 1) for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(v, (list, tuple)):
        if all(is_scalar(x) for x in v):
            return to_json(Flat(list(v), 10), indent)
        return "[\n" + ",\n".join(pad1 + to_json(x, indent + 1) for x in v) + "\n" + pad + "]"
    return scalar_json(v)


def write_json(path, obj):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(to_json(obj) + "\n")


def tensor_json(name, arr, dtype):
    """A tensor as {name, dtype, shape, data}; data flat in row-major order."""
    arr = np.asarray(arr)
    rowlen = arr.shape[-1] if arr.ndim >= 2 else 10
    flat = arr.reshape(-1)
    if dtype == "float32":
        data = [f32(x) for x in flat]
    elif dtype == "float64":
        data = [f64(x) for x in flat]
    elif dtype == "int64":
        data = [int(x) for x in flat]
    elif dtype == "string":
        data = [str(x) for x in flat]
    else:
        raise ValueError(dtype)
    return {"name": name, "dtype": dtype, "shape": list(arr.shape), "data": Flat(data, rowlen)}


def column_json(col, dtype):
    if dtype == "float32":
        return Flat([f32(x) for x in col], 10)
    if dtype == "int64":
        return Flat([int(x) for x in col], 10)
    raise ValueError(dtype)


# --------------------------------------------------------------------------------------------
# ONNX building


ONNX_DTYPE = {
    TensorProto.FLOAT: "float32",
    TensorProto.DOUBLE: "float64",
    TensorProto.INT64: "int64",
    TensorProto.STRING: "string",
}


def tinfo(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def seq_map_info(name, key_elem):
    mt = onnx.TypeProto()
    mt.map_type.key_type = key_elem
    mt.map_type.value_type.CopyFrom(helper.make_tensor_type_proto(TensorProto.FLOAT, None))
    st = onnx.TypeProto()
    st.sequence_type.elem_type.CopyFrom(mt)
    return helper.make_value_info(name, st)


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def build_model(graph_name, nodes, inputs, outputs, initializers=(), ml=False, doc=""):
    graph = helper.make_graph(nodes, graph_name, inputs, outputs, initializer=list(initializers))
    opsets = [helper.make_opsetid("", OPSET)]
    if ml:
        opsets.append(helper.make_opsetid("ai.onnx.ml", ML_OPSET))
    m = helper.make_model(
        graph,
        opset_imports=opsets,
        producer_name=PRODUCER,
        producer_version="1",
        ir_version=IR_VERSION,
        doc_string=doc,
    )
    has_zipmap = any(n.op_type == "ZipMap" for n in nodes)
    # onnx 1.12's shape inference has no rule for seq(map) outputs: check those without it
    onnx.checker.check_model(m, full_check=not has_zipmap)
    return m


def value_info_desc(vi):
    t = vi.type
    if t.HasField("tensor_type"):
        dims = []
        for d in t.tensor_type.shape.dim:
            dims.append(d.dim_param if d.dim_param else int(d.dim_value))
        return {"name": vi.name, "dtype": ONNX_DTYPE[t.tensor_type.elem_type], "shape": dims}
    if t.HasField("sequence_type"):
        mt = t.sequence_type.elem_type.map_type
        key = ONNX_DTYPE[mt.key_type]
        val = ONNX_DTYPE[mt.value_type.tensor_type.elem_type]
        return {"name": vi.name, "dtype": "seq(map(%s,%s))" % (key, val), "shape": ["N"]}
    raise ValueError(vi)


class Fixture:
    def __init__(self, out_dir, build_dir):
        self.out_dir = out_dir
        self.build_dir = build_dir

    def save(
        self,
        name,
        model,
        inputs,
        description,
        features=None,
        columns=None,
        reference=None,
        zipmap_source=None,
        notes=None,
        model_file=None,
    ):
        """Writes <name>.onnx and <name>.input.json and records the fixture in the manifest.

        inputs: list of (input name, numpy array, dtype string) in the model's input order.
        features/columns: for tabular inputs, the column names in model input order and the
        same values by column.
        reference: {"source": ..., "tolerance": {...}, "outputs": [tensor_json...]}.
        zipmap_source: for a ZipMap model, (helper model, tensor output name, output name, labels).
        """
        model_file = model_file or name + ".onnx"
        onnx.save(model, os.path.join(self.out_dir, model_file))
        declared = [i.name for i in model.graph.input]
        assert declared == [i[0] for i in inputs], (name, declared)
        doc = {
            "model": model_file,
            "rows": int(inputs[0][1].shape[0]),
        }
        if features is not None:
            doc["features"] = list(features)
        if any(d in ("float32", "float64") and np.isnan(a).any() for _, a, d in inputs):
            # Go's encoding/json leaves a float at 0 where it meets null: decode these files
            # with pointers (or json.RawMessage) and map null to NaN
            doc["nan"] = "null in columns and data stands for NaN (a missing value)"
        if columns is not None:
            doc["columns"] = columns
        doc["inputs"] = [tensor_json(n, a, d) for n, a, d in inputs]
        if reference is not None:
            doc["reference"] = reference
        write_json(os.path.join(self.out_dir, name + ".input.json"), doc)

        ops = []
        for n in model.graph.node:
            op = (n.domain + "." if n.domain else "") + n.op_type
            if op not in ops:
                ops.append(op)
        entry = {
            "name": name,
            "description": description,
            "model": model_file,
            "input": name + ".input.json",
            "expected": name + ".expected.json",
            "ops": ops,
            "opsets": {(o.domain or "ai.onnx"): int(o.version) for o in model.opset_import},
            "inputs": [value_info_desc(v) for v in model.graph.input],
            "outputs": [value_info_desc(v) for v in model.graph.output],
        }
        if notes:
            entry["notes"] = notes
        if zipmap_source is not None:
            helper_model, tensor_name, out_name, labels = zipmap_source
            # expected.mjs reads it from build/ by this name
            onnx.save(helper_model, os.path.join(self.build_dir, name + ".zipmap_source.onnx"))
            entry["zipmap"] = {
                "output": out_name,
                "input_tensor": tensor_name,
                "labels": labels,
            }
        MANIFEST.append(entry)


def reference(source, outputs, atol=1e-5, rtol=1e-5):
    return {
        "source": source,
        "tolerance": {"abs": atol, "rel": rtol},
        "outputs": outputs,
    }


def tabular(features, X, dtype="float32"):
    return {f: column_json(X[:, j], dtype) for j, f in enumerate(features)}


def names(prefix, n, width=1):
    return ["%s%0*d" % (prefix, width, i) for i in range(n)]


# --------------------------------------------------------------------------------------------
# Neural nets


def torch_linear(rng, fan_in, fan_out):
    """Weights as PyTorch's nn.Linear initialises them: U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    stored [out, in] (so Gemm uses transB=1)."""
    bound = 1.0 / math.sqrt(fan_in)
    W = rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(np.float32)
    b = rng.uniform(-bound, bound, size=(fan_out,)).astype(np.float32)
    return W, b


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def make_mlp(fx):
    rng = np.random.RandomState(1001)
    sizes = [16, 64, 64, 1]
    layers = [torch_linear(rng, sizes[i], sizes[i + 1]) for i in range(3)]
    # scale the last layer up a little so the sigmoid's outputs spread over (0, 1)
    W3, b3 = layers[2]
    layers[2] = ((W3 * 4).astype(np.float32), b3)
    inits, nodes = [], []
    prev = "input"
    acts = ["Relu", "Relu", "Sigmoid"]
    for i, ((W, b), act) in enumerate(zip(layers, acts)):
        k = i * 2
        inits += [init("fc%d.weight" % (i + 1), W), init("fc%d.bias" % (i + 1), b)]
        gemm_out = "/fc%d/Gemm_output_0" % (i + 1)
        nodes.append(
            helper.make_node(
                "Gemm",
                [prev, "fc%d.weight" % (i + 1), "fc%d.bias" % (i + 1)],
                [gemm_out],
                name="/fc%d/Gemm" % (i + 1),
                alpha=1.0,
                beta=1.0,
                transB=1,
            )
        )
        out = "output" if i == 2 else "/act%d/%s_output_0" % (i + 1, act)
        nodes.append(helper.make_node(act, [gemm_out], [out], name="/act%d/%s" % (i + 1, act)))
        prev = out
    model = build_model(
        "main_graph",
        nodes,
        [tinfo("input", TensorProto.FLOAT, ["N", 16])],
        [tinfo("output", TensorProto.FLOAT, ["N", 1])],
        inits,
        doc="MLP 16-64-64-1 laid out like a PyTorch export",
    )
    X = rng.normal(size=(ROWS, 16)).astype(np.float32)
    h = X.astype(np.float64)
    for i, (W, b) in enumerate(layers):
        h = h @ W.astype(np.float64).T + b.astype(np.float64)
        h = np.maximum(h, 0) if i < 2 else sigmoid(h)
    feats = names("f", 16, 2)
    fx.save(
        "mlp",
        model,
        [("input", X, "float32")],
        "MLP 16-64-64-1 as PyTorch exports it: Gemm(transB=1)+Relu, Gemm+Relu, Gemm+Sigmoid; "
        "weights as initializers; dynamic batch dim N",
        features=feats,
        columns=tabular(feats, X),
        reference=reference("numpy float64", [tensor_json("output", h, "float32")]),
    )


def make_mlp_ops(fx):
    rng = np.random.RandomState(1002)
    W1 = rng.normal(scale=0.5, size=(8, 12)).astype(np.float32)  # [in, out]: MatMul, no transpose
    b1 = rng.normal(scale=0.1, size=(12,)).astype(np.float32)
    W2 = rng.normal(scale=0.7, size=(12, 4)).astype(np.float32)
    b2 = rng.normal(scale=0.1, size=(4,)).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["input", "W1"], ["mm1"], name="matmul1"),
        helper.make_node("Add", ["mm1", "b1"], ["add1"], name="add1"),
        helper.make_node("Tanh", ["add1"], ["tanh1"], name="tanh1"),
        helper.make_node("MatMul", ["tanh1", "W2"], ["mm2"], name="matmul2"),
        helper.make_node("Add", ["mm2", "b2"], ["logits"], name="add2"),
        helper.make_node("Softmax", ["logits"], ["output"], name="softmax", axis=1),
    ]
    model = build_model(
        "mlp_ops",
        nodes,
        [tinfo("input", TensorProto.FLOAT, ["N", 8])],
        [tinfo("output", TensorProto.FLOAT, ["N", 4])],
        [init("W1", W1), init("b1", b1), init("W2", W2), init("b2", b2)],
        doc="MatMul, Add (broadcast bias), Tanh, Softmax(axis=1)",
    )
    X = rng.normal(size=(ROWS, 8)).astype(np.float32)
    h = np.tanh(X.astype(np.float64) @ W1 + b1)
    p = softmax(h @ W2 + b2)
    feats = names("f", 8)
    fx.save(
        "mlp_ops",
        model,
        [("input", X, "float32")],
        "MatMul+Add(bias broadcast)+Tanh, MatMul+Add+Softmax(axis=1): K=4 class probabilities",
        features=feats,
        columns=tabular(feats, X),
        reference=reference("numpy float64", [tensor_json("output", p, "float32")]),
    )


def make_multi_input(fx):
    rng = np.random.RandomState(1003)
    cols = ["age", "income", "tenure_months", "num_products", "balance"]
    means = np.array([45, 55000, 36, 2, 12000], dtype=np.float64)
    scales = np.array([12, 20000, 20, 1, 8000], dtype=np.float64)
    W1 = (rng.normal(size=(8, 5)) / scales / 2).astype(np.float32)  # [out, in], transB=1
    b1 = (-(W1.astype(np.float64) @ means) + rng.normal(scale=0.1, size=8)).astype(np.float32)
    W2 = rng.normal(size=(1, 8)).astype(np.float32)
    b2 = np.array([0.1], dtype=np.float32)

    def data(rs):
        X = np.empty((ROWS, 5))
        X[:, 0] = rs.randint(18, 80, size=ROWS)
        X[:, 1] = np.round(rs.lognormal(10.9, 0.35, size=ROWS), 2)
        X[:, 2] = rs.randint(0, 73, size=ROWS)
        X[:, 3] = rs.randint(1, 5, size=ROWS)
        X[:, 4] = np.round(rs.exponential(12000, size=ROWS), 2)
        return X.astype(np.float32)

    X = data(rng)

    def forward(Xf):
        h = np.maximum(Xf.astype(np.float64) @ W1.astype(np.float64).T + b1, 0)
        return sigmoid(h @ W2.astype(np.float64).T + b2)

    # all float32 columns
    nodes = [
        helper.make_node("Concat", cols, ["features"], name="concat", axis=1),
        helper.make_node("Gemm", ["features", "W1", "b1"], ["h1"], name="gemm1", transB=1),
        helper.make_node("Relu", ["h1"], ["r1"], name="relu1"),
        helper.make_node("Gemm", ["r1", "W2", "b2"], ["h2"], name="gemm2", transB=1),
        helper.make_node("Sigmoid", ["h2"], ["probability"], name="sigmoid"),
    ]
    inits = [init("W1", W1), init("b1", b1), init("W2", W2), init("b2", b2)]
    model = build_model(
        "multi_input",
        nodes,
        [tinfo(c, TensorProto.FLOAT, ["N", 1]) for c in cols],
        [tinfo("probability", TensorProto.FLOAT, ["N", 1])],
        inits,
        doc="one [N,1] input per column, Concat(axis=1), Gemm+Relu, Gemm+Sigmoid",
    )
    fx.save(
        "multi_input",
        model,
        [(c, X[:, j : j + 1], "float32") for j, c in enumerate(cols)],
        "one input per feature column ([N,1] float32 each, named after the column), "
        "Concat(axis=1), Gemm+Relu, Gemm+Sigmoid",
        features=cols,
        columns=tabular(cols, X),
        reference=reference("numpy float64", [tensor_json("probability", forward(X), "float32")]),
    )

    # the same with integer columns as int64 inputs, cast to float as exporters do
    int_cols = {"age", "tenure_months", "num_products"}
    nodes = []
    concat_in = []
    for c in cols:
        if c in int_cols:
            nodes.append(helper.make_node("Cast", [c], [c + "_float"], name="cast_" + c, to=TensorProto.FLOAT))
            concat_in.append(c + "_float")
        else:
            concat_in.append(c)
    nodes += [
        helper.make_node("Concat", concat_in, ["features"], name="concat", axis=1),
        helper.make_node("Gemm", ["features", "W1", "b1"], ["h1"], name="gemm1", transB=1),
        helper.make_node("Relu", ["h1"], ["r1"], name="relu1"),
        helper.make_node("Gemm", ["r1", "W2", "b2"], ["h2"], name="gemm2", transB=1),
        helper.make_node("Sigmoid", ["h2"], ["probability"], name="sigmoid"),
    ]
    model = build_model(
        "multi_input_mixed",
        nodes,
        [tinfo(c, TensorProto.INT64 if c in int_cols else TensorProto.FLOAT, ["N", 1]) for c in cols],
        [tinfo("probability", TensorProto.FLOAT, ["N", 1])],
        inits,
        doc="one [N,1] input per column, int64 columns Cast to float, Concat, Gemm+Relu, Gemm+Sigmoid",
    )
    columns = {}
    ins = []
    for j, c in enumerate(cols):
        if c in int_cols:
            v = X[:, j].astype(np.int64)
            columns[c] = column_json(v, "int64")
            ins.append((c, v.reshape(-1, 1), "int64"))
        else:
            columns[c] = column_json(X[:, j], "float32")
            ins.append((c, X[:, j : j + 1], "float32"))
    fx.save(
        "multi_input_mixed",
        model,
        ins,
        "as multi_input, but age, tenure_months and num_products are int64 [N,1] inputs that the "
        "graph Casts to float before the Concat",
        features=cols,
        columns=columns,
        reference=reference("numpy float64", [tensor_json("probability", forward(X), "float32")]),
    )


# --------------------------------------------------------------------------------------------
# Linear models


def binary_data(seed, n_features, n_train=600):
    X, y = make_classification(
        n_samples=n_train + ROWS,
        n_features=n_features,
        n_informative=max(2, n_features // 2),
        n_redundant=1,
        random_state=seed,
    )
    X = X.astype(np.float32)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def zipmap_node(src, out, labels, strings=False):
    kw = {"classlabels_strings": labels} if strings else {"classlabels_int64s": labels}
    return helper.make_node("ZipMap", [src], [out], name="zipmap", domain="ai.onnx.ml", **kw)


def make_logreg(fx):
    Xtr, ytr, X, _ = binary_data(2001, 6)
    clf = LogisticRegression(random_state=0).fit(Xtr, ytr)
    w = clf.coef_[0].astype(np.float64)
    b = float(clf.intercept_[0])
    F = Xtr.shape[1]
    feats = names("f", F)
    proba = clf.predict_proba(X.astype(np.float64))
    label = clf.predict(X.astype(np.float64)).astype(np.int64)
    ref = reference(
        "sklearn %s LogisticRegression.predict / predict_proba" % sklearn.__version__,
        [tensor_json("label", label, "int64"), tensor_json("probabilities", proba, "float32")],
    )

    def linear_classifier(coefs, intercepts, post="LOGISTIC"):
        return helper.make_node(
            "LinearClassifier",
            ["input"],
            ["label", "probabilities"],
            name="linear_classifier",
            domain="ai.onnx.ml",
            coefficients=[float(c) for c in np.asarray(coefs, dtype=np.float32).reshape(-1)],
            intercepts=[float(c) for c in np.asarray(intercepts, dtype=np.float32)],
            classlabels_ints=[0, 1],
            multi_class=0,
            post_transform=post,
        )

    # skl2onnx's layout for a binary logistic regression: one coefficient row per class,
    # class 0's being the negation of class 1's, so LOGISTIC gives [1-p, p]
    outs = [tinfo("label", TensorProto.INT64, ["N"]), tinfo("probabilities", TensorProto.FLOAT, ["N", 2])]
    model = build_model(
        "logreg",
        [linear_classifier(np.stack([-w, w]), [-b, b])],
        [tinfo("input", TensorProto.FLOAT, ["N", F])],
        outs,
        ml=True,
        doc="sklearn LogisticRegression as ai.onnx.ml LinearClassifier",
    )
    fx.save(
        "logreg",
        model,
        [("input", X, "float32")],
        "sklearn LogisticRegression (binary, 6 features) as LinearClassifier with two coefficient "
        "rows [-w; w], intercepts [-b, b], post_transform LOGISTIC, classlabels_ints [0,1]",
        features=feats,
        columns=tabular(feats, X),
        reference=ref,
    )

    # one coefficient row for two class labels: ONNX Runtime adds the second class itself
    model = build_model(
        "logreg_single_row",
        [linear_classifier(w.reshape(1, -1), [b])],
        [tinfo("input", TensorProto.FLOAT, ["N", F])],
        outs,
        ml=True,
        doc="LinearClassifier with one coefficient row and two class labels",
    )
    fx.save(
        "logreg_single_row",
        model,
        [("input", X, "float32")],
        "the same logistic regression as LinearClassifier with ONE coefficient row (w) and two "
        "class labels, post_transform LOGISTIC: ONNX Runtime scores the positive class and adds "
        "the negative one as 1-p",
        features=feats,
        columns=tabular(feats, X),
        reference=ref,
    )

    # with ZipMap, as skl2onnx exports by default
    lc = helper.make_node(
        "LinearClassifier",
        ["input"],
        ["output_label", "probability_tensor"],
        name="linear_classifier",
        domain="ai.onnx.ml",
        coefficients=[float(c) for c in np.stack([-w, w]).astype(np.float32).reshape(-1)],
        intercepts=[float(c) for c in np.array([-b, b], dtype=np.float32)],
        classlabels_ints=[0, 1],
        multi_class=0,
        post_transform="LOGISTIC",
    )
    zm = zipmap_node("probability_tensor", "output_probability", [0, 1])
    model = build_model(
        "logreg_zipmap",
        [lc, zm],
        [tinfo("input", TensorProto.FLOAT, ["N", F])],
        [tinfo("output_label", TensorProto.INT64, ["N"]), seq_map_info("output_probability", TensorProto.INT64)],
        ml=True,
        doc="LinearClassifier followed by ZipMap, as skl2onnx exports by default",
    )
    src = build_model(
        "logreg_zipmap_source",
        [lc, zm],
        [tinfo("input", TensorProto.FLOAT, ["N", F])],
        [
            tinfo("output_label", TensorProto.INT64, ["N"]),
            seq_map_info("output_probability", TensorProto.INT64),
            tinfo("probability_tensor", TensorProto.FLOAT, ["N", 2]),
        ],
        ml=True,
    )
    fx.save(
        "logreg_zipmap",
        model,
        [("input", X, "float32")],
        "logreg with skl2onnx's default outputs: output_label int64 [N] and output_probability, "
        "a ZipMap seq(map(int64,float32)) with keys 0 and 1",
        features=feats,
        columns=tabular(feats, X),
        zipmap_source=(src, "probability_tensor", "output_probability", [0, 1]),
        reference=reference(
            ref["source"],
            [tensor_json("output_label", label, "int64")],
        ),
    )

    # the same regression as Gemm + Sigmoid (a neural-net style export)
    nodes = [
        helper.make_node("Gemm", ["input", "coef", "intercept"], ["logit"], name="gemm", transB=1),
        helper.make_node("Sigmoid", ["logit"], ["probability"], name="sigmoid"),
    ]
    model = build_model(
        "logreg_gemm",
        nodes,
        [tinfo("input", TensorProto.FLOAT, ["N", F])],
        [tinfo("probability", TensorProto.FLOAT, ["N", 1])],
        [init("coef", w.astype(np.float32).reshape(1, -1)), init("intercept", np.array([b], dtype=np.float32))],
        doc="logistic regression as Gemm(transB=1) + Sigmoid",
    )
    fx.save(
        "logreg_gemm",
        model,
        [("input", X, "float32")],
        "the same logistic regression as plain Gemm(transB=1) + Sigmoid: probability of class 1, [N,1]",
        features=feats,
        columns=tabular(feats, X),
        reference=reference(ref["source"], [tensor_json("probability", proba[:, 1:2], "float32")]),
    )

    # multinomial, three string classes, SOFTMAX
    X3, y3 = make_classification(
        n_samples=600 + ROWS, n_features=5, n_informative=3, n_redundant=1, n_classes=3,
        n_clusters_per_class=1, random_state=2002,
    )
    X3 = X3.astype(np.float32)
    y3 = np.array(["cat", "dog", "fish"])[y3]
    clf3 = LogisticRegression(random_state=0, max_iter=1000).fit(X3[:600], y3[:600])
    Xt = X3[600:]
    classes = [str(c) for c in clf3.classes_]
    node = helper.make_node(
        "LinearClassifier",
        ["input"],
        ["label", "probabilities"],
        name="linear_classifier",
        domain="ai.onnx.ml",
        coefficients=[float(c) for c in clf3.coef_.astype(np.float32).reshape(-1)],
        intercepts=[float(c) for c in clf3.intercept_.astype(np.float32)],
        classlabels_strings=classes,
        multi_class=1,
        post_transform="SOFTMAX",
    )
    model = build_model(
        "logreg_multiclass",
        [node],
        [tinfo("input", TensorProto.FLOAT, ["N", 5])],
        [tinfo("label", TensorProto.STRING, ["N"]), tinfo("probabilities", TensorProto.FLOAT, ["N", 3])],
        ml=True,
        doc="multinomial LogisticRegression as LinearClassifier, SOFTMAX, string labels",
    )
    feats3 = names("f", 5)
    fx.save(
        "logreg_multiclass",
        model,
        [("input", Xt, "float32")],
        "sklearn multinomial LogisticRegression, 3 classes with string labels (cat, dog, fish), "
        "as LinearClassifier post_transform SOFTMAX: label string [N], probabilities [N,3]",
        features=feats3,
        columns=tabular(feats3, Xt),
        reference=reference(
            "sklearn %s LogisticRegression.predict / predict_proba" % sklearn.__version__,
            [
                tensor_json("label", clf3.predict(Xt.astype(np.float64)), "string"),
                tensor_json("probabilities", clf3.predict_proba(Xt.astype(np.float64)), "float32"),
            ],
        ),
    )


# --------------------------------------------------------------------------------------------
# scikit-learn networks in skl2onnx's layout, converted by bench/zoo/zoo_nets.py


def name_batch_dims(model):
    """Names the graph's dynamic batch dimensions N, as the other fixtures declare them."""
    for v in list(model.graph.input) + list(model.graph.output):
        if v.type.HasField("tensor_type") and v.type.tensor_type.shape.dim:
            d = v.type.tensor_type.shape.dim[0]
            if not d.dim_param and not d.dim_value:
                d.dim_param = "N"
    return model


def make_sklearn_mlp(fx):
    shapes = [
        ("skl_mlp_binary", "logistic", (8,), 2, 6, False),
        ("skl_mlp_multiclass", "tanh", (12, 6), 3, 6, False),
        ("skl_mlp_zipmap", "relu", (8,), 3, 6, True),
        ("skl_mlp_regressor", "relu", (10, 5), 0, 6, False),
        ("skl_mlp_scaled", "relu", (8,), 3, 6, False),
    ]
    for i, (name, activation, hidden, classes, features, zipmap) in enumerate(shapes):
        seed = 7001 + i
        if classes:
            X, y = make_classification(n_samples=600 + ROWS, n_features=features, n_informative=4, n_redundant=1,
                                       n_classes=classes, n_clusters_per_class=1, random_state=seed)
        else:
            X, y = make_regression(n_samples=600 + ROWS, n_features=features, noise=1.0, random_state=seed)
            y = y / np.std(y)
        X = X.astype(np.float32)
        scaled = name == "skl_mlp_scaled"
        if scaled:  # features of scales 1e-2 to 1e3, 5 standard deviations off 0
            X = (X + np.float32(5)) * (np.float32(10.0) ** np.linspace(-2, 3, features, dtype=np.float32))
        kw = dict(hidden_layer_sizes=hidden, activation=activation, random_state=seed, max_iter=300)
        est = (MLPClassifier if classes else MLPRegressor)(**kw)
        scaler = StandardScaler().fit(X[:600]) if scaled else None
        fitted = Pipeline([("scaler", scaler), ("mlp", est)]) if scaled else est
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted.fit(X[:600], y[:600])
        Xt = X[600:]
        feats = names("f", features)
        source = "sklearn %s %s.predict%s" % (sklearn.__version__, type(est).__name__, " / predict_proba" if classes else "")
        zipmap_source = None
        if not classes:
            model = name_batch_dims(zoo_nets.mlp_regressor_onnx(est, features))
            ref = [tensor_json("variable", zoo_nets.check_regressor(name, model, est, Xt), "float32")]
            layout = "Cast, MatMul+Add+Relu per hidden layer, MatMul+Add+Identity, Reshape(-1, 1) -> variable [N,1]"
        elif zipmap:
            model = name_batch_dims(zoo_nets.mlp_classifier_onnx(est, features, zipmap=True))
            label, _ = zoo_nets.check_classifier(name, model, est, Xt, "output_label", "output_probability")
            ref = [tensor_json("output_label", label, "int64")]
            src = onnx.ModelProto()
            src.CopyFrom(model)
            src.graph.output.append(tinfo("probabilities", TensorProto.FLOAT, ["N", classes]))
            zipmap_source = (src, "probabilities", "output_probability", [int(c) for c in est.classes_])
            layout = ("the dense layers, Softmax, then ArgMax, ArrayFeatureExtractor over INT32 classes, Reshape(-1), "
                      "Cast(INT64) -> label -> Cast -> output_label int64 [N]; probabilities -> ZipMap -> output_probability")
        else:
            model = name_batch_dims(zoo_nets.mlp_classifier_onnx(est, features, scaler=scaler))
            label, proba = zoo_nets.check_classifier(name, model, fitted, Xt)
            ref = [tensor_json("label", label, "int64"), tensor_json("probabilities", proba, "float32")]
            last = "Sigmoid, Sub(1, p), Concat([1-p, p])" if classes == 2 else "Softmax, Identity"
            layout = ("%sCast, MatMul+Add+%s per hidden layer, MatMul+Add+%s -> probabilities [N,%d]; ArgMax, "
                      "ArrayFeatureExtractor over INT32 classes, Reshape(-1), Cast(INT64) -> label [N]" % (
                          "ml.Scaler (offset mean_, scale 1/scale_), " if scaled else "",
                          zoo_nets.ACTIVATIONS[activation], last, classes))
        what = "MLPClassifier, %d classes" % classes if classes else "MLPRegressor"
        if scaled:
            what = "Pipeline(StandardScaler, %s)" % what
            source = "sklearn %s Pipeline(StandardScaler, MLPClassifier).predict / predict_proba" % sklearn.__version__
        fx.save(
            name, model, [(zoo_nets.INPUT, Xt, "float32")],
            "sklearn %s (%s, hidden %s) as skl2onnx writes it%s: %s" % (
                what, activation, list(hidden), " with its default ZipMap output" if zipmap else "", layout),
            features=feats, columns=tabular(feats, Xt), zipmap_source=zipmap_source,
            reference=reference(source, ref),
        )


# --------------------------------------------------------------------------------------------
# Tree ensembles: sklearn trees to ai.onnx.ml attributes, and an evaluator with ONNX Runtime's
# semantics to check conversions (and hand-built models) before they are written


class Ensemble:
    """Attribute arrays of a TreeEnsemble{Classifier,Regressor} under construction."""

    def __init__(self):
        self.nodes = {k: [] for k in ["treeids", "nodeids", "featureids", "values", "modes", "truenodeids", "falsenodeids", "missing"]}
        self.leaf = {k: [] for k in ["treeids", "nodeids", "ids", "weights"]}

    def add_node(self, tree, node, mode, feature=0, value=0.0, true=0, false=0, missing=0):
        n = self.nodes
        n["treeids"].append(tree)
        n["nodeids"].append(node)
        n["featureids"].append(feature)
        n["values"].append(float(np.float32(value)))
        n["modes"].append(mode)
        n["truenodeids"].append(true)
        n["falsenodeids"].append(false)
        n["missing"].append(missing)

    def add_weight(self, tree, node, target, weight):
        self.leaf["treeids"].append(tree)
        self.leaf["nodeids"].append(node)
        self.leaf["ids"].append(target)
        self.leaf["weights"].append(float(np.float32(weight)))

    def add_sklearn_tree(self, tree_id, estimator, leaf_weights):
        """leaf_weights(node index) -> [(target or class id, weight), ...]"""
        t = estimator.tree_
        for i in range(t.node_count):
            left, right = int(t.children_left[i]), int(t.children_right[i])
            if left == -1:
                self.add_node(tree_id, i, "LEAF")
                for target, w in leaf_weights(i):
                    self.add_weight(tree_id, i, target, w)
            else:
                # sklearn sends x <= threshold to the left child
                self.add_node(tree_id, i, "BRANCH_LEQ", int(t.feature[i]), t.threshold[i], left, right)

    def node_attrs(self, with_missing):
        n = self.nodes
        a = dict(
            nodes_treeids=n["treeids"],
            nodes_nodeids=n["nodeids"],
            nodes_featureids=n["featureids"],
            nodes_values=n["values"],
            nodes_modes=n["modes"],
            nodes_truenodeids=n["truenodeids"],
            nodes_falsenodeids=n["falsenodeids"],
        )
        if with_missing:
            a["nodes_missing_value_tracks_true"] = n["missing"]
        return a

    def classifier(self, inp, outs, labels, post, base_values=None, with_missing=False, name="tree_ensemble"):
        a = self.node_attrs(with_missing)
        a.update(
            class_treeids=self.leaf["treeids"],
            class_nodeids=self.leaf["nodeids"],
            class_ids=self.leaf["ids"],
            class_weights=self.leaf["weights"],
            post_transform=post,
        )
        if isinstance(labels[0], str):
            a["classlabels_strings"] = labels
        else:
            a["classlabels_int64s"] = labels
        if base_values is not None:
            a["base_values"] = [float(np.float32(v)) for v in base_values]
        return helper.make_node("TreeEnsembleClassifier", [inp], outs, name=name, domain="ai.onnx.ml", **a)

    def regressor(self, inp, out, n_targets, post="NONE", aggregate="SUM", base_values=None, with_missing=False, name="tree_ensemble"):
        a = self.node_attrs(with_missing)
        a.update(
            target_treeids=self.leaf["treeids"],
            target_nodeids=self.leaf["nodeids"],
            target_ids=self.leaf["ids"],
            target_weights=self.leaf["weights"],
            n_targets=n_targets,
            post_transform=post,
            aggregate_function=aggregate,
        )
        if base_values is not None:
            a["base_values"] = [float(np.float32(v)) for v in base_values]
        return helper.make_node("TreeEnsembleRegressor", [inp], [out], name=name, domain="ai.onnx.ml", **a)

    # --- evaluation, ONNX Runtime's semantics (float32 inputs and thresholds) ---

    def _index(self):
        n = self.nodes
        idx = {}
        for k in range(len(n["nodeids"])):
            idx[(n["treeids"][k], n["nodeids"][k])] = k
        leaves = {}
        for k in range(len(self.leaf["nodeids"])):
            leaves.setdefault((self.leaf["treeids"][k], self.leaf["nodeids"][k]), []).append(
                (self.leaf["ids"][k], self.leaf["weights"][k])
            )
        return idx, leaves

    def leaves_reached(self, x, visits=None):
        """For one row: [(tree, leaf node)] in tree order; records (node, took_true, isnan)."""
        n = self.nodes
        idx, _ = self._index()
        trees = sorted(set(n["treeids"]))
        out = []
        for t in trees:
            node = 0
            while True:
                k = idx[(t, node)]
                mode = n["modes"][k]
                if mode == "LEAF":
                    out.append((t, node))
                    break
                v = np.float32(x[n["featureids"][k]])
                th = np.float32(n["values"][k])
                nan = bool(np.isnan(v))
                cmp = {
                    "BRANCH_LEQ": v <= th,
                    "BRANCH_LT": v < th,
                    "BRANCH_GTE": v >= th,
                    "BRANCH_GT": v > th,
                    "BRANCH_EQ": v == th,
                    "BRANCH_NEQ": v != th,
                }[mode]
                go_true = bool(cmp) or (nan and n["missing"][k] == 1)
                if visits is not None:
                    visits.add((t, node, go_true, nan))
                node = n["truenodeids"][k] if go_true else n["falsenodeids"][k]
        return out

    def scores(self, X, n_targets):
        """Raw per-target sums (float64) and whether each target received a weight."""
        _, leaves = self._index()
        S = np.zeros((X.shape[0], n_targets))
        has = np.zeros((X.shape[0], n_targets), dtype=bool)
        per_tree = []
        for r in range(X.shape[0]):
            rows = []
            for t, node in self.leaves_reached(X[r]):
                contrib = np.zeros(n_targets)
                got = np.zeros(n_targets, dtype=bool)
                for target, w in leaves.get((t, node), []):
                    S[r, target] += w
                    has[r, target] = True
                    contrib[target] += w
                    got[target] = True
                rows.append((contrib, got))
            per_tree.append(rows)
        return S, has, per_tree


def winitzki_probit(p):
    """ONNX Runtime's ComputeProbit: sqrt(2) * ErfInv(2p-1), with ErfInv by Winitzki's
    approximation (a = 0.147), every step in float32, pi = float32(M_PI). The formula cancels
    badly near p = 0.5, so only these exact steps reproduce ONNX Runtime's values (an older
    ONNX Runtime used pi = 3.14159f, which moves results by up to 1e-5 relative)."""
    F = np.float32
    x = F(2) * F(p) - F(1)
    sgn = F(-1) if x < 0 else F(1)
    x = (F(1) - x) * (F(1) + x)
    lg = F(math.log(float(x)))  # correctly rounded logf
    v = F(2) / (F(math.pi) * F(0.147)) + F(0.5) * lg
    v2 = F(1) / F(0.147) * lg
    v3 = -v + F(math.sqrt(float(v * v - v2)))
    return F(1.41421356) * (sgn * F(math.sqrt(float(v3))))


def sum_f32(values):
    """A float32 running sum in tree order, as ONNX Runtime accumulates leaf weights."""
    s = np.float32(0)
    for v in values:
        s = np.float32(s + np.float32(v))
    return s


def check_close(what, got, want, atol=1e-6):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    err = np.max(np.abs(got - want)) if got.size else 0.0
    if not err <= atol:
        raise SystemExit("%s: conversion differs from the reference by %g (> %g)" % (what, err, atol))
    return err


def make_trees_binary(fx):
    Xtr, ytr, X, _ = binary_data(3001, 8, n_train=800)
    clf = GradientBoostingClassifier(n_estimators=20, max_depth=3, learning_rate=0.1, random_state=0).fit(Xtr, ytr)
    lr = clf.learning_rate
    ens = Ensemble()
    for i in range(clf.n_estimators_):
        est = clf.estimators_[i, 0]
        ens.add_sklearn_tree(i, est, lambda leaf, est=est: [(0, est.tree_.value[leaf, 0, 0] * lr)])
    base = clf._raw_predict_init(X[:1])[0]  # log-odds of the prior
    S, _, _ = ens.scores(X, 1)
    check_close("trees_binary decision_function", S[:, 0] + base[0], clf.decision_function(X))
    proba = clf.predict_proba(X)
    check_close("trees_binary predict_proba", sigmoid(S[:, 0] + base[0]), proba[:, 1])
    node = ens.classifier("input", ["label", "probabilities"], [0, 1], "LOGISTIC", base_values=[base[0]])
    model = build_model(
        "trees_binary",
        [node],
        [tinfo("input", TensorProto.FLOAT, ["N", 8])],
        [tinfo("label", TensorProto.INT64, ["N"]), tinfo("probabilities", TensorProto.FLOAT, ["N", 2])],
        ml=True,
        doc="sklearn GradientBoostingClassifier as TreeEnsembleClassifier",
    )
    feats = names("f", 8)
    fx.save(
        "trees_binary",
        model,
        [("input", X, "float32")],
        "sklearn GradientBoostingClassifier (20 trees, depth 3, 8 features, binary) as "
        "TreeEnsembleClassifier: BRANCH_LEQ nodes, one class id (0) with leaf values x "
        "learning_rate, base_values = [prior log-odds], post_transform LOGISTIC, "
        "classlabels_int64s [0,1]; probabilities = [1-sigmoid(s), sigmoid(s)]",
        features=feats,
        columns=tabular(feats, X),
        reference=reference(
            "sklearn %s GradientBoostingClassifier.predict / predict_proba" % sklearn.__version__,
            [
                tensor_json("label", clf.predict(X).astype(np.int64), "int64"),
                tensor_json("probabilities", proba, "float32"),
            ],
        ),
    )


def make_trees_multiclass(fx):
    X, y = make_classification(
        n_samples=900 + ROWS, n_features=8, n_informative=5, n_redundant=1, n_classes=3,
        n_clusters_per_class=1, random_state=3002,
    )
    X = X.astype(np.float32)
    y = np.array(["bronze", "gold", "silver"])[y]
    Xtr, ytr, Xt = X[:900], y[:900], X[900:]
    feats = names("f", 8)

    # gradient boosting: one tree per class per stage, SOFTMAX, string labels
    clf = GradientBoostingClassifier(n_estimators=10, max_depth=3, learning_rate=0.2, random_state=0).fit(Xtr, ytr)
    K = len(clf.classes_)
    ens = Ensemble()
    tid = 0
    for i in range(clf.n_estimators_):
        for k in range(K):
            est = clf.estimators_[i, k]
            ens.add_sklearn_tree(tid, est, lambda leaf, est=est, k=k: [(k, est.tree_.value[leaf, 0, 0] * clf.learning_rate)])
            tid += 1
    base = clf._raw_predict_init(Xt[:1])[0]
    S, _, _ = ens.scores(Xt, K)
    proba = clf.predict_proba(Xt)
    check_close("trees_multiclass predict_proba", softmax(S + base), proba)
    labels = [str(c) for c in clf.classes_]
    node = ens.classifier("input", ["label", "probabilities"], labels, "SOFTMAX", base_values=base)
    model = build_model(
        "trees_multiclass",
        [node],
        [tinfo("input", TensorProto.FLOAT, ["N", 8])],
        [tinfo("label", TensorProto.STRING, ["N"]), tinfo("probabilities", TensorProto.FLOAT, ["N", 3])],
        ml=True,
        doc="sklearn GradientBoostingClassifier, 3 classes, as TreeEnsembleClassifier",
    )
    fx.save(
        "trees_multiclass",
        model,
        [("input", Xt, "float32")],
        "sklearn GradientBoostingClassifier, 3 classes (10 stages x 3 trees, depth 3), as "
        "TreeEnsembleClassifier with class ids 0..2, base_values = prior log-probabilities, "
        "post_transform SOFTMAX, classlabels_strings [bronze, gold, silver]: label string [N]",
        features=feats,
        columns=tabular(feats, Xt),
        reference=reference(
            "sklearn %s GradientBoostingClassifier.predict / predict_proba" % sklearn.__version__,
            [tensor_json("label", clf.predict(Xt), "string"), tensor_json("probabilities", proba, "float32")],
        ),
    )

    # random forest: averaged class probabilities, post_transform NONE, int64 labels 3, 5, 7
    yi = np.array([3, 5, 7])[np.searchsorted(["bronze", "gold", "silver"], ytr)]
    rf = RandomForestClassifier(n_estimators=8, max_depth=4, random_state=0).fit(Xtr, yi)
    ens = Ensemble()
    n = len(rf.estimators_)
    for t, est in enumerate(rf.estimators_):
        def leaf_weights(leaf, est=est):
            v = est.tree_.value[leaf, 0, :]
            return [(k, v[k] / v.sum() / n) for k in range(len(v))]
        ens.add_sklearn_tree(t, est, leaf_weights)
    S, _, _ = ens.scores(Xt, 3)
    proba = rf.predict_proba(Xt)
    check_close("trees_rf_multiclass predict_proba", S, proba)
    node = ens.classifier("input", ["label", "probabilities"], [int(c) for c in rf.classes_], "NONE")
    model = build_model(
        "trees_rf_multiclass",
        [node],
        [tinfo("input", TensorProto.FLOAT, ["N", 8])],
        [tinfo("label", TensorProto.INT64, ["N"]), tinfo("probabilities", TensorProto.FLOAT, ["N", 3])],
        ml=True,
        doc="sklearn RandomForestClassifier, 3 classes, as TreeEnsembleClassifier",
    )
    fx.save(
        "trees_rf_multiclass",
        model,
        [("input", Xt, "float32")],
        "sklearn RandomForestClassifier (8 trees, depth 4, 3 classes) as TreeEnsembleClassifier: "
        "every leaf weights all 3 classes with its class fractions / 8, post_transform NONE, no "
        "base_values, classlabels_int64s [3,5,7] (labels are not class indexes)",
        features=feats,
        columns=tabular(feats, Xt),
        reference=reference(
            "sklearn %s RandomForestClassifier.predict / predict_proba" % sklearn.__version__,
            [tensor_json("label", rf.predict(Xt).astype(np.int64), "int64"), tensor_json("probabilities", proba, "float32")],
        ),
    )


def make_trees_rf_binary(fx):
    Xtr, ytr, X, _ = binary_data(3003, 6)
    rf = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0).fit(Xtr, ytr)
    n = len(rf.estimators_)
    ens = Ensemble()
    for t, est in enumerate(rf.estimators_):
        def leaf_weights(leaf, est=est):
            v = est.tree_.value[leaf, 0, :]
            return [(0, v[1] / v.sum() / n)]
        ens.add_sklearn_tree(t, est, leaf_weights)
    S, _, _ = ens.scores(X, 1)
    proba = rf.predict_proba(X)
    check_close("trees_rf_binary predict_proba", S[:, 0], proba[:, 1])
    node = ens.classifier("input", ["label", "probabilities"], [0, 1], "NONE")
    model = build_model(
        "trees_rf_binary",
        [node],
        [tinfo("input", TensorProto.FLOAT, ["N", 6])],
        [tinfo("label", TensorProto.INT64, ["N"]), tinfo("probabilities", TensorProto.FLOAT, ["N", 2])],
        ml=True,
        doc="sklearn RandomForestClassifier, binary, as TreeEnsembleClassifier",
    )
    feats = names("f", 6)
    fx.save(
        "trees_rf_binary",
        model,
        [("input", X, "float32")],
        "sklearn RandomForestClassifier (10 trees, depth 4, binary) as TreeEnsembleClassifier with "
        "ONE class id (0) carrying P(class 1)/10, all weights >= 0, post_transform NONE, no "
        "base_values: ONNX Runtime's binary case gives probabilities [1-s, s], label 1 when s > 0.5",
        features=feats,
        columns=tabular(feats, X),
        reference=reference(
            "sklearn %s RandomForestClassifier.predict / predict_proba" % sklearn.__version__,
            [tensor_json("label", rf.predict(X).astype(np.int64), "int64"), tensor_json("probabilities", proba, "float32")],
        ),
    )


def make_trees_regressor(fx):
    X, y = make_regression(n_samples=800 + ROWS, n_features=8, n_informative=6, noise=5.0, random_state=3004)
    X = X.astype(np.float32)
    Xtr, ytr, Xt = X[:800], y[:800], X[800:]
    feats = names("f", 8)

    gbr = GradientBoostingRegressor(n_estimators=20, max_depth=3, learning_rate=0.1, random_state=0).fit(Xtr, ytr)
    ens = Ensemble()
    for i in range(gbr.n_estimators_):
        est = gbr.estimators_[i, 0]
        ens.add_sklearn_tree(i, est, lambda leaf, est=est: [(0, est.tree_.value[leaf, 0, 0] * gbr.learning_rate)])
    base = gbr._raw_predict_init(Xt[:1])[0]
    S, _, _ = ens.scores(Xt, 1)
    pred = gbr.predict(Xt)
    check_close("trees_regressor predict", S[:, 0] + base[0], pred, atol=1e-4)
    node = ens.regressor("input", "variable", 1, base_values=[base[0]])
    model = build_model(
        "trees_regressor",
        [node],
        [tinfo("input", TensorProto.FLOAT, ["N", 8])],
        [tinfo("variable", TensorProto.FLOAT, ["N", 1])],
        ml=True,
        doc="sklearn GradientBoostingRegressor as TreeEnsembleRegressor",
    )
    fx.save(
        "trees_regressor",
        model,
        [("input", Xt, "float32")],
        "sklearn GradientBoostingRegressor (20 trees, depth 3, 8 features) as "
        "TreeEnsembleRegressor: n_targets 1, leaf values x learning_rate, base_values [mean of y], "
        "aggregate SUM, post_transform NONE",
        features=feats,
        columns=tabular(feats, Xt),
        reference=reference(
            "sklearn %s GradientBoostingRegressor.predict" % sklearn.__version__,
            [tensor_json("variable", pred.reshape(-1, 1), "float32")],
        ),
    )

    rfr = RandomForestRegressor(n_estimators=8, max_depth=5, random_state=0).fit(Xtr, ytr)
    ens = Ensemble()
    for t, est in enumerate(rfr.estimators_):
        ens.add_sklearn_tree(t, est, lambda leaf, est=est: [(0, est.tree_.value[leaf, 0, 0])])
    S, _, _ = ens.scores(Xt, 1)
    pred = rfr.predict(Xt)
    check_close("trees_rf_regressor predict", S[:, 0] / len(rfr.estimators_), pred, atol=1e-4)
    node = ens.regressor("input", "variable", 1, aggregate="AVERAGE")
    model = build_model(
        "trees_rf_regressor",
        [node],
        [tinfo("input", TensorProto.FLOAT, ["N", 8])],
        [tinfo("variable", TensorProto.FLOAT, ["N", 1])],
        ml=True,
        doc="sklearn RandomForestRegressor as TreeEnsembleRegressor, AVERAGE",
    )
    fx.save(
        "trees_rf_regressor",
        model,
        [("input", Xt, "float32")],
        "sklearn RandomForestRegressor (8 trees, depth 5) as TreeEnsembleRegressor: leaf values "
        "unscaled, aggregate AVERAGE, no base_values",
        features=feats,
        columns=tabular(feats, Xt),
        reference=reference(
            "sklearn %s RandomForestRegressor.predict" % sklearn.__version__,
            [tensor_json("variable", pred.reshape(-1, 1), "float32")],
        ),
    )


# Hand-built trees. Four trees of depth 2 over 6 features; their 12 branch nodes cover every
# mode, each with missing_value_tracks_true 0 and 1. Inputs come from the thresholds, values
# either side of them, and NaN, so every branch is taken both ways and NaN reaches every node.

MODE_TREES = [
    # (root, left child, right child): (mode, feature, threshold, missing_value_tracks_true)
    (("BRANCH_LEQ", 0, 0.5, 1), ("BRANCH_LT", 1, 1.0, 0), ("BRANCH_GTE", 2, -1.0, 1)),
    (("BRANCH_GT", 3, 2.0, 0), ("BRANCH_EQ", 4, 1.0, 1), ("BRANCH_NEQ", 5, 0.5, 0)),
    (("BRANCH_EQ", 1, 1.0, 0), ("BRANCH_NEQ", 0, 0.5, 1), ("BRANCH_LEQ", 3, 2.0, 0)),
    (("BRANCH_LT", 2, -1.0, 1), ("BRANCH_GT", 5, 0.5, 1), ("BRANCH_GTE", 4, 1.0, 0)),
]
MODE_VALUES = [-2.0, -1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, float("nan")]


def mode_ensemble(leaf_weights, trees=MODE_TREES):
    """leaf_weights(tree, leaf index 0..3) -> [(target, weight), ...]"""
    ens = Ensemble()
    for t, (root, left, right) in enumerate(trees):
        # node ids deliberately not in breadth-first order: 0 root, 4 left, 1 right,
        # leaves 2, 3, 5, 6
        layout = [(0, root, 4, 1), (4, left, 2, 3), (1, right, 5, 6)]
        for node, (mode, feat, th, miss), tn, fn in layout:
            ens.add_node(t, node, mode, feat, th, tn, fn, miss)
        for leaf_i, node in enumerate([2, 3, 5, 6]):
            ens.add_node(t, node, "LEAF")
            for target, w in leaf_weights(t, leaf_i):
                ens.add_weight(t, node, target, w)
    return ens


def mode_inputs(seed):
    """37 rows over MODE_VALUES that take every branch of MODE_TREES both ways and bring NaN to
    every branch node (searching seeds from `seed` on, deterministically)."""
    ens = mode_ensemble(lambda t, i: [(0, 1.0)])
    needed = set()
    for t in range(len(MODE_TREES)):
        for node in (0, 4, 1):
            for took in (True, False):
                needed.add((t, node, took, False))
            needed.add((t, node, None, True))
    for s in range(seed, seed + 10000):
        rs = np.random.RandomState(s)
        X = np.array(MODE_VALUES, dtype=np.float32)[rs.randint(0, len(MODE_VALUES), size=(ROWS, 6))]
        seen = set()
        for r in range(ROWS):
            ens.leaves_reached(X[r], seen)
        got = set((t, n, took, nan) for t, n, took, nan in seen if not nan)
        got |= set((t, n, None, True) for t, n, took, nan in seen if nan)
        if needed <= got:
            return X, s
    raise SystemExit("no seed covers every branch")


def make_trees_modes(fx):
    X, seed = mode_inputs(4000)
    feats = names("f", 6)
    # powers of two: the output tells which leaf each tree reached
    ens = mode_ensemble(lambda t, i: [(0, float(2 ** (4 * t + i)))])
    S, _, _ = ens.scores(X, 1)
    node = ens.regressor("input", "variable", 1, base_values=[0.25], with_missing=True)
    model = build_model(
        "trees_modes",
        [node],
        [tinfo("input", TensorProto.FLOAT, ["N", 6])],
        [tinfo("variable", TensorProto.FLOAT, ["N", 1])],
        ml=True,
        doc="every node mode, with and without missing_value_tracks_true",
    )
    fx.save(
        "trees_modes",
        model,
        [("input", X, "float32")],
        "hand-built TreeEnsembleRegressor, 4 trees of depth 2 over 6 features: branch nodes of "
        "every mode (BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT, BRANCH_EQ, BRANCH_NEQ), each "
        "mode with nodes_missing_value_tracks_true 0 and 1; node ids not in breadth-first order; "
        "leaf weights are powers of two (tree t, leaf i -> 2^(4t+i)) so the sum spells out the "
        "path; base_values [0.25]. Inputs are thresholds, values either side, and NaN (null in "
        "JSON), chosen so every branch goes both ways and NaN reaches every branch node",
        features=feats,
        columns=tabular(feats, X),
        reference=reference(
            "make_models.py evaluator (ONNX Runtime semantics: NaN compares false, then goes to "
            "the true branch where missing_value_tracks_true is 1)",
            [tensor_json("variable", S + 0.25, "float32")],
        ),
        notes="NaN inputs are null in the JSON; input seed %d" % seed,
    )

    # aggregate functions with two targets
    def two_targets(t, i):
        # tree 1 leaves give target 1 nothing: with MIN/MAX a target's result comes only from
        # the trees that reached a leaf weighting it
        w = [(0, float((-1) ** i * (t + 1) * (i + 0.5)))]
        if t != 1:
            w.append((1, float(0.25 * (t - i) + 0.125)))
        return w

    ens = mode_ensemble(two_targets)
    S, has, per_tree = ens.scores(X, 2)
    base = [0.5, -1.0]
    for agg in ["AVERAGE", "MIN", "MAX"]:
        ref = np.zeros_like(S)
        for r in range(ROWS):
            for target in range(2):
                vals = [c[target] for c, got in per_tree[r] if got[target]]
                if agg == "AVERAGE":
                    v = S[r, target] / len(MODE_TREES)
                elif agg == "MIN":
                    v = min(vals) if vals else 0.0
                else:
                    v = max(vals) if vals else 0.0
                ref[r, target] = v + base[target]
        node = ens.regressor("input", "variable", 2, aggregate=agg, base_values=base, with_missing=True)
        name = "trees_aggregate_" + agg.lower()
        model = build_model(
            name,
            [node],
            [tinfo("input", TensorProto.FLOAT, ["N", 6])],
            [tinfo("variable", TensorProto.FLOAT, ["N", 2])],
            ml=True,
            doc="TreeEnsembleRegressor, 2 targets, aggregate " + agg,
        )
        fx.save(
            name,
            model,
            [("input", X, "float32")],
            "the trees_modes trees as TreeEnsembleRegressor with n_targets 2, aggregate_function "
            "%s, base_values [0.5, -1]; tree 1 gives target 1 no weight" % agg,
            features=feats,
            columns=tabular(feats, X),
            reference=reference("make_models.py evaluator (ONNX Runtime semantics)", [tensor_json("variable", ref, "float32")]),
            notes="NaN inputs are null in the JSON",
        )

    # PROBIT: leaf sums stay inside (0, 1)
    ens = mode_ensemble(lambda t, i: [(0, 0.02 + 0.05 * ((t * 4 + i * 3) % 4) + 0.01 * i)])
    _, _, per_tree = ens.scores(X, 1)
    base = np.float32(0.1)
    ref = np.array([[winitzki_probit(sum_f32(c[0] for c, _ in per_tree[r]) + base)] for r in range(ROWS)])
    node = ens.regressor("input", "variable", 1, post="PROBIT", base_values=[base], with_missing=True)
    model = build_model(
        "trees_probit",
        [node],
        [tinfo("input", TensorProto.FLOAT, ["N", 6])],
        [tinfo("variable", TensorProto.FLOAT, ["N", 1])],
        ml=True,
        doc="TreeEnsembleRegressor, post_transform PROBIT",
    )
    fx.save(
        "trees_probit",
        model,
        [("input", X, "float32")],
        "the trees_modes trees as TreeEnsembleRegressor, 1 target, leaf sums + base 0.1 inside "
        "(0,1), post_transform PROBIT. ONNX Runtime's probit is sqrt(2)*ErfInv(2p-1) with "
        "Winitzki's approximation of ErfInv (a = 0.147) computed in float32, not the exact "
        "inverse normal CDF (which differs by up to 8e-5 here); see winitzki_probit in "
        "tools/onnxfixtures/make_models.py for the exact steps",
        features=feats,
        columns=tabular(feats, X),
        reference=reference("make_models.py evaluator: float32 leaf sums and Winitzki's ErfInv in float32, as ONNX Runtime", [tensor_json("variable", ref, "float32")], atol=0, rtol=0),
        notes="NaN inputs are null in the JSON",
    )


def softmax_zero(v):
    """ONNX Runtime's ComputeSoftmaxZero: a softmax in which exact zeros stay zero."""
    v = np.asarray(v, dtype=np.float32).copy()
    vmax = v.max()
    e = np.float32(np.exp(-vmax))
    s = np.float32(0)
    for i in range(len(v)):
        if v[i] > 1e-7 or v[i] < -1e-7:
            v[i] = np.exp(v[i] - vmax)
            s += v[i]
        else:
            v[i] = v[i] * e
    return v / s


SOFTMAX_ZERO_TREES = [
    (("BRANCH_LEQ", 0, 0.5, 0), ("BRANCH_LEQ", 1, 0.5, 0), ("BRANCH_LEQ", 2, 0.5, 0)),
    (("BRANCH_LEQ", 3, 0.5, 0), ("BRANCH_LEQ", 4, 0.5, 0), ("BRANCH_LEQ", 5, 0.5, 0)),
    (("BRANCH_LEQ", 1, 0.5, 0), ("BRANCH_LEQ", 3, 0.5, 0), ("BRANCH_LEQ", 5, 0.5, 0)),
]
# tree 0 weights class 0, tree 1 class 1, tree 2 class 2 on half of its leaves and nothing on
# the others: rows that reach those leave class 2 without any weight (score exactly 0)
SOFTMAX_ZERO_LEAVES = {
    (0, 0): [(0, -0.5)], (0, 1): [(0, 0.7)], (0, 2): [(0, -1.2)], (0, 3): [(0, 0.3)],
    (1, 0): [(1, -0.4)], (1, 1): [(1, 0.9)], (1, 2): [(1, -0.8)], (1, 3): [(1, 0.2)],
    (2, 0): [(2, 0.6)], (2, 1): [], (2, 2): [(2, -0.3)], (2, 3): [],
}


def make_trees_softmax_zero(fx):
    rs = np.random.RandomState(4100)
    X = rs.uniform(size=(ROWS, 6)).astype(np.float32)
    feats = names("f", 6)
    ens = mode_ensemble(lambda t, i: SOFTMAX_ZERO_LEAVES[(t, i)], SOFTMAX_ZERO_TREES)
    S, has, per_tree = ens.scores(X, 3)
    S32 = np.array([[sum_f32(c[k] for c, got in per_tree[r] if got[k]) for k in range(3)] for r in range(ROWS)])
    probs = np.array([softmax_zero(s) for s in S32])
    # ONNX Runtime picks the label among the classes that received a weight: a class left
    # at 0 without any weight loses to a weighted class with a negative score
    label = []
    by_weighted = 0
    for r in range(ROWS):
        best = -1
        for k in range(3):
            if has[r, k] and (best == -1 or S32[r, k] > S32[r, best]):
                best = k
        label.append(best)
        by_weighted += int(best != int(np.argmax(S32[r])))
    zero_rows = int(np.sum(np.any(S32 == 0, axis=1)))
    assert zero_rows >= 5 and by_weighted >= 2, (zero_rows, by_weighted)
    labels = [10, 20, 30]
    node = ens.classifier("input", ["label", "probabilities"], labels, "SOFTMAX_ZERO")
    model = build_model(
        "trees_softmax_zero",
        [node],
        [tinfo("input", TensorProto.FLOAT, ["N", 6])],
        [tinfo("label", TensorProto.INT64, ["N"]), tinfo("probabilities", TensorProto.FLOAT, ["N", 3])],
        ml=True,
        doc="TreeEnsembleClassifier, 3 classes, post_transform SOFTMAX_ZERO",
    )
    fx.save(
        "trees_softmax_zero",
        model,
        [("input", X, "float32")],
        "hand-built TreeEnsembleClassifier, 3 trees of depth 2, 3 classes (labels int64 10, 20, "
        "30), no base_values, post_transform SOFTMAX_ZERO. Tree 2 weights class 30 on two leaves "
        "and nothing on the other two, so %d rows leave that class without any weight: its score "
        "is exactly 0 and SOFTMAX_ZERO keeps its probability at 0. The label is the arg max over "
        "the classes that received a weight, so in %d rows a class with a negative score beats "
        "the unweighted class at 0" % (zero_rows, by_weighted),
        features=feats,
        columns=tabular(feats, X),
        reference=reference(
            "make_models.py evaluator (ONNX Runtime semantics)",
            [tensor_json("label", np.array([labels[k] for k in label]), "int64"), tensor_json("probabilities", probs, "float32")],
        ),
    )


# --------------------------------------------------------------------------------------------
# Small ai.onnx.ml nodes


def make_ml_small(fx):
    rng = np.random.RandomState(5001)
    X = rng.normal(loc=[1.0, -2.0, 10.0, 0.0], scale=[1.0, 3.0, 5.0, 0.5], size=(ROWS, 4)).astype(np.float32)
    X[0] = [0.0, 0.0, 0.0, 0.0]  # an all-zero row: the normalizers must not divide by zero
    X[1] = [-1.0, -2.0, -3.0, -4.0]  # all negative: MAX divides by a negative maximum
    feats = names("x", 4)
    Xd = X.astype(np.float64)
    inp = [tinfo("input", TensorProto.FLOAT, ["N", 4])]

    offset = np.array([1.0, -2.0, 10.0, 0.0], dtype=np.float32)
    scale = np.array([1.0, 1 / 3.0, 0.2, 2.0], dtype=np.float32)
    node = helper.make_node("Scaler", ["input"], ["variable"], name="scaler", domain="ai.onnx.ml",
                            offset=[float(v) for v in offset], scale=[float(v) for v in scale])
    model = build_model("ml_scaler", [node], inp, [tinfo("variable", TensorProto.FLOAT, ["N", 4])], ml=True)
    fx.save(
        "ml_scaler", model, [("input", X, "float32")],
        "ai.onnx.ml Scaler: (x - offset) * scale per column", features=feats, columns=tabular(feats, X),
        reference=reference("numpy float64", [tensor_json("variable", (Xd - offset) * scale, "float32")]),
    )

    for norm in ["L1", "L2", "MAX"]:
        if norm == "L1":
            d = np.abs(Xd).sum(axis=1, keepdims=True)
        elif norm == "L2":
            d = np.sqrt((Xd ** 2).sum(axis=1, keepdims=True))
        else:
            d = Xd.max(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            ref = np.where(d != 0, Xd / np.where(d == 0, 1, d), Xd)
        node = helper.make_node("Normalizer", ["input"], ["variable"], name="normalizer", domain="ai.onnx.ml", norm=norm)
        name = "ml_normalizer_" + norm.lower()
        model = build_model(name, [node], inp, [tinfo("variable", TensorProto.FLOAT, ["N", 4])], ml=True)
        fx.save(
            name, model, [("input", X, "float32")],
            "ai.onnx.ml Normalizer norm=%s per row; row 0 is all zeros, row 1 all negative" % norm,
            features=feats, columns=tabular(feats, X),
            reference=reference("numpy float64 (x / norm, rows with norm 0 unchanged)", [tensor_json("variable", ref, "float32")]),
        )

    # LinearRegressor from sklearn, one target
    Xr, yr = make_regression(n_samples=300, n_features=4, noise=1.0, random_state=5002)
    lin = LinearRegression().fit(Xr, yr)
    node = helper.make_node("LinearRegressor", ["input"], ["variable"], name="linear_regressor", domain="ai.onnx.ml",
                            coefficients=[float(np.float32(c)) for c in lin.coef_],
                            intercepts=[float(np.float32(lin.intercept_))], targets=1)
    model = build_model("ml_linear_regressor", [node], inp, [tinfo("variable", TensorProto.FLOAT, ["N", 1])], ml=True)
    fx.save(
        "ml_linear_regressor", model, [("input", X, "float32")],
        "sklearn LinearRegression as ai.onnx.ml LinearRegressor, targets 1, post_transform NONE",
        features=feats, columns=tabular(feats, X),
        reference=reference("sklearn %s LinearRegression.predict" % sklearn.__version__,
                            [tensor_json("variable", lin.predict(Xd).reshape(-1, 1), "float32")]),
    )

    # LinearRegressor with two targets: coefficients laid out target-major
    C = rng.normal(size=(2, 4)).astype(np.float32)
    b = np.array([0.5, -1.5], dtype=np.float32)
    node = helper.make_node("LinearRegressor", ["input"], ["variable"], name="linear_regressor", domain="ai.onnx.ml",
                            coefficients=[float(c) for c in C.reshape(-1)], intercepts=[float(v) for v in b], targets=2)
    model = build_model("ml_linear_regressor_2t", [node], inp, [tinfo("variable", TensorProto.FLOAT, ["N", 2])], ml=True)
    fx.save(
        "ml_linear_regressor_2t", model, [("input", X, "float32")],
        "ai.onnx.ml LinearRegressor, targets 2: coefficients are 2 rows of 4 (target-major), "
        "intercepts [0.5, -1.5]; output [N,2]",
        features=feats, columns=tabular(feats, X),
        reference=reference("numpy float64", [tensor_json("variable", Xd @ C.astype(np.float64).T + b, "float32")]),
    )

    # Cast float -> int64 (truncates toward zero) and float -> double
    Xc = X * np.float32(3)
    nodes = [
        helper.make_node("Cast", ["input"], ["as_int64"], name="cast_int64", to=TensorProto.INT64),
        helper.make_node("Cast", ["input"], ["as_double"], name="cast_double", to=TensorProto.DOUBLE),
    ]
    model = build_model("ml_cast", nodes, inp, [tinfo("as_int64", TensorProto.INT64, ["N", 4]), tinfo("as_double", TensorProto.DOUBLE, ["N", 4])])
    fx.save(
        "ml_cast", model, [("input", Xc, "float32")],
        "Cast float32 -> int64 (truncation toward zero) and float32 -> float64, two outputs",
        features=feats, columns=tabular(feats, Xc),
        reference=reference("numpy", [tensor_json("as_int64", np.trunc(Xc).astype(np.int64), "int64"),
                                      tensor_json("as_double", Xc.astype(np.float64), "float64")], atol=0, rtol=0),
    )

    # Cast int64 -> float, then the ml nodes chained: Scaler, Normalizer(L2), LinearRegressor
    Xi = np.round(X * 10).astype(np.int64)
    nodes = [
        helper.make_node("Cast", ["input"], ["x_float"], name="cast", to=TensorProto.FLOAT),
        helper.make_node("Scaler", ["x_float"], ["scaled"], name="scaler", domain="ai.onnx.ml",
                         offset=[float(v) for v in offset * 10], scale=[float(v) for v in scale]),
        helper.make_node("Normalizer", ["scaled"], ["normalized"], name="normalizer", domain="ai.onnx.ml", norm="L2"),
        helper.make_node("LinearRegressor", ["normalized"], ["variable"], name="linear_regressor", domain="ai.onnx.ml",
                         coefficients=[float(c) for c in C.reshape(-1)], intercepts=[float(v) for v in b], targets=2),
    ]
    model = build_model("ml_chain", nodes, [tinfo("input", TensorProto.INT64, ["N", 4])],
                        [tinfo("variable", TensorProto.FLOAT, ["N", 2])], ml=True)
    s = (Xi.astype(np.float64) - (offset * 10).astype(np.float32).astype(np.float64)) * scale.astype(np.float64)
    nrm = np.sqrt((s ** 2).sum(axis=1, keepdims=True))
    nz = np.where(nrm == 0, 1, nrm)
    s = np.where(nrm != 0, s / nz, s)
    fx.save(
        "ml_chain", model, [("input", Xi, "int64")],
        "int64 [N,4] input -> Cast(to float) -> Scaler -> Normalizer(L2) -> LinearRegressor "
        "(targets 2)",
        features=feats, columns=tabular(feats, Xi, "int64"),
        reference=reference("numpy float64", [tensor_json("variable", s @ C.astype(np.float64).T + b, "float32")]),
    )


# --------------------------------------------------------------------------------------------
# Churn: the examples' model and customers

CHURN_FEATURES = ["age", "tenure_months", "monthly_charges", "total_charges", "support_calls", "contract_type"]
CHURN_COLUMNS = ["customer_id"] + CHURN_FEATURES + ["customer_segment"]
SEGMENTS = ["consumer", "small_business", "enterprise"]


def churn_customers(rs, n, first_id):
    """Synthetic customers and whether each churned. contract_type: 0 month-to-month,
    1 one year, 2 two years."""
    contract = rs.choice(3, size=n, p=[0.55, 0.25, 0.20])
    tenure = np.where(contract == 0, rs.randint(0, 37, size=n), rs.randint(6, 73, size=n))
    age = rs.randint(18, 80, size=n)
    monthly = np.round(rs.uniform(18.25, 118.75, size=n), 2)
    total = np.round(monthly * tenure * rs.uniform(0.9, 1.1, size=n), 2)
    calls = np.minimum(rs.poisson(1.5, size=n), 10)
    segment = rs.choice(3, size=n, p=[0.7, 0.2, 0.1])
    logit = (
        -1.2
        + 1.3 * (contract == 0)
        - 0.6 * (contract == 2)
        - 0.045 * tenure
        + 0.022 * (monthly - 65)
        + 0.45 * calls
        - 0.012 * (age - 45)
    )
    churned = (rs.uniform(size=n) < sigmoid(logit)).astype(np.int64)
    rows = []
    for i in range(n):
        rows.append({
            "customer_id": "C%05d" % (first_id + i),
            "age": int(age[i]),
            "tenure_months": int(tenure[i]),
            "monthly_charges": float(monthly[i]),
            "total_charges": float(total[i]),
            "support_calls": int(calls[i]),
            "contract_type": int(contract[i]),
            "customer_segment": SEGMENTS[segment[i]],
        })
    return rows, churned


def churn_matrix(rows):
    # what a reader does with the CSV: parse as float64, then hand the model float32
    return np.array([[float(r[f]) for f in CHURN_FEATURES] for r in rows], dtype=np.float64).astype(np.float32)


def fmt_csv_value(v):
    if isinstance(v, float):
        return "%.2f" % v
    return str(v)


def make_churn(fx, out_dir):
    train_rows, y = churn_customers(np.random.RandomState(6001), 5000, 90000)
    Xtr = churn_matrix(train_rows)
    clf = GradientBoostingClassifier(n_estimators=40, max_depth=3, learning_rate=0.1, random_state=0).fit(Xtr, y)

    rows, _ = churn_customers(np.random.RandomState(6002), 1000, 1)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CHURN_COLUMNS)
    for r in rows:
        w.writerow([fmt_csv_value(r[c]) for c in CHURN_COLUMNS])
    with open(os.path.join(out_dir, "churn_customers.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())
    # read it back as a consumer would
    with open(os.path.join(out_dir, "churn_customers.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    X = churn_matrix(rows)

    ens = Ensemble()
    for i in range(clf.n_estimators_):
        est = clf.estimators_[i, 0]
        ens.add_sklearn_tree(i, est, lambda leaf, est=est: [(0, est.tree_.value[leaf, 0, 0] * clf.learning_rate)])
    base = clf._raw_predict_init(X[:1])[0]
    S, _, _ = ens.scores(X, 1)
    proba = clf.predict_proba(X)
    check_close("churn predict_proba", sigmoid(S[:, 0] + base[0]), proba[:, 1])
    node = ens.classifier("input", ["label", "probabilities"], [0, 1], "LOGISTIC", base_values=[base[0]])
    model = build_model(
        "churn",
        [node],
        [tinfo("input", TensorProto.FLOAT, ["N", len(CHURN_FEATURES)])],
        [tinfo("label", TensorProto.INT64, ["N"]), tinfo("probabilities", TensorProto.FLOAT, ["N", 2])],
        ml=True,
        doc="churn model: GradientBoostingClassifier over %s" % ", ".join(CHURN_FEATURES),
    )
    with open(os.path.join(out_dir, "churn.features.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write(to_json({
            "model": "churn.onnx",
            "input": "input",
            "features": CHURN_FEATURES,
            "id_column": "customer_id",
            "unused_columns": ["customer_segment"],
            "outputs": {"label": "1 = churns", "probabilities": "[P(stays), P(churns)]"},
        }) + "\n")

    training_note = "trained on 5000 synthetic customers (seed 6001); the CSV is another 1000 (seed 6002)"
    for name, sel, desc in [
        ("churn", slice(0, ROWS), "the first 37 customers of churn_customers.csv"),
        ("churn_customers", slice(None), "all 1000 customers of churn_customers.csv"),
    ]:
        Xs = X[sel]
        fx.save(
            name,
            model,
            [("input", Xs, "float32")],
            "the examples' churn model: sklearn GradientBoostingClassifier (40 trees, depth 3) as "
            "TreeEnsembleClassifier (LOGISTIC, labels [0,1]); %s; input columns in "
            "churn.features.json order (customer_id and customer_segment are not inputs)" % desc,
            features=CHURN_FEATURES,
            # all 1000 customers: the CSV holds the columns, the input file only the tensor
            columns=tabular(CHURN_FEATURES, Xs) if name == "churn" else None,
            reference=reference(
                "sklearn %s GradientBoostingClassifier.predict / predict_proba" % sklearn.__version__,
                [tensor_json("label", clf.predict(Xs).astype(np.int64), "int64"),
                 tensor_json("probabilities", proba[sel], "float32")],
            ),
            notes=training_note,
            model_file="churn.onnx",
        )


# --------------------------------------------------------------------------------------------

README_HEAD = """# ONNX test fixtures

Models, inputs and ONNX Runtime's outputs on them, that dfbatch's ONNX runner is checked
against. Generated, do not edit: `tools/onnxfixtures/` holds the scripts and says how to
regenerate (`make -C tools/onnxfixtures`); this file is written by `make_models.py`.

Each fixture `<name>` has:

- `<name>.onnx`: the model; opset 17 (default domain) and 3 (`ai.onnx.ml`), IR version 8,
  a dynamic batch dimension `N`, weights as initializers.
- `<name>.input.json`: `rows` (37, so batches of 16 or 32 end with a short one), for tabular
  inputs `features` (column names in model input order) and `columns` (name -> values), and
  `inputs`: one `{name, dtype, shape, data}` per model input, data flat in row-major order.
  Most also carry `reference`: an independent answer (sklearn's or numpy's, or for hand-built
  trees a Python evaluator of ONNX Runtime's semantics) that ONNX Runtime's outputs were checked
  against when the fixtures were made.
- `<name>.expected.json`: ONNX Runtime's outputs (onnxruntime-node, CPU, one thread), in model
  output order: `{name, dtype, shape, data}`; `dtype` is float32, float64, int64, string or,
  for ZipMap, `seq(map(int64,float32))` with `data` a list of one `{label: probability}` map per
  row (keys written as JSON strings).

Float32 values are written as the shortest decimal that reads back (as float64, then rounded
to float32) to the same float32. **NaN is written as `null`** (in the `trees_modes`,
`trees_aggregate_*` and `trees_probit` inputs, which say so in a `nan` field): Go's
encoding/json silently leaves 0 where it meets null in a `[]float32`, so decode those with
pointers or `json.RawMessage`. Compare with a relative tolerance and a small absolute floor
(about 1e-6): a float32 computation of a probability near 1e-4 legitimately differs from ONNX
Runtime's in the 4th significant digit.

`fixtures.json` lists every fixture with its description, operators, opsets, and declared
inputs and outputs. `churn_customers.csv` holds the churn example's 1,000 customers
(`customer_id`, the six model features, and `customer_segment`, which the model does not use);
`churn.features.json` lists the churn model's input columns in order. The churn model's
`probabilities[:, 1]` is the probability that a customer churns.

| fixture | ops | inputs | outputs |
| --- | --- | --- | --- |
"""


def write_readme(out_dir):
    def vis(lst):
        return ", ".join("`%s` %s[%s]" % (v["name"], v["dtype"], ",".join(str(d) for d in v["shape"])) for v in lst)

    lines = [README_HEAD]
    for f in MANIFEST:
        ops = ", ".join(op.replace("ai.onnx.ml.", "ml.") for op in f["ops"])
        lines.append("| %s | %s | %s | %s |\n" % (f["name"], ops, vis(f["inputs"]), vis(f["outputs"])))
    lines.append("\n## What each one is\n\n")
    for f in MANIFEST:
        lines.append("- **%s**: %s.\n" % (f["name"], f["description"]))
    with open(os.path.join(out_dir, "README.md"), "w", encoding="utf-8", newline="\n") as fh:
        fh.write("".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "testdata", "onnx"))
    ap.add_argument("--build", default=os.path.join(HERE, "build"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.build, exist_ok=True)
    np.seterr(over="ignore")
    fx = Fixture(args.out, args.build)

    make_mlp(fx)
    make_mlp_ops(fx)
    make_multi_input(fx)
    make_logreg(fx)
    make_sklearn_mlp(fx)
    make_trees_binary(fx)
    make_trees_multiclass(fx)
    make_trees_rf_binary(fx)
    make_trees_regressor(fx)
    make_trees_modes(fx)
    make_trees_softmax_zero(fx)
    make_ml_small(fx)
    make_churn(fx, args.out)

    write_json(os.path.join(args.out, "fixtures.json"), {
        "generator": "tools/onnxfixtures/make_models.py (onnx %s, numpy %s, scikit-learn %s), "
                     "expected outputs by tools/onnxfixtures/expected.mjs" % (onnx.__version__, np.__version__, sklearn.__version__),
        "rows": ROWS,
        "fixtures": MANIFEST,
    })
    write_readme(args.out)
    print("wrote %d fixtures to %s" % (len(MANIFEST), args.out))


if __name__ == "__main__":
    main()
