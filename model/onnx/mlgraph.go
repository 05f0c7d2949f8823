package onnx

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model/onnx/internal/mlops"
)

// matrix is a value flowing through an ML graph: rows x width, row-major,
// in one of four element types. oneD marks an [N] tensor (a label vector)
// rather than [N,K].
type matrix struct {
	rows, width int
	oneD        bool
	f32         []float32
	f64         []float64
	i64         []int64
	str         []string
	// labels names the columns of a ZipMap output, one per class.
	labels []string
	// cols, when set, holds the float32 values column by column instead
	// of f32: column j is cols[j][:rows]. Only nodes with takesColumns
	// get such a matrix (see rowMajor).
	cols [][]float32
}

// mlNode is one compiled node of an ML graph.
type mlNode struct {
	name    string
	inputs  []string
	outputs []string
	run     func(in []*matrix) ([]*matrix, error)
	// takesColumns says run takes column matrices as well as row ones.
	takesColumns bool
	// takesMissing says run takes NaN as a missing value (missingOperators).
	takesMissing bool
}

// missingOperators are the ML operators that take NaN as a missing value,
// as their ONNX definitions say: a tree ensemble sends it down each node's
// missing-value branch, an Imputer replaces it.
var missingOperators = []string{"TreeEnsembleClassifier", "TreeEnsembleRegressor", "Imputer"}

// mlOperators are the operators the pure-Go ML graph runs, by domain.
var mlOperators = map[string][]string{
	onnxpb.MLDomain: {"TreeEnsembleClassifier", "TreeEnsembleRegressor", "LinearClassifier", "LinearRegressor",
		"Normalizer", "Scaler", "Imputer", "Binarizer", "ZipMap", "ArrayFeatureExtractor"},
	onnxpb.DefaultDomain: {"Cast", "Identity", "ArgMax", "Reshape"},
}

// classifier is what the tree and linear classifiers share: a label and a
// score per class for each row.
type classifier interface {
	NumClasses() int
	LabelStrings() []string
	Predict(x []float32, rows, features int, labels []int64, scores []float32) error
	PredictFloat64(x []float64, rows, features int, labels []int64, scores []float32) error
}

// rowMapper maps each input row to a row of float scores.
type rowMapper interface {
	Predict(x []float32, rows, features int, out []float32) error
}

// compileML compiles nodes of ML operators, whose constant inputs are in
// consts, or returns the error of the first node it cannot run. Constant
// nodes are left out, and so are constant inputs (the node was given them
// when compiled): they are no values of the rows.
func compileML(nodes []*onnxpb.NodeProto, consts constants) ([]mlNode, error) {
	compiled := make([]mlNode, 0, len(nodes))
	for _, n := range nodes {
		if isConstantNode(n) {
			continue
		}
		run, err := compileMLNode(n, consts)
		if err != nil {
			return nil, err
		}
		inputs := slices.Clone(n.GetInput())
		for i, in := range inputs {
			if _, ok := consts[in]; ok {
				inputs[i] = ""
			}
		}
		takesMissing := onnxpb.CanonicalDomain(n.GetDomain()) == onnxpb.MLDomain && slices.Contains(missingOperators, n.GetOpType())
		compiled = append(compiled, mlNode{name: n.GetName(), inputs: inputs, outputs: n.GetOutput(), run: run,
			takesColumns: takesColumns(n), takesMissing: takesMissing})
	}
	return compiled, nil
}

func compileMLNode(n *onnxpb.NodeProto, consts constants) (func([]*matrix) ([]*matrix, error), error) {
	domain := onnxpb.CanonicalDomain(n.GetDomain())
	wrap := func(err error) error {
		return fmt.Errorf("node %q (%s): %w", n.GetName(), n.GetOpType(), err)
	}
	switch {
	case domain == onnxpb.DefaultDomain && n.GetOpType() == "ArgMax":
		run, err := compileArgMax(n)
		return run, wrapIf(err, wrap)
	case domain == onnxpb.MLDomain && n.GetOpType() == "ArrayFeatureExtractor":
		run, err := compileArrayFeatureExtractor(n, consts)
		return run, wrapIf(err, wrap)
	case domain == onnxpb.DefaultDomain && n.GetOpType() == "Reshape":
		run, err := compileReshape(n, consts)
		return run, wrapIf(err, wrap)
	case domain == onnxpb.MLDomain && n.GetOpType() == "TreeEnsembleClassifier":
		attrs, err := classifierAttrs(n)
		if err != nil {
			return nil, wrap(err)
		}
		m, err := mlops.NewTreeEnsembleClassifier(attrs)
		if err != nil {
			return nil, wrap(err)
		}
		return func(in []*matrix) ([]*matrix, error) { return runClassifier(m, in[0]) }, nil
	case domain == onnxpb.MLDomain && n.GetOpType() == "LinearClassifier":
		a := mlops.LinearClassifierAttrs{PostTransform: onnxpb.AttrStringOr(n, "post_transform", "NONE")}
		a.Coefficients, _ = onnxpb.AttrFloats(n, "coefficients")
		a.Intercepts, _ = onnxpb.AttrFloats(n, "intercepts")
		a.ClassLabelsInts, _ = onnxpb.AttrInts(n, "classlabels_ints")
		a.ClassLabelsStrings, _ = onnxpb.AttrStrings(n, "classlabels_strings")
		m, err := mlops.NewLinearClassifier(a)
		if err != nil {
			return nil, wrap(err)
		}
		return func(in []*matrix) ([]*matrix, error) {
			if in[0].cols != nil {
				return runLinearClassifierColumns(m, in[0])
			}
			return runClassifier(m, in[0])
		}, nil
	case domain == onnxpb.MLDomain && n.GetOpType() == "LinearRegressor":
		a := mlops.LinearRegressorAttrs{PostTransform: onnxpb.AttrStringOr(n, "post_transform", "NONE"), Targets: onnxpb.AttrIntOr(n, "targets", 1)}
		a.Coefficients, _ = onnxpb.AttrFloats(n, "coefficients")
		a.Intercepts, _ = onnxpb.AttrFloats(n, "intercepts")
		m, err := mlops.NewLinearRegressor(a)
		if err != nil {
			return nil, wrap(err)
		}
		rows := mapRows(m, func(int) int { return m.NumTargets() })
		return func(in []*matrix) ([]*matrix, error) {
			if in[0].cols != nil {
				return runLinearRegressorColumns(m, in[0])
			}
			return rows(in)
		}, nil
	case domain == onnxpb.MLDomain && n.GetOpType() == "Normalizer":
		m, err := mlops.NewNormalizer(onnxpb.AttrStringOr(n, "norm", "MAX"))
		if err != nil {
			return nil, wrap(err)
		}
		return mapRows(m, func(features int) int { return features }), nil
	case domain == onnxpb.MLDomain && n.GetOpType() == "Scaler":
		offset, _ := onnxpb.AttrFloats(n, "offset")
		scale, _ := onnxpb.AttrFloats(n, "scale")
		m, err := mlops.NewScaler(offset, scale)
		if err != nil {
			return nil, wrap(err)
		}
		return mapRows(m, func(features int) int { return features }), nil
	case domain == onnxpb.MLDomain && n.GetOpType() == "TreeEnsembleRegressor":
		attrs, err := regressorAttrs(n)
		if err != nil {
			return nil, wrap(err)
		}
		m, err := mlops.NewTreeEnsembleRegressor(attrs)
		if err != nil {
			return nil, wrap(err)
		}
		return mapRows(m, func(int) int { return m.NumTargets() }), nil
	case domain == onnxpb.MLDomain && n.GetOpType() == "Imputer":
		a := mlops.ImputerAttrs{
			ReplacedValueFloat: onnxpb.AttrFloatOr(n, "replaced_value_float", 0),
			ReplacedValueInt64: onnxpb.AttrIntOr(n, "replaced_value_int64", 0),
		}
		a.ImputedValueFloats, _ = onnxpb.AttrFloats(n, "imputed_value_floats")
		a.ImputedValueInt64s, _ = onnxpb.AttrInts(n, "imputed_value_int64s")
		m, err := mlops.NewImputer(a)
		if err != nil {
			return nil, wrap(err)
		}
		return func(in []*matrix) ([]*matrix, error) {
			x := in[0]
			out := &matrix{rows: x.rows, width: x.width, oneD: x.oneD}
			var err error
			if x.i64 != nil {
				out.i64 = make([]int64, len(x.i64))
				err = m.PredictInt64(x.i64, x.rows, x.width, out.i64)
			} else {
				out.f32 = make([]float32, x.rows*x.width)
				err = m.Predict(float32Input(x), x.rows, x.width, out.f32)
			}
			return []*matrix{out}, err
		}, nil
	case domain == onnxpb.MLDomain && n.GetOpType() == "Binarizer":
		threshold := onnxpb.AttrFloatOr(n, "threshold", 0)
		return func(in []*matrix) ([]*matrix, error) {
			x := in[0]
			out := &matrix{rows: x.rows, width: x.width, oneD: x.oneD, f32: make([]float32, x.rows*x.width)}
			return []*matrix{out}, mlops.Binarize(float32Input(x), threshold, out.f32)
		}, nil
	case domain == onnxpb.MLDomain && n.GetOpType() == "ZipMap":
		ints, _ := onnxpb.AttrInts(n, "classlabels_int64s")
		strs, _ := onnxpb.AttrStrings(n, "classlabels_strings")
		z, err := mlops.NewZipMap(ints, strs)
		if err != nil {
			return nil, wrap(err)
		}
		return func(in []*matrix) ([]*matrix, error) {
			x := in[0]
			if err := z.CheckWidth(x.width); err != nil {
				return nil, err
			}
			out := *x
			out.labels = z.Keys()
			return []*matrix{&out}, nil
		}, nil
	case domain == onnxpb.DefaultDomain && n.GetOpType() == "Identity":
		return func(in []*matrix) ([]*matrix, error) { return in[:1], nil }, nil
	case domain == onnxpb.DefaultDomain && n.GetOpType() == "Cast":
		to, ok := onnxpb.AttrInt(n, "to")
		if !ok {
			return nil, wrap(fmt.Errorf("has no 'to' attribute"))
		}
		target := onnxpb.TensorProto_DataType(to)
		return func(in []*matrix) ([]*matrix, error) {
			out, err := cast(in[0], target)
			return []*matrix{out}, err
		}, nil
	}
	return nil, unsupportedIn(n, mlSupportedList())
}

// wrapIf returns wrap(err), or nil for a nil err.
func wrapIf(err error, wrap func(error) error) error {
	if err == nil {
		return nil
	}
	return wrap(err)
}

func mlSupportedList() []string {
	var names []string
	for domain, ops := range mlOperators {
		for _, op := range ops {
			names = append(names, domain+"."+op)
		}
	}
	return names
}

// float32Input returns x as float32, converting other numbers.
func float32Input(x *matrix) []float32 {
	if x.f32 != nil {
		return x.f32
	}
	out := make([]float32, x.rows*x.width)
	for i := range out {
		switch {
		case x.f64 != nil:
			out[i] = float32(x.f64[i])
		case x.i64 != nil:
			out[i] = float32(x.i64[i])
		}
	}
	return out
}

func runClassifier(m classifier, x *matrix) ([]*matrix, error) {
	k := m.NumClasses()
	labels := make([]int64, x.rows)
	scores := make([]float32, x.rows*k)
	var err error
	if x.f64 != nil {
		err = m.PredictFloat64(x.f64, x.rows, x.width, labels, scores)
	} else {
		err = m.Predict(float32Input(x), x.rows, x.width, labels, scores)
	}
	if err != nil {
		return nil, err
	}
	return []*matrix{labelMatrix(m, labels), {rows: x.rows, width: k, f32: scores}}, nil
}

// labelMatrix is the label output of a classifier: labels as they are, or
// the label strings they index.
func labelMatrix(m classifier, labels []int64) *matrix {
	if names := m.LabelStrings(); names != nil {
		label := &matrix{rows: len(labels), width: 1, oneD: true, str: make([]string, len(labels))}
		for r, i := range labels {
			label.str[r] = names[i]
		}
		return label
	}
	return &matrix{rows: len(labels), width: 1, oneD: true, i64: labels}
}

// mapRows runs a row mapper whose output width width(features) gives. A
// mapper with a float64 path gets double input as it is, as ONNX Runtime
// computes it.
func mapRows(m rowMapper, width func(features int) int) func([]*matrix) ([]*matrix, error) {
	return func(in []*matrix) ([]*matrix, error) {
		x := in[0]
		w := width(x.width)
		out := make([]float32, x.rows*w)
		var err error
		if f, ok := m.(interface {
			PredictFloat64(x []float64, rows, features int, out []float32) error
		}); ok && x.f64 != nil {
			err = f.PredictFloat64(x.f64, x.rows, x.width, out)
		} else {
			err = m.Predict(float32Input(x), x.rows, x.width, out)
		}
		if err != nil {
			return nil, err
		}
		return []*matrix{{rows: x.rows, width: w, f32: out}}, nil
	}
}

// cast converts x's elements as ONNX Cast does for the types tabular
// models use. A cast to x's own type (skl2onnx casts its int64 labels to
// int64) is x's values, shared: no operator writes into its inputs.
func cast(x *matrix, to onnxpb.TensorProto_DataType) (*matrix, error) {
	out := &matrix{rows: x.rows, width: x.width, oneD: x.oneD}
	switch {
	case to == onnxpb.TensorProto_FLOAT && x.f32 != nil:
		out.f32 = x.f32
		return out, nil
	case to == onnxpb.TensorProto_DOUBLE && x.f64 != nil:
		out.f64 = x.f64
		return out, nil
	case to == onnxpb.TensorProto_INT64 && x.i64 != nil:
		out.i64 = x.i64
		return out, nil
	}
	n := x.rows * x.width
	get := func(i int) float64 {
		switch {
		case x.f32 != nil:
			return float64(x.f32[i])
		case x.f64 != nil:
			return x.f64[i]
		}
		return float64(x.i64[i])
	}
	if x.str != nil {
		return nil, fmt.Errorf("Cast from strings is not supported")
	}
	switch to {
	case onnxpb.TensorProto_FLOAT:
		out.f32 = make([]float32, n)
		for i := range out.f32 {
			out.f32[i] = float32(get(i))
		}
	case onnxpb.TensorProto_DOUBLE:
		out.f64 = make([]float64, n)
		for i := range out.f64 {
			out.f64[i] = get(i)
		}
	case onnxpb.TensorProto_INT64:
		out.i64 = make([]int64, n)
		for i := range out.i64 {
			out.i64[i] = mlops.CastFloatToInt64(get(i))
		}
	case onnxpb.TensorProto_STRING:
		out.str = make([]string, n)
		for i := range out.str {
			if x.i64 != nil {
				out.str[i] = strconv.FormatInt(x.i64[i], 10)
			} else {
				out.str[i] = mlops.CastFloatToString(get(i))
			}
		}
	default:
		return nil, fmt.Errorf("Cast to %s is not supported; supported: FLOAT, DOUBLE, INT64, STRING", to)
	}
	return out, nil
}

func classifierAttrs(n *onnxpb.NodeProto) (mlops.TreeEnsembleClassifierAttrs, error) {
	t, err := treeNodes(n)
	a := mlops.TreeEnsembleClassifierAttrs{TreeNodes: t}
	a.ClassTreeIDs, _ = onnxpb.AttrInts(n, "class_treeids")
	a.ClassNodeIDs, _ = onnxpb.AttrInts(n, "class_nodeids")
	a.ClassIDs, _ = onnxpb.AttrInts(n, "class_ids")
	a.ClassWeights, _ = onnxpb.AttrFloats(n, "class_weights")
	a.ClassLabelsInt64s, _ = onnxpb.AttrInts(n, "classlabels_int64s")
	a.ClassLabelsStrings, _ = onnxpb.AttrStrings(n, "classlabels_strings")
	a.BaseValues, _ = onnxpb.AttrFloats(n, "base_values")
	a.PostTransform = onnxpb.AttrStringOr(n, "post_transform", "NONE")
	return a, errors.Join(err,
		tensorFloat64s(n, "class_weights_as_tensor", &a.ClassWeightsAsTensor),
		tensorFloat64s(n, "base_values_as_tensor", &a.BaseValuesAsTensor))
}

func regressorAttrs(n *onnxpb.NodeProto) (mlops.TreeEnsembleRegressorAttrs, error) {
	t, err := treeNodes(n)
	a := mlops.TreeEnsembleRegressorAttrs{TreeNodes: t}
	a.TargetTreeIDs, _ = onnxpb.AttrInts(n, "target_treeids")
	a.TargetNodeIDs, _ = onnxpb.AttrInts(n, "target_nodeids")
	a.TargetIDs, _ = onnxpb.AttrInts(n, "target_ids")
	a.TargetWeights, _ = onnxpb.AttrFloats(n, "target_weights")
	a.NTargets = onnxpb.AttrIntOr(n, "n_targets", 1)
	a.BaseValues, _ = onnxpb.AttrFloats(n, "base_values")
	a.AggregateFunction = onnxpb.AttrStringOr(n, "aggregate_function", "SUM")
	a.PostTransform = onnxpb.AttrStringOr(n, "post_transform", "NONE")
	return a, errors.Join(err,
		tensorFloat64s(n, "target_weights_as_tensor", &a.TargetWeightsAsTensor),
		tensorFloat64s(n, "base_values_as_tensor", &a.BaseValuesAsTensor))
}

func treeNodes(n *onnxpb.NodeProto) (mlops.TreeNodes, error) {
	var t mlops.TreeNodes
	t.NodesTreeIDs, _ = onnxpb.AttrInts(n, "nodes_treeids")
	t.NodesNodeIDs, _ = onnxpb.AttrInts(n, "nodes_nodeids")
	t.NodesFeatureIDs, _ = onnxpb.AttrInts(n, "nodes_featureids")
	t.NodesModes, _ = onnxpb.AttrStrings(n, "nodes_modes")
	t.NodesValues, _ = onnxpb.AttrFloats(n, "nodes_values")
	t.NodesTrueNodeIDs, _ = onnxpb.AttrInts(n, "nodes_truenodeids")
	t.NodesFalseNodeIDs, _ = onnxpb.AttrInts(n, "nodes_falsenodeids")
	t.NodesMissingValueTracksTrue, _ = onnxpb.AttrInts(n, "nodes_missing_value_tracks_true")
	return t, tensorFloat64s(n, "nodes_values_as_tensor", &t.NodesValuesAsTensor)
}

// tensorFloat64s reads a tensor attribute into dst, leaving it nil when the
// attribute is absent.
func tensorFloat64s(n *onnxpb.NodeProto, name string, dst *[]float64) error {
	t, ok := onnxpb.AttrTensor(n, name)
	if !ok {
		return nil
	}
	v, err := onnxpb.TensorFloat64s(t)
	if err != nil {
		return fmt.Errorf("attribute %s: %w", name, err)
	}
	*dst = v
	return nil
}
