package onnx

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/dfbatch/dfbatch/model/onnx/mlops"
	"github.com/dfbatch/dfbatch/model/onnx/onnxpb"
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
}

// mlNode is one compiled node of an ML graph.
type mlNode struct {
	name    string
	inputs  []string
	outputs []string
	run     func(in []*matrix) ([]*matrix, error)
}

// mlOperators are the operators the pure-Go ML graph runs, by domain.
var mlOperators = map[string][]string{
	onnxpb.MLDomain:      {"TreeEnsembleClassifier", "TreeEnsembleRegressor", "ZipMap"},
	onnxpb.DefaultDomain: {"Cast", "Identity"},
}

// compileML compiles a graph of ML operators, or returns the error of the
// first node it cannot run.
func compileML(g *onnxpb.GraphProto) ([]mlNode, error) {
	nodes := make([]mlNode, 0, len(g.GetNode()))
	for _, n := range g.GetNode() {
		run, err := compileMLNode(n)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, mlNode{name: n.GetName(), inputs: n.GetInput(), outputs: n.GetOutput(), run: run})
	}
	return nodes, nil
}

func compileMLNode(n *onnxpb.NodeProto) (func([]*matrix) ([]*matrix, error), error) {
	domain := onnxpb.CanonicalDomain(n.GetDomain())
	wrap := func(err error) error {
		return fmt.Errorf("node %q (%s): %w", n.GetName(), n.GetOpType(), err)
	}
	switch {
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
	case domain == onnxpb.MLDomain && n.GetOpType() == "TreeEnsembleRegressor":
		attrs, err := regressorAttrs(n)
		if err != nil {
			return nil, wrap(err)
		}
		m, err := mlops.NewTreeEnsembleRegressor(attrs)
		if err != nil {
			return nil, wrap(err)
		}
		return func(in []*matrix) ([]*matrix, error) { return runRegressor(m, in[0]) }, nil
	case domain == onnxpb.MLDomain && n.GetOpType() == "ZipMap":
		labels, err := zipMapLabels(n)
		if err != nil {
			return nil, wrap(err)
		}
		return func(in []*matrix) ([]*matrix, error) {
			x := in[0]
			if x.f32 == nil || x.width != len(labels) {
				return nil, fmt.Errorf("ZipMap takes [N,%d] float scores, got [%d,%d]", len(labels), x.rows, x.width)
			}
			out := *x
			out.labels = labels
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

func mlSupportedList() []string {
	var names []string
	for domain, ops := range mlOperators {
		for _, op := range ops {
			names = append(names, domain+"."+op)
		}
	}
	return names
}

// float32Input returns x as float32, converting integer inputs.
func float32Input(x *matrix) []float32 {
	switch {
	case x.f32 != nil:
		return x.f32
	case x.i64 != nil:
		out := make([]float32, len(x.i64))
		for i, v := range x.i64 {
			out[i] = float32(v)
		}
		return out
	}
	return nil
}

func runClassifier(m *mlops.TreeEnsembleClassifier, x *matrix) ([]*matrix, error) {
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
	label := &matrix{rows: x.rows, width: 1, oneD: true, i64: labels}
	if names := m.LabelStrings(); names != nil {
		label = &matrix{rows: x.rows, width: 1, oneD: true, str: make([]string, x.rows)}
		for r, i := range labels {
			label.str[r] = names[i]
		}
	}
	return []*matrix{label, {rows: x.rows, width: k, f32: scores}}, nil
}

func runRegressor(m *mlops.TreeEnsembleRegressor, x *matrix) ([]*matrix, error) {
	out := make([]float32, x.rows*m.NumTargets())
	var err error
	if x.f64 != nil {
		err = m.PredictFloat64(x.f64, x.rows, x.width, out)
	} else {
		err = m.Predict(float32Input(x), x.rows, x.width, out)
	}
	if err != nil {
		return nil, err
	}
	return []*matrix{{rows: x.rows, width: m.NumTargets(), f32: out}}, nil
}

// zipMapLabels are the column suffixes a ZipMap gives its classes.
func zipMapLabels(n *onnxpb.NodeProto) ([]string, error) {
	if s, ok := onnxpb.AttrStrings(n, "classlabels_strings"); ok {
		return s, nil
	}
	ints, ok := onnxpb.AttrInts(n, "classlabels_int64s")
	if !ok {
		return nil, fmt.Errorf("has neither classlabels_strings nor classlabels_int64s")
	}
	labels := make([]string, len(ints))
	for i, v := range ints {
		labels[i] = strconv.FormatInt(v, 10)
	}
	return labels, nil
}

// cast converts x's elements as ONNX Cast does for the types tabular
// models use.
func cast(x *matrix, to onnxpb.TensorProto_DataType) (*matrix, error) {
	out := &matrix{rows: x.rows, width: x.width, oneD: x.oneD}
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
			out.i64[i] = int64(get(i)) // truncation toward zero, as ONNX Runtime
		}
	default:
		return nil, fmt.Errorf("Cast to %s is not supported; supported: FLOAT, DOUBLE, INT64", to)
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
