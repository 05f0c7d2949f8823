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
	run     mlRun
	// takesColumns and takesMissing are its operator's (mlOp).
	takesColumns, takesMissing bool
}

// mlRun runs one compiled node of an ML graph on its inputs.
type mlRun = func(in []*matrix) ([]*matrix, error)

// mlOp is an operator the pure-Go ML graph runs: its domain, how a node
// of it compiles, and what its compiled node takes.
type mlOp struct {
	domain  string
	compile func(n *onnxpb.NodeProto, consts constants) (mlRun, error)
	// takesColumns: the node's run takes column matrices as well as row
	// ones (see mlgraph_columns.go).
	takesColumns bool
	// takesMissing: the operator takes NaN as a missing value, as its
	// ONNX definition says: a tree ensemble sends it down each node's
	// missing-value branch, an Imputer replaces it.
	takesMissing bool
}

// mlOperators are the operators the pure-Go ML graph runs, by operator
// type: the one list of them, which both says what is supported and
// compiles it.
var mlOperators = map[string]mlOp{
	"TreeEnsembleClassifier": {domain: onnxpb.MLDomain, compile: compileTreeClassifier, takesMissing: true},
	"TreeEnsembleRegressor":  {domain: onnxpb.MLDomain, compile: compileTreeRegressor, takesMissing: true},
	"LinearClassifier":       {domain: onnxpb.MLDomain, compile: compileLinearClassifier, takesColumns: true},
	"LinearRegressor":        {domain: onnxpb.MLDomain, compile: compileLinearRegressor, takesColumns: true},
	"Normalizer":             {domain: onnxpb.MLDomain, compile: compileNormalizer},
	"Scaler":                 {domain: onnxpb.MLDomain, compile: compileScaler},
	"Imputer":                {domain: onnxpb.MLDomain, compile: compileImputer, takesMissing: true},
	"Binarizer":              {domain: onnxpb.MLDomain, compile: compileBinarizer},
	"ZipMap":                 {domain: onnxpb.MLDomain, compile: compileZipMap},
	"ArrayFeatureExtractor":  {domain: onnxpb.MLDomain, compile: compileArrayFeatureExtractor},
	"Cast":                   {domain: onnxpb.DefaultDomain, compile: compileCast},
	"Identity":               {domain: onnxpb.DefaultDomain, compile: compileIdentity},
	"ArgMax":                 {domain: onnxpb.DefaultDomain, compile: compileArgMax},
	"Reshape":                {domain: onnxpb.DefaultDomain, compile: compileReshape},
}

// mlOperatorOf returns the ML graph's operator for n, if n's operator runs
// there.
func mlOperatorOf(n *onnxpb.NodeProto) (mlOp, bool) {
	op, ok := mlOperators[n.GetOpType()]
	return op, ok && op.domain == onnxpb.CanonicalDomain(n.GetDomain())
}

// runsOnMLGraph says n's operator is one of mlOperators.
func runsOnMLGraph(n *onnxpb.NodeProto) bool {
	_, ok := mlOperatorOf(n)
	return ok
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
		op, ok := mlOperatorOf(n)
		if !ok {
			return nil, unsupportedIn(n, mlSupportedList())
		}
		run, err := op.compile(n, consts)
		if err != nil {
			return nil, fmt.Errorf("node %q (%s): %w", n.GetName(), n.GetOpType(), err)
		}
		inputs := slices.Clone(n.GetInput())
		for i, in := range inputs {
			if _, ok := consts[in]; ok {
				inputs[i] = ""
			}
		}
		compiled = append(compiled, mlNode{name: n.GetName(), inputs: inputs, outputs: n.GetOutput(), run: run,
			takesColumns: op.takesColumns, takesMissing: op.takesMissing})
	}
	return compiled, nil
}

// compileTreeClassifier compiles a TreeEnsembleClassifier: a label and a
// score per class for each row.
func compileTreeClassifier(n *onnxpb.NodeProto, _ constants) (mlRun, error) {
	attrs, err := classifierAttrs(n)
	if err != nil {
		return nil, err
	}
	m, err := mlops.NewTreeEnsembleClassifier(attrs)
	if err != nil {
		return nil, err
	}
	return func(in []*matrix) ([]*matrix, error) { return runClassifier(m, in[0]) }, nil
}

// compileTreeRegressor compiles a TreeEnsembleRegressor: a score per
// target for each row.
func compileTreeRegressor(n *onnxpb.NodeProto, _ constants) (mlRun, error) {
	attrs, err := regressorAttrs(n)
	if err != nil {
		return nil, err
	}
	m, err := mlops.NewTreeEnsembleRegressor(attrs)
	if err != nil {
		return nil, err
	}
	return mapRows(m, func(int) int { return m.NumTargets() }), nil
}

// compileLinearClassifier compiles a LinearClassifier, which scores column
// matrices as they are and row matrices as the tree classifier does.
func compileLinearClassifier(n *onnxpb.NodeProto, _ constants) (mlRun, error) {
	a := mlops.LinearClassifierAttrs{PostTransform: onnxpb.AttrStringOr(n, "post_transform", "NONE")}
	a.Coefficients, _ = onnxpb.AttrFloats(n, "coefficients")
	a.Intercepts, _ = onnxpb.AttrFloats(n, "intercepts")
	a.ClassLabelsInts, _ = onnxpb.AttrInts(n, "classlabels_ints")
	a.ClassLabelsStrings, _ = onnxpb.AttrStrings(n, "classlabels_strings")
	m, err := mlops.NewLinearClassifier(a)
	if err != nil {
		return nil, err
	}
	return func(in []*matrix) ([]*matrix, error) {
		if in[0].cols != nil {
			return runLinearClassifierColumns(m, in[0])
		}
		return runClassifier(m, in[0])
	}, nil
}

// compileLinearRegressor compiles a LinearRegressor, which scores column
// matrices as they are and row matrices row by row.
func compileLinearRegressor(n *onnxpb.NodeProto, _ constants) (mlRun, error) {
	a := mlops.LinearRegressorAttrs{PostTransform: onnxpb.AttrStringOr(n, "post_transform", "NONE"), Targets: onnxpb.AttrIntOr(n, "targets", 1)}
	a.Coefficients, _ = onnxpb.AttrFloats(n, "coefficients")
	a.Intercepts, _ = onnxpb.AttrFloats(n, "intercepts")
	m, err := mlops.NewLinearRegressor(a)
	if err != nil {
		return nil, err
	}
	rows := mapRows(m, func(int) int { return m.NumTargets() })
	return func(in []*matrix) ([]*matrix, error) {
		if in[0].cols != nil {
			return runLinearRegressorColumns(m, in[0])
		}
		return rows(in)
	}, nil
}

// compileNormalizer compiles a Normalizer: each row scaled by its norm.
func compileNormalizer(n *onnxpb.NodeProto, _ constants) (mlRun, error) {
	m, err := mlops.NewNormalizer(onnxpb.AttrStringOr(n, "norm", "MAX"))
	if err != nil {
		return nil, err
	}
	return mapRows(m, func(features int) int { return features }), nil
}

// compileScaler compiles a Scaler: each feature offset and scaled.
func compileScaler(n *onnxpb.NodeProto, _ constants) (mlRun, error) {
	offset, _ := onnxpb.AttrFloats(n, "offset")
	scale, _ := onnxpb.AttrFloats(n, "scale")
	m, err := mlops.NewScaler(offset, scale)
	if err != nil {
		return nil, err
	}
	return mapRows(m, func(features int) int { return features }), nil
}

// compileImputer compiles an Imputer, which keeps its input's element
// type: int64 stays int64, other numbers become float32.
func compileImputer(n *onnxpb.NodeProto, _ constants) (mlRun, error) {
	a := mlops.ImputerAttrs{
		ReplacedValueFloat: onnxpb.AttrFloatOr(n, "replaced_value_float", 0),
		ReplacedValueInt64: onnxpb.AttrIntOr(n, "replaced_value_int64", 0),
	}
	a.ImputedValueFloats, _ = onnxpb.AttrFloats(n, "imputed_value_floats")
	a.ImputedValueInt64s, _ = onnxpb.AttrInts(n, "imputed_value_int64s")
	m, err := mlops.NewImputer(a)
	if err != nil {
		return nil, err
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
}

// compileBinarizer compiles a Binarizer: 1 above the threshold, else 0.
func compileBinarizer(n *onnxpb.NodeProto, _ constants) (mlRun, error) {
	threshold := onnxpb.AttrFloatOr(n, "threshold", 0)
	return func(in []*matrix) ([]*matrix, error) {
		x := in[0]
		out := &matrix{rows: x.rows, width: x.width, oneD: x.oneD, f32: make([]float32, x.rows*x.width)}
		return []*matrix{out}, mlops.Binarize(float32Input(x), threshold, out.f32)
	}, nil
}

// compileZipMap compiles a ZipMap as names for its input's columns, one
// per class: the values stay as they are.
func compileZipMap(n *onnxpb.NodeProto, _ constants) (mlRun, error) {
	ints, _ := onnxpb.AttrInts(n, "classlabels_int64s")
	strs, _ := onnxpb.AttrStrings(n, "classlabels_strings")
	z, err := mlops.NewZipMap(ints, strs)
	if err != nil {
		return nil, err
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
}

// compileIdentity compiles an Identity: its input, shared.
func compileIdentity(*onnxpb.NodeProto, constants) (mlRun, error) {
	return func(in []*matrix) ([]*matrix, error) { return in[:1], nil }, nil
}

// compileCast compiles a Cast to the element type its 'to' attribute
// names (see cast).
func compileCast(n *onnxpb.NodeProto, _ constants) (mlRun, error) {
	to, ok := onnxpb.AttrInt(n, "to")
	if !ok {
		return nil, fmt.Errorf("has no 'to' attribute")
	}
	target := onnxpb.TensorProto_DataType(to)
	return func(in []*matrix) ([]*matrix, error) {
		out, err := cast(in[0], target)
		return []*matrix{out}, err
	}, nil
}

// mlSupportedList names mlOperators as domain.operator, for errors.
func mlSupportedList() []string {
	var names []string
	for name, op := range mlOperators {
		names = append(names, op.domain+"."+name)
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
		return nil, fmt.Errorf("casting strings is not supported")
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
		return nil, fmt.Errorf("casting to %s is not supported; supported: FLOAT, DOUBLE, INT64, STRING", to)
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
