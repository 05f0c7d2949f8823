"""The zoo's tree ensembles: scikit-learn's gradient boosting and random forests as skl2onnx
writes them, and HistGradientBoosting models written as onnxmltools writes a LightGBM or an
XGBoost model (leaf-wise, unbalanced trees with learned missing-value branches), each checked
against scikit-learn before zoo.add.

The conversions reuse tools/onnxfixtures/make_models.py's Ensemble (sklearn trees to
ai.onnx.ml attributes) and build_model. Its evaluator walks one row at a time in Python, too
slow for the zoo's rows, so evaluate() here walks every row at once with numpy, reading the
converted node's attributes with ONNX Runtime's semantics (float32 comparisons, NaN where
nodes_missing_value_tracks_true sends it).
"""

import os
import sys

import numpy as np
from onnx import TensorProto, helper
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "onnxfixtures"))
from make_models import Ensemble, build_model, check_close, sigmoid, softmax, tinfo  # noqa: E402

COMPARE = {
    "BRANCH_LEQ": np.less_equal,
    "BRANCH_LT": np.less,
    "BRANCH_GTE": np.greater_equal,
    "BRANCH_GT": np.greater,
}


def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def evaluate(node, X, outputs):
    """Raw per-output sums of a TreeEnsemble node's leaf weights for every row of X (float64
    sums of float32 weights), before base values, aggregation and transforms."""
    a = attrs(node)
    prefix = "class" if node.op_type == "TreeEnsembleClassifier" else "target"
    tree_ids = np.asarray(a["nodes_treeids"])
    node_ids = np.asarray(a["nodes_nodeids"])
    index = {(t, n): i for i, (t, n) in enumerate(zip(tree_ids.tolist(), node_ids.tolist()))}
    true = np.array([index[(t, n)] for t, n in zip(tree_ids.tolist(), a["nodes_truenodeids"])])
    false = np.array([index[(t, n)] for t, n in zip(tree_ids.tolist(), a["nodes_falsenodeids"])])
    modes = [m.decode() for m in a["nodes_modes"]]
    leaf = np.array([m == "LEAF" for m in modes])
    mode_of = {m: np.array([x == m for x in modes]) for m in COMPARE}
    feature = np.asarray(a["nodes_featureids"])
    threshold = np.asarray(a["nodes_values"], dtype=np.float32)
    missing = np.asarray(a.get("nodes_missing_value_tracks_true", [0] * len(modes))) == 1
    weights = np.zeros((len(modes), outputs))
    for t, n, k, w in zip(a[prefix + "_treeids"], a[prefix + "_nodeids"], a[prefix + "_ids"], a[prefix + "_weights"]):
        weights[index[(t, n)], k] += np.float32(w)
    roots = np.array([i for i in range(len(modes)) if i == 0 or tree_ids[i] != tree_ids[i - 1]])
    X = np.asarray(X, dtype=np.float32)
    rows = np.arange(X.shape[0])
    S = np.zeros((X.shape[0], outputs))
    for root in roots:
        at = np.full(X.shape[0], root)
        while not leaf[at].all():
            v = X[rows, feature[at]]
            go = np.zeros(X.shape[0], dtype=bool)
            with np.errstate(invalid="ignore"):
                for m, op in COMPARE.items():
                    sel = mode_of[m][at]
                    go[sel] = op(v[sel], threshold[at][sel])
            go |= np.isnan(v) & missing[at]
            at = np.where(leaf[at], at, np.where(go, true[at], false[at]))
        S += weights[at]
    return S


def check_labels(name, got, want):
    # a row whose top scores tie within float rounding may go either way
    wrong = int(np.sum(np.asarray(got) != np.asarray(want)))
    if wrong > max(1, len(want) // 10000):
        raise SystemExit(f"zoo: {name}: the conversion's labels differ from scikit-learn's on {wrong} rows")


def classifier_model(name, node, features, classes, doc):
    return build_model(
        name, [node],
        [tinfo("input", TensorProto.FLOAT, ["N", features])],
        [tinfo("label", TensorProto.INT64, ["N"]), tinfo("probabilities", TensorProto.FLOAT, ["N", classes])],
        ml=True, doc=doc)


def regressor_model(name, node, features, doc):
    return build_model(
        name, [node],
        [tinfo("input", TensorProto.FLOAT, ["N", features])],
        [tinfo("variable", TensorProto.FLOAT, ["N", 1])],
        ml=True, doc=doc)


# --------------------------------------------------------------------------------------------
# scikit-learn's ensembles as skl2onnx writes them


def gbm_classifier(zoo, name, seed, features, classes, stages, depth):
    Xtr, ytr, X = zoo.dataset(seed, features, classes=classes)
    clf = GradientBoostingClassifier(n_estimators=stages, max_depth=depth, learning_rate=0.1, random_state=0).fit(Xtr, ytr)
    K = 1 if classes == 2 else classes
    ens = Ensemble()
    for i in range(clf.n_estimators_):
        for k in range(K):
            est = clf.estimators_[i, k]
            ens.add_sklearn_tree(i * K + k, est, lambda leaf, est=est, k=k: [(k, est.tree_.value[leaf, 0, 0] * clf.learning_rate)])
    base = clf._raw_predict_init(X[:1])[0]
    post = "LOGISTIC" if classes == 2 else "SOFTMAX"
    node = ens.classifier("input", ["label", "probabilities"], list(range(classes)), post, base_values=base)
    S = evaluate(node, X, K) + base
    proba = clf.predict_proba(X)
    check_close(f"zoo: {name}: probabilities", sigmoid(S[:, 0]) if classes == 2 else softmax(S), proba[:, 1] if classes == 2 else proba, 1e-5)
    label = (S[:, 0] > 0).astype(np.int64) if classes == 2 else S.argmax(axis=1)
    check_labels(name, label, clf.predict(X))
    desc = (f"GradientBoostingClassifier {classes} classes, {clf.n_estimators_} stages x {K} trees, depth {depth}, "
            f"{features} features, as skl2onnx writes it ({post}, base_values = prior)")
    zoo.add(name, "trees", desc, classifier_model(name, node, features, classes, desc), X,
            {"label": clf.predict(X).astype(np.int64), "probabilities": proba.astype(np.float32)},
            tolerance=1e-4, params={"kind": "gbm", "trees": clf.n_estimators_ * K, "depth": depth, "classes": classes})


def gbm_regressor(zoo, name, seed, features, stages, depth):
    Xtr, ytr, X = zoo.dataset(seed, features)
    gbr = GradientBoostingRegressor(n_estimators=stages, max_depth=depth, learning_rate=0.1, random_state=0).fit(Xtr, ytr)
    ens = Ensemble()
    for i in range(gbr.n_estimators_):
        est = gbr.estimators_[i, 0]
        ens.add_sklearn_tree(i, est, lambda leaf, est=est: [(0, est.tree_.value[leaf, 0, 0] * gbr.learning_rate)])
    base = gbr._raw_predict_init(X[:1])[0]
    node = ens.regressor("input", "variable", 1, base_values=[base[0]])
    pred = gbr.predict(X)
    check_close(f"zoo: {name}: predictions", evaluate(node, X, 1)[:, 0] + base[0], pred, 1e-6 * max(1.0, np.abs(pred).max()))
    desc = (f"GradientBoostingRegressor, {gbr.n_estimators_} trees, depth {depth}, {features} features, "
            "as skl2onnx writes it (SUM, base_values = mean)")
    zoo.add(name, "trees", desc, regressor_model(name, node, features, desc), X,
            {"variable": pred.reshape(-1, 1).astype(np.float32)},
            tolerance=1e-4, params={"kind": "gbm", "trees": gbr.n_estimators_, "depth": depth})


def rf_classifier(zoo, name, seed, features, classes, trees, depth):
    Xtr, ytr, X = zoo.dataset(seed, features, classes=classes)
    rf = RandomForestClassifier(n_estimators=trees, max_depth=depth, random_state=0, n_jobs=1).fit(Xtr, ytr)
    n = len(rf.estimators_)
    ens = Ensemble()
    for t, est in enumerate(rf.estimators_):
        def leaf_weights(leaf, est=est):
            v = est.tree_.value[leaf, 0, :]
            if classes == 2:  # one class id carrying P(class 1), as make_models' trees_rf_binary
                return [(0, v[1] / v.sum() / n)]
            return [(k, v[k] / v.sum() / n) for k in range(classes)]
        ens.add_sklearn_tree(t, est, leaf_weights)
    node = ens.classifier("input", ["label", "probabilities"], list(range(classes)), "NONE")
    K = 1 if classes == 2 else classes
    S = evaluate(node, X, K)
    proba = rf.predict_proba(X)
    check_close(f"zoo: {name}: probabilities", S[:, 0] if classes == 2 else S, proba[:, 1] if classes == 2 else proba, 1e-5)
    desc = (f"RandomForestClassifier {classes} classes, {n} trees, depth {depth}, {features} features, "
            "as skl2onnx writes it (class fractions / trees, NONE)")
    zoo.add(name, "trees", desc, classifier_model(name, node, features, classes, desc), X,
            {"label": rf.predict(X).astype(np.int64), "probabilities": proba.astype(np.float32)},
            tolerance=1e-4, params={"kind": "rf", "trees": n, "depth": depth, "classes": classes})


def rf_regressor(zoo, name, seed, features, trees, depth):
    Xtr, ytr, X = zoo.dataset(seed, features)
    rf = RandomForestRegressor(n_estimators=trees, max_depth=depth, random_state=0, n_jobs=1).fit(Xtr, ytr)
    ens = Ensemble()
    for t, est in enumerate(rf.estimators_):
        ens.add_sklearn_tree(t, est, lambda leaf, est=est: [(0, est.tree_.value[leaf, 0, 0])])
    node = ens.regressor("input", "variable", 1, aggregate="AVERAGE")
    pred = rf.predict(X)
    check_close(f"zoo: {name}: predictions", evaluate(node, X, 1)[:, 0] / len(rf.estimators_), pred, 1e-6 * max(1.0, np.abs(pred).max()))
    desc = (f"RandomForestRegressor, {trees} trees, depth {depth}, {features} features, "
            "as skl2onnx writes it (AVERAGE)")
    zoo.add(name, "trees", desc, regressor_model(name, node, features, desc), X,
            {"variable": pred.reshape(-1, 1).astype(np.float32)},
            tolerance=1e-4, params={"kind": "rf", "trees": trees, "depth": depth})


# --------------------------------------------------------------------------------------------
# HistGradientBoosting trees as onnxmltools writes LightGBM and XGBoost models


def f32_at_most(t):
    """The largest float32 <= t: for float32 x, x <= t exactly when x <= f32_at_most(t)."""
    f = np.float32(t)
    if float(f) > t:
        f = np.nextafter(f, np.float32(-np.inf))
    return f


def add_hist_tree(ens, tree_id, predictor, target, style):
    """One HistGradientBoosting TreePredictor. style "lightgbm": BRANCH_LEQ, x <= t goes to the
    true (left) child; "xgboost": BRANCH_LT with the next float32 above t, which sends the same
    float32 values left. nodes_missing_value_tracks_true is missing_go_to_left either way."""
    for i, nd in enumerate(predictor.nodes):
        if nd["is_leaf"]:
            ens.add_node(tree_id, i, "LEAF")
            ens.add_weight(tree_id, i, target, nd["value"])
            continue
        if nd["is_categorical"]:
            raise SystemExit("zoo: categorical splits have no BRANCH_LEQ form")
        t = f32_at_most(float(nd["num_threshold"]))
        mode = "BRANCH_LEQ"
        if style == "xgboost":
            t, mode = np.nextafter(t, np.float32(np.inf)), "BRANCH_LT"
        ens.add_node(tree_id, i, mode, int(nd["feature_idx"]), t, int(nd["left"]), int(nd["right"]), int(nd["missing_go_to_left"]))


def hist_ensemble(model, style):
    K = model.n_trees_per_iteration_
    ens = Ensemble()
    for i, per_class in enumerate(model._predictors):
        for k, predictor in enumerate(per_class):
            add_hist_tree(ens, i * K + k, predictor, k, style)
    return ens, K


def max_depth(model):
    return int(max(p.nodes["depth"].max() for per_class in model._predictors for p in per_class))


def hist_classifier(zoo, name, seed, features, classes, iterations, style):
    Xtr, ytr, X = zoo.dataset(seed, features, classes=classes, missing=0.05)
    clf = HistGradientBoostingClassifier(max_iter=iterations, max_leaf_nodes=31, learning_rate=0.1,
                                         early_stopping=False, random_state=0).fit(Xtr, ytr)
    ens, K = hist_ensemble(clf, style)
    base = clf._baseline_prediction.reshape(-1)
    post = "LOGISTIC" if classes == 2 else "SOFTMAX"
    node = ens.classifier("input", ["label", "probabilities"], list(range(classes)), post, base_values=base,
                          with_missing=True)
    S = evaluate(node, X, K) + base
    proba = clf.predict_proba(X)
    check_close(f"zoo: {name}: probabilities", sigmoid(S[:, 0]) if classes == 2 else softmax(S), proba[:, 1] if classes == 2 else proba, 1e-5)
    label = (S[:, 0] > 0).astype(np.int64) if classes == 2 else S.argmax(axis=1)
    check_labels(name, label, clf.predict(X))
    depth = max_depth(clf)
    shape = "LightGBM (BRANCH_LEQ" if style == "lightgbm" else "XGBoost (BRANCH_LT"
    desc = (f"HistGradientBoostingClassifier {classes} classes, {clf.n_iter_} iterations x {K} trees, "
            f"31 leaves (depth <= {depth}), {features} features, 5% NaN, as onnxmltools writes a {shape}, "
            f"missing values tracked, {post}, base_values = baseline)")
    zoo.add(name, "trees", desc, classifier_model(name, node, features, classes, desc), X,
            {"label": clf.predict(X).astype(np.int64), "probabilities": proba.astype(np.float32)},
            tolerance=1e-4, params={"kind": style, "trees": clf.n_iter_ * K, "depth": depth, "leaves": 31,
                                    "classes": classes})


def hist_regressor(zoo, name, seed, features, iterations, style):
    Xtr, ytr, X = zoo.dataset(seed, features, missing=0.05)
    reg = HistGradientBoostingRegressor(max_iter=iterations, max_leaf_nodes=31, learning_rate=0.1,
                                        early_stopping=False, random_state=0).fit(Xtr, ytr)
    ens, _ = hist_ensemble(reg, style)
    base = reg._baseline_prediction.reshape(-1)
    node = ens.regressor("input", "variable", 1, base_values=base, with_missing=True)
    pred = reg.predict(X)
    check_close(f"zoo: {name}: predictions", evaluate(node, X, 1)[:, 0] + base[0], pred, 1e-6 * max(1.0, np.abs(pred).max()))
    depth = max_depth(reg)
    shape = "LightGBM (BRANCH_LEQ" if style == "lightgbm" else "XGBoost (BRANCH_LT"
    desc = (f"HistGradientBoostingRegressor, {reg.n_iter_} trees, 31 leaves (depth <= {depth}), {features} "
            f"features, 5% NaN, as onnxmltools writes a {shape}, missing values tracked, base_values = base score)")
    zoo.add(name, "trees", desc, regressor_model(name, node, features, desc), X,
            {"variable": pred.reshape(-1, 1).astype(np.float32)},
            tolerance=1e-4, params={"kind": style, "trees": reg.n_iter_, "depth": depth, "leaves": 31})


def models(zoo):
    q = zoo.quick
    with threadpool_limits(1):
        gbm_classifier(zoo, "gbm_binary", 4101, 20, 2, 20 if q else 200, 3)
        gbm_classifier(zoo, "gbm_3class", 4102, 30, 3, 10 if q else 100, 3)
        gbm_classifier(zoo, "gbm_10class", 4103, 20, 10, 5 if q else 50, 3)
        gbm_regressor(zoo, "gbm_regressor", 4104, 10, 20 if q else 300, 5)
        rf_classifier(zoo, "rf_binary", 4105, 30, 2, 10 if q else 100, 10)
        rf_classifier(zoo, "rf_3class", 4106, 20, 3, 10 if q else 100, 8)
        rf_regressor(zoo, "rf_regressor", 4107, 20, 10 if q else 100, 12)
        hist_classifier(zoo, "lgbm_binary", 4108, 30, 2, 20 if q else 200, "lightgbm")
        hist_classifier(zoo, "lgbm_5class", 4109, 20, 5, 10 if q else 60, "lightgbm")
        hist_regressor(zoo, "lgbm_regressor", 4110, 50, 20 if q else 200, "lightgbm")
        hist_classifier(zoo, "xgb_binary", 4111, 30, 2, 20 if q else 200, "xgboost")
