package onnx

import (
	"fmt"

	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model/onnx/internal/vecmath"
)

// The operators below turn a classifier's scores into its labels the way
// skl2onnx writes it for networks (MLPClassifier): ArgMax over each row's
// probabilities, ArrayFeatureExtractor picking the class label at that
// index from a constant array, and Reshape of the labels to a vector.

// constants are the graph's constant tensors by name: its initializers
// and the values of its Constant nodes.
type constants map[string]*onnxpb.TensorProto

func graphConstants(g *onnxpb.GraphProto) constants {
	c := constants{}
	for _, t := range g.GetInitializer() {
		c[t.GetName()] = t
	}
	for _, n := range g.GetNode() {
		if isConstantNode(n) {
			if t, ok := onnxpb.AttrTensor(n, "value"); ok {
				c[n.GetOutput()[0]] = t
			}
		}
	}
	return c
}

// isConstantNode says n is a standard Constant node with one output.
func isConstantNode(n *onnxpb.NodeProto) bool {
	return onnxpb.CanonicalDomain(n.GetDomain()) == onnxpb.DefaultDomain && n.GetOpType() == "Constant" && len(n.GetOutput()) == 1
}

// compileArgMax compiles an ArgMax over each row's columns: the index of
// the row's largest value, the first of equal ones unless
// select_last_index is set.
func compileArgMax(n *onnxpb.NodeProto, _ constants) (mlRun, error) {
	if axis := onnxpb.AttrIntOr(n, "axis", 0); axis != 1 && axis != -1 {
		return nil, fmt.Errorf("takes the largest value along axis %d; supported: axis 1, each row's columns", axis)
	}
	keep := onnxpb.AttrIntOr(n, "keepdims", 1) != 0
	last := onnxpb.AttrIntOr(n, "select_last_index", 0) != 0
	return func(in []*matrix) ([]*matrix, error) {
		x := in[0]
		if x.oneD {
			return nil, fmt.Errorf("input %q is a vector; ArgMax over axis 1 needs [N, K]", n.GetInput()[0])
		}
		out := &matrix{rows: x.rows, width: 1, oneD: !keep, i64: make([]int64, x.rows)}
		switch {
		case x.f32 != nil:
			vecmath.ArgMaxRows(x.f32, x.width, last, out.i64)
		case x.f64 != nil:
			vecmath.ArgMaxRows(x.f64, x.width, last, out.i64)
		case x.i64 != nil:
			vecmath.ArgMaxRows(x.i64, x.width, last, out.i64)
		default:
			return nil, fmt.Errorf("input %q holds strings; ArgMax needs numbers", n.GetInput()[0])
		}
		return []*matrix{out}, nil
	}, nil
}

// compileArrayFeatureExtractor compiles an ArrayFeatureExtractor whose
// data is a constant vector (a classifier's class labels) and whose
// indices are per row (ArgMax's): each index becomes the value it points
// at, in the data's element type. ONNX Runtime returns such a lookup as
// [1, N]; here it stays one value per row, as the Reshape skl2onnx
// writes after it makes it.
func compileArrayFeatureExtractor(n *onnxpb.NodeProto, consts constants) (mlRun, error) {
	ins := n.GetInput()
	if len(ins) != 2 {
		return nil, fmt.Errorf("has %d inputs; ArrayFeatureExtractor takes data and indices", len(ins))
	}
	t, ok := consts[ins[0]]
	if !ok || len(t.GetDims()) != 1 {
		return nil, fmt.Errorf("data %q is not a constant vector; supported: class labels held as a constant, indexed by each row's index", ins[0])
	}
	values, err := constantVector(t)
	if err != nil {
		return nil, fmt.Errorf("data %q: %w", ins[0], err)
	}
	return func(in []*matrix) ([]*matrix, error) {
		idx := in[1]
		if idx.i64 == nil {
			return nil, fmt.Errorf("indices %q are not INT64", ins[1])
		}
		out := &matrix{rows: idx.rows, width: idx.width, oneD: idx.oneD}
		for i, k := range idx.i64 {
			if k < 0 || int(k) >= values.width {
				return nil, fmt.Errorf("row %d: index %d is outside the %d values of %q", i/idx.width, k, values.width, ins[0])
			}
		}
		switch {
		case values.str != nil:
			out.str = pick(values.str, idx.i64)
		case values.f32 != nil:
			out.f32 = pick(values.f32, idx.i64)
		case values.f64 != nil:
			out.f64 = pick(values.f64, idx.i64)
		default:
			out.i64 = pick(values.i64, idx.i64)
		}
		return []*matrix{out}, nil
	}, nil
}

// constantVector reads a constant tensor into a matrix of one row, in its
// element type: strings, FLOAT, DOUBLE, or any integer type as INT64.
func constantVector(t *onnxpb.TensorProto) (*matrix, error) {
	v := &matrix{rows: 1}
	var err error
	switch onnxpb.DataTypeOf(t) {
	case onnxpb.TensorProto_STRING:
		v.str, err = onnxpb.TensorStrings(t)
		v.width = len(v.str)
	case onnxpb.TensorProto_FLOAT:
		v.f32, err = onnxpb.TensorFloat32s(t)
		v.width = len(v.f32)
	case onnxpb.TensorProto_DOUBLE:
		v.f64, err = onnxpb.TensorFloat64s(t)
		v.width = len(v.f64)
	default:
		v.i64, err = onnxpb.TensorInt64s(t)
		v.width = len(v.i64)
	}
	return v, err
}

// pick returns values[i] for each index i.
func pick[T any](values []T, indices []int64) []T {
	out := make([]T, len(indices))
	for i, k := range indices {
		out[i] = values[k]
	}
	return out
}

// compileReshape compiles a Reshape by a constant shape that keeps each
// row's values together (reshapeTarget, rowShape): the values stay as
// they are, and a shape of one dimension makes the output a vector.
func compileReshape(n *onnxpb.NodeProto, consts constants) (mlRun, error) {
	shape, err := reshapeTarget(n, consts)
	if err != nil {
		return nil, err
	}
	return func(in []*matrix) ([]*matrix, error) {
		x := in[0]
		if err := rowShape(shape, x.width); err != nil {
			return nil, fmt.Errorf("input %q: %w", n.GetInput()[0], err)
		}
		out := *x
		out.oneD = len(shape) == 1
		return []*matrix{&out}, nil
	}, nil
}

// reshapeTarget reads a Reshape's shape, which must be a constant whose
// first dimension is the rows' (-1 or 0) and whose others are fixed.
func reshapeTarget(n *onnxpb.NodeProto, consts constants) ([]int64, error) {
	ins := n.GetInput()
	if len(ins) != 2 {
		return nil, fmt.Errorf("has %d inputs; Reshape takes data and a shape", len(ins))
	}
	if onnxpb.AttrIntOr(n, "allowzero", 0) != 0 {
		return nil, fmt.Errorf("sets allowzero")
	}
	t, ok := consts[ins[1]]
	if !ok {
		return nil, fmt.Errorf("shape %q is not a constant", ins[1])
	}
	shape, err := onnxpb.TensorInt64s(t)
	if err != nil {
		return nil, fmt.Errorf("shape %q: %w", ins[1], err)
	}
	if len(shape) == 0 || (shape[0] != -1 && shape[0] != 0) {
		return nil, fmt.Errorf("reshapes to %v; supported: shapes whose first dimension is -1 or 0, the rows", shape)
	}
	for _, d := range shape[1:] {
		if d <= 0 {
			return nil, fmt.Errorf("reshapes to %v; supported: fixed sizes after the first dimension", shape)
		}
	}
	return shape, nil
}

// rowShape checks that reshaping [N, width] to shape, whose first
// dimension is the rows' (reshapeTarget), keeps each row's values
// together: the other dimensions multiply to width.
func rowShape(shape []int64, width int) error {
	size := int64(1)
	for _, d := range shape[1:] {
		size *= d
	}
	if size != int64(width) {
		return fmt.Errorf("reshapes rows of %d values to %v, which mixes rows", width, shape)
	}
	return nil
}
