// Package mlops implements the operators of ONNX's ai.onnx.ml domain that
// tabular models exported to ONNX depend on: TreeEnsembleClassifier,
// TreeEnsembleRegressor, LinearClassifier, LinearRegressor, Normalizer,
// Scaler, Binarizer, Imputer, ZipMap (as column names) and the float
// formatting of Cast.
//
// onnx-go implements none of them, and exporters (skl2onnx, onnxmltools for
// XGBoost, LightGBM and CatBoost) emit them for nearly every tree or linear
// model, so this package fills the gap in pure Go.
//
// The reference is ONNX Runtime's CPU implementation (1.30), not only the
// ONNX specification: the runner's fixtures are ONNX Runtime's outputs, and
// where the two disagree (the two-class classifiers, transforms ONNX Runtime
// silently skips) this package follows ONNX Runtime and says so in the doc
// comment of the operator. It refuses, with an error naming the attribute
// and index, the few models that ONNX Runtime runs but that make no sense:
// unknown enum names, which ONNX Runtime maps to some default; tree nodes
// that cannot be reached from the tree's first node, which ONNX Runtime
// takes as the root and ignores the rest; a tree whose nodes are not
// listed together, which it counts twice; and outputs it writes out of
// place.
//
// The package knows nothing of protobuf: constructors take the operator's
// attributes as plain Go values, named after the ONNX attributes, and
// validate them once. Predict methods read a row-major matrix and write
// into buffers the caller owns, so a runner can reuse them batch after
// batch. An operator holds no mutable state after construction; its methods
// are safe to call from several goroutines, though the engine calls each
// instance from one executor only.
package mlops
