#!/usr/bin/python3
"""The zoo's neural nets and linear models: scikit-learn's MLPClassifier, MLPRegressor and
LogisticRegression, exported in skl2onnx's layout (skl2onnx is not installed; the graphs are
written with onnx.helper the way its converters write them).

skl2onnx's layouts, recalled from its operator_converters:

MLPClassifier / MLPRegressor (multilayer_perceptron.py): Cast(input, to=FLOAT), then per layer
MatMul(coefficient [in, out]) + Add(intercepts [1, out]) and the hidden activation (relu Relu,
tanh Tanh, logistic Sigmoid, identity Identity); the output layer's activation is out_activation_:
Softmax(axis=1) for several classes, Sigmoid for two (then Sub(1, p) and Concat([1-p, p],
axis=1)), Identity for a regressor. A classifier's probabilities go through Identity (several
classes) to its probability output, and its label is ArgMax(axis=1) over them, then
ArrayFeatureExtractor(classes, argmax) (ai.onnx.ml) over the classes held as an INT32
initializer, Reshape to [-1] and Cast to INT64. A regressor's output is Reshape(-1, 1).

A Pipeline(StandardScaler, MLPClassifier) starts with the scaler's converter (scaler_op.py): for
float input an ai.onnx.ml Scaler, offset mean_ and scale 1 / scale_, whose output the network's
Cast reads.

LogisticRegression (linear_classifier.py): one ai.onnx.ml LinearClassifier; for two classes
the coefficients and intercepts are [-w; w] and [-b, b], post_transform LOGISTIC; for several
classes (multinomial, sklearn's default with lbfgs) SOFTMAX with multi_class 1.

With options={'zipmap': False} a classifier's outputs are "label" (int64 [N]) and
"probabilities" (float [N, K]); by default skl2onnx appends Cast(label, to=INT64) ->
"output_label" and ZipMap(probabilities) -> "output_probability", a sequence of maps.

Every conversion is evaluated here with numpy (run_onnx) and checked against scikit-learn's
predict and predict_proba before it is written. tools/onnxfixtures/make_models.py imports the
converters from this module.
"""

import os
import sys
import warnings

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zoo  # noqa: E402  (the zoo's opsets; this module is also imported from elsewhere)

PRODUCER = "dfbatch-zoo"
INPUT = "float_input"  # the input name skl2onnx's documentation gives initial_types
ACTIVATIONS = {"identity": "Identity", "tanh": "Tanh", "logistic": "Sigmoid", "relu": "Relu", "softmax": "Softmax"}
RTOL, ATOL = 1e-5, 1e-6  # the conversion check: float32 graph against scikit-learn


class Graph:
    """Nodes and initializers under construction, named as skl2onnx's scope names them:
    the first "coefficient", then "coefficient1", "coefficient2"..."""

    def __init__(self):
        self.nodes, self.inits, self.taken = [], [], {}

    def unique(self, base):
        n = self.taken.get(base, 0)
        self.taken[base] = n + 1
        return base if n == 0 else "%s%d" % (base, n)

    def init(self, base, array):
        name = self.unique(base)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, output, domain=None, **attrs):
        name = self.unique(op)
        kw = {"domain": domain} if domain else {}
        self.nodes.append(helper.make_node(op, inputs, [output] if isinstance(output, str) else output, name=name, **kw, **attrs))
        return output

    def model(self, name, inputs, outputs, doc):
        g = helper.make_graph(self.nodes, name, inputs, outputs, initializer=self.inits)
        opsets = [helper.make_opsetid("", zoo.OPSET)]
        if any(n.domain == "ai.onnx.ml" for n in self.nodes):
            opsets.append(helper.make_opsetid("ai.onnx.ml", zoo.ML_OPSET))
        m = helper.make_model(g, opset_imports=opsets, producer_name=PRODUCER, producer_version="1",
                              ir_version=zoo.IR_VERSION, doc_string=doc)
        onnx.checker.check_model(m)
        return m


def _scale(g, scaler):
    """A StandardScaler as skl2onnx writes one for float input: ai.onnx.ml Scaler with
    offset mean_ and scale 1 / scale_; returns its output's name, or the input's without one."""
    if scaler is None:
        return INPUT
    offset = scaler.mean_ if scaler.with_mean else np.zeros(scaler.n_features_in_)
    scale = 1.0 / scaler.scale_ if scaler.with_std else np.ones(scaler.n_features_in_)
    return g.node("Scaler", [INPUT], g.unique("variable"), domain="ai.onnx.ml",
                  offset=[float(np.float32(v)) for v in offset], scale=[float(np.float32(v)) for v in scale])


def _forward(g, mlp, x):
    """The layers of an MLP over the cast x; returns the output activation's name."""
    x = g.node("Cast", [x], g.unique("cast_input"), to=TensorProto.FLOAT)
    for i, (W, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        coef = g.init("coefficient", W.astype(np.float32))
        bias = g.init("intercepts", b.astype(np.float32).reshape(1, -1))
        mul = g.node("MatMul", [x, coef], g.unique("mul_result"))
        x = g.node("Add", [mul, bias], g.unique("add_result"))
        last = i == len(mlp.coefs_) - 1
        act = mlp.out_activation_ if last else mlp.activation
        x = g.node(ACTIVATIONS[act], [x], g.unique("out_activations_result" if last else "next_activations"))
    return x


def _io(features):
    return [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [None, features])]


def _zipmap_outputs(g, classes, label, proba):
    """skl2onnx's default outputs: the label cast to INT64 and a ZipMap of the probabilities."""
    g.node("Cast", [label], "output_label", to=TensorProto.INT64)
    g.node("ZipMap", [proba], "output_probability", domain="ai.onnx.ml", classlabels_int64s=[int(c) for c in classes])
    mt = onnx.TypeProto()
    mt.map_type.key_type = TensorProto.INT64
    mt.map_type.value_type.CopyFrom(helper.make_tensor_type_proto(TensorProto.FLOAT, None))
    st = onnx.TypeProto()
    st.sequence_type.elem_type.CopyFrom(mt)
    return [helper.make_tensor_value_info("output_label", TensorProto.INT64, [None]),
            helper.make_value_info("output_probability", st)]


def _tensor_outputs(k):
    return [helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, k])]


def mlp_classifier_onnx(clf, features, zipmap=False, scaler=None):
    """An MLPClassifier with integer classes in skl2onnx's layout (see the module's doc), after
    a fitted StandardScaler when scaler is one (a Pipeline of the two)."""
    classes = np.asarray(clf.classes_)
    if not np.issubdtype(classes.dtype, np.integer):
        raise ValueError("mlp_classifier_onnx converts integer classes only")
    g = Graph()
    y = _forward(g, clf, _scale(g, scaler))
    proba = "probabilities"
    if len(classes) == 2:
        unity = g.init("unity", np.array(1, dtype=np.float32))
        neg = g.node("Sub", [unity, y], g.unique("negative_class_proba"))
        g.node("Concat", [neg, y], proba, axis=1)
    else:
        g.node("Identity", [y], proba)
    names = g.init("classes", classes.astype(np.int32))
    argmax = g.node("ArgMax", [proba], g.unique("argmax_output"), axis=1)
    picked = g.node("ArrayFeatureExtractor", [names, argmax], g.unique("array_feature_extractor_result"), domain="ai.onnx.ml")
    shape = g.init("shape_tensor", np.array([-1], dtype=np.int64))
    reshaped = g.node("Reshape", [picked, shape], g.unique("reshaped_result"))
    g.node("Cast", [reshaped], "label", to=TensorProto.INT64)
    outputs = _zipmap_outputs(g, classes, "label", proba) if zipmap else _tensor_outputs(len(classes))
    return g.model("mlp_classifier", _io(features), outputs, "MLPClassifier in skl2onnx's layout")


def mlp_regressor_onnx(reg, features):
    """A single-target MLPRegressor in skl2onnx's layout: "variable" float [N, 1]."""
    g = Graph()
    y = _forward(g, reg, INPUT)
    shape = g.init("shape_tensor", np.array([-1, 1], dtype=np.int64))
    g.node("Reshape", [y, shape], "variable")
    out = [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])]
    return g.model("mlp_regressor", _io(features), out, "MLPRegressor in skl2onnx's layout")


def logistic_regression_onnx(clf, features, zipmap=False):
    """A LogisticRegression (binary, or multinomial) with integer classes as skl2onnx writes it."""
    classes = [int(c) for c in clf.classes_]
    coef = clf.coef_.astype(np.float64)
    intercept = clf.intercept_.astype(np.float64)
    if len(classes) == 2:
        coef, intercept, post, multi = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept]), "LOGISTIC", 0
    else:
        post, multi = "SOFTMAX", 1
    g = Graph()
    g.node("LinearClassifier", [INPUT], ["label", "probabilities"], domain="ai.onnx.ml",
           coefficients=[float(c) for c in coef.reshape(-1)], intercepts=[float(c) for c in intercept],
           classlabels_ints=classes, multi_class=multi, post_transform=post)
    outputs = _zipmap_outputs(g, classes, "label", "probabilities") if zipmap else _tensor_outputs(len(classes))
    return g.model("logistic_regression", _io(features), outputs, "LogisticRegression in skl2onnx's layout")


# ----------------------------------------------------------------------------------------------
# A numpy evaluator of the operators above, in float32 as ONNX Runtime computes them.


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(z):
    return (1 / (1 + np.exp(-z.astype(np.float64)))).astype(np.float32)


def _linear_classifier(n, x):
    a = {at.name: helper.get_attribute_value(at) for at in n.attribute}
    labels = np.asarray(a["classlabels_ints"], dtype=np.int64)
    W = np.asarray(a["coefficients"], dtype=np.float32).reshape(len(a["intercepts"]), -1)
    s = x @ W.T + np.asarray(a["intercepts"], dtype=np.float32)
    p = _sigmoid(s) if a["post_transform"] == b"LOGISTIC" else _softmax(s)
    return labels[s.argmax(axis=1)], p.astype(np.float32)


def _run_node(n, v):
    x = [v[i] for i in n.input]
    a = {at.name: helper.get_attribute_value(at) for at in n.attribute}
    op = n.op_type
    if op == "Cast":
        return [x[0].astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]])]
    if op in ("Identity", "ZipMap"):  # ZipMap: the maps hold exactly the tensor's rows
        return [x[0]]
    if op in ("MatMul", "Add", "Sub"):
        f = {"MatMul": np.matmul, "Add": np.add, "Sub": np.subtract}[op]
        return [f(x[0], x[1]).astype(np.float32)]
    if op in ("Relu", "Tanh", "Sigmoid", "Softmax"):
        f = {"Relu": lambda z: np.maximum(z, 0), "Tanh": np.tanh, "Sigmoid": _sigmoid, "Softmax": _softmax}[op]
        return [f(x[0]).astype(np.float32)]
    if op == "Scaler":
        return [((x[0] - np.float32(a["offset"])) * np.float32(a["scale"])).astype(np.float32)]
    if op == "Concat":
        return [np.concatenate(x, axis=a["axis"])]
    if op == "ArgMax":
        return [x[0].argmax(axis=a["axis"]).reshape(-1, 1).astype(np.int64)]
    if op == "ArrayFeatureExtractor":
        return [x[0][x[1].reshape(-1)].reshape(1, -1)]  # ONNX Runtime's [1, N] for 1-D data
    if op == "Reshape":
        return [x[0].reshape(x[1])]
    if op == "LinearClassifier":
        return list(_linear_classifier(n, x[0]))
    raise ValueError("run_onnx: no evaluator for " + op)


def run_onnx(model, X):
    """Evaluates model on the float32 rows X; returns {output name: array}."""
    v = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    v[model.graph.input[0].name] = np.asarray(X, dtype=np.float32)
    for n in model.graph.node:
        for name, value in zip(n.output, _run_node(n, v)):
            v[name] = value
    return {o.name: v[o.name] for o in model.graph.output}


def check_classifier(name, model, clf, X, label_out="label", proba_out="probabilities"):
    """Checks the converted classifier against predict_proba (RTOL, ATOL) and predict (equal,
    except rows whose two top probabilities are closer than RTOL: a tie float32 may break
    either way). Returns scikit-learn's label and probabilities."""
    got = run_onnx(model, X)
    proba = clf.predict_proba(X).astype(np.float32)
    label = clf.predict(X).astype(np.int64)
    np.testing.assert_allclose(got[proba_out], proba, rtol=RTOL, atol=ATOL, err_msg=name)
    top = np.sort(proba, axis=1)
    ties = top[:, -1] - top[:, -2] <= RTOL * top[:, -1]
    bad = (got[label_out] != label) & ~ties
    if bad.any():
        raise AssertionError("%s: label differs from predict on %d rows" % (name, bad.sum()))
    return label, proba


def check_regressor(name, model, reg, X):
    """Checks the converted regressor against predict; returns it as [rows, 1]."""
    want = reg.predict(X).astype(np.float32).reshape(-1, 1)
    np.testing.assert_allclose(run_onnx(model, X)["variable"], want, rtol=RTOL, atol=ATOL, err_msg=name)
    return want


# ----------------------------------------------------------------------------------------------
# The zoo's models


def _mlp_shapes(quick):
    """(activation, hidden layers, classes, features) of each MLPClassifier; 0 classes is a
    regressor."""
    if quick:
        return [("tanh", (16,), 3, 10), ("logistic", (16,), 2, 10), ("relu", (16, 8), 10, 12),
                ("identity", (16,), 3, 10), ("relu", (16,), 0, 10)]
    return [
        ("relu", (100,), 2, 20), ("relu", (100,), 3, 20), ("tanh", (100,), 3, 20),
        ("logistic", (100,), 3, 20), ("identity", (100,), 3, 20), ("tanh", (64, 32), 2, 30),
        ("relu", (64, 32), 10, 30), ("relu", (256, 128), 2, 50), ("relu", (256, 128), 10, 50),
        ("relu", (100,), 0, 20), ("relu", (256, 128), 0, 50),
    ]


def _name(activation, hidden, classes):
    layers = "_".join(str(h) for h in hidden)
    if classes == 0:
        return "mlpreg_%s_%s" % (activation, layers)
    return "mlp_%s_%s_c%d" % (activation, layers, classes)


def _train_mlp(zoo_, seed, activation, hidden, classes, features):
    train = 600 if zoo_.quick else 4000
    Xtr, ytr, X = zoo_.dataset(seed, features, classes=classes, train=train)
    kw = dict(hidden_layer_sizes=hidden, activation=activation, random_state=seed, max_iter=30 if zoo_.quick else 200)
    est = MLPClassifier(**kw) if classes else MLPRegressor(**kw)
    if not classes:
        ytr = ytr / np.std(ytr)  # a unit-scale target, as users standardize one before an MLP
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(Xtr, ytr)
    return est, X


def add_mlp(zoo_, seed, activation, hidden, classes, features, zipmap=False):
    est, X = _train_mlp(zoo_, seed, activation, hidden, classes, features)
    name = _name(activation, hidden, classes) + ("_zipmap" if zipmap else "")
    params = {"hidden": list(hidden), "activation": activation, "classes": classes, "features": features}
    if classes == 0:
        model = mlp_regressor_onnx(est, features)
        ref = {"variable": check_regressor(name, model, est, X)}
        desc = "MLPRegressor %s %s on %d features, skl2onnx layout" % (activation, hidden, features)
    else:
        model = mlp_classifier_onnx(est, features, zipmap=zipmap)
        outs = ("output_label", "output_probability") if zipmap else ("label", "probabilities")
        label, proba = check_classifier(name, model, est, X, *outs)
        ref = {outs[0]: label, outs[1]: proba}
        params["zipmap"] = zipmap
        desc = "MLPClassifier %s %s, %d classes, %d features, skl2onnx layout%s" % (
            activation, hidden, classes, features, ", default ZipMap output (for correctness)" if zipmap else " (zipmap=False)")
    zoo_.add(name, "nets", desc, model, X, ref, params=params)


def add_scaled_mlp(zoo_, seed, hidden, classes, features):
    """Pipeline(StandardScaler, MLPClassifier relu), as users scale features before a network;
    the features are spread over scales the network would not learn on unscaled."""
    Xtr, ytr, X = zoo_.dataset(seed, features, classes=classes, train=600 if zoo_.quick else 4000)
    spread = np.float32(10.0) ** np.linspace(-2, 3, features, dtype=np.float32)
    # offsets of 5 standard deviations: float32's rounding of the mean stays far below 1e-5 of one
    Xtr, X = (Xtr + np.float32(5)) * spread, (X + np.float32(5)) * spread
    scaler = StandardScaler().fit(Xtr)
    mlp = MLPClassifier(hidden_layer_sizes=hidden, random_state=seed, max_iter=30 if zoo_.quick else 200)
    pipe = Pipeline([("scaler", scaler), ("mlp", mlp)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(Xtr, ytr)
    name = "mlp_relu_%s_c%d_scaled" % ("_".join(str(h) for h in hidden), classes)
    model = mlp_classifier_onnx(mlp, features, scaler=scaler)
    label, proba = check_classifier(name, model, pipe, X)
    zoo_.add(name, "nets", "Pipeline(StandardScaler, MLPClassifier relu %s), %d classes, %d features of scales "
             "1e-2 to 1e3 around 5 standard deviations from 0, skl2onnx layout (zipmap=False): ai.onnx.ml Scaler before the layers" % (hidden, classes, features),
             model, X, {"label": label, "probabilities": proba},
             params={"hidden": list(hidden), "activation": "relu", "classes": classes, "features": features, "scaler": True})


def add_logreg(zoo_, seed, classes, features):
    Xtr, ytr, X = zoo_.dataset(seed, features, classes=classes, train=600 if zoo_.quick else 4000)
    clf = LogisticRegression(max_iter=1000).fit(Xtr, ytr)
    name = "logreg_c%d" % classes
    model = logistic_regression_onnx(clf, features)
    label, proba = check_classifier(name, model, clf, X)
    zoo_.add(name, "linear", "LogisticRegression, %d classes, %d features, skl2onnx layout (zipmap=False): "
             "LinearClassifier %s" % (classes, features, "LOGISTIC" if classes == 2 else "SOFTMAX"),
             model, X, {"label": label, "probabilities": proba},
             params={"classes": classes, "features": features})


def models(zoo_):
    for i, (activation, hidden, classes, features) in enumerate(_mlp_shapes(zoo_.quick)):
        add_mlp(zoo_, 1400 + i, activation, hidden, classes, features)
    if zoo_.quick:
        add_mlp(zoo_, 1450, "relu", (16,), 3, 10, zipmap=True)
        add_scaled_mlp(zoo_, 1455, (16,), 3, 10)
    else:
        add_mlp(zoo_, 1450, "relu", (100,), 3, 20, zipmap=True)
        add_scaled_mlp(zoo_, 1455, (100,), 3, 20)
    add_logreg(zoo_, 1460, 2, 20)
    add_logreg(zoo_, 1461, 5, 30)
