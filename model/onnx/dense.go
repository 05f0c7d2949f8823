//go:build !cuda

package onnx

// The gorgonia fallback: graphs of standard operators that the compiled
// plan (plan.go) cannot take run on gorgonia through onnx-go's gorgonnx
// backend. It is the slow path, kept for the operators and shapes the plan
// lacks: on DESIGN.md's MLP, gorgonnx scores about 0.5M rows/s where ONNX
// Runtime, which the plan matches, scores about 5M. Builds with the cuda tag
// leave it out (dense_cuda.go).

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"

	"github.com/dfbatch/dfbatch/internal/onnxpb"
	onnxgo "github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	"gorgonia.org/tensor"
)

// fallbackName names the runtime of graphs the compiled plan cannot take.
const fallbackName = "gorgonia"

// loadFallback builds an executor's instance of a graph the compiled plan
// cannot take, on gorgonia.
func (l *Loader) loadFallback() (model.Model, error) {
	return &denseModel{l: l, graph: &denseGraph{model: l.data, inputs: l.inputs, graphs: map[int]*gorgoniaGraph{}}}, nil
}

// denseModel is one executor's instance of a model of standard operators.
type denseModel struct {
	l     *Loader
	graph *denseGraph
}

// Predict scores in; the columns take Options' names.
func (m *denseModel) Predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	return predict(m.l, m, in)
}

// predictRaw fills the graph's inputs from the frame's columns, runs it and
// turns each output into columns.
func (m *denseModel) predictRaw(in *frame.Frame) ([]frame.Column, error) {
	outs, err := m.graph.run(in.NumRows(), func(i int, buf any) error {
		cols := m.l.inputColumns(i)
		var err error
		switch b := buf.(type) {
		case []float32:
			_, err = in.Float32Matrix(b, cols...)
		case []float64:
			_, err = in.Float64Matrix(b, cols...)
		default:
			err = fmt.Errorf("input %q: unexpected buffer %T", m.l.inputs[i].name, buf)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	values := make([]*matrix, len(outs))
	for i, t := range outs {
		if values[i], err = fromTensor(t, in.NumRows()); err != nil {
			return nil, fmt.Errorf("output %q: %w", m.l.outputs[i], err)
		}
	}
	return m.l.columns(values), nil
}

// fromTensor copies a gorgonia output, whose buffer the graph reuses.
func fromTensor(t tensor.Tensor, rows int) (*matrix, error) {
	shape := t.Shape()
	if len(shape) == 0 || shape[0] != rows {
		return nil, fmt.Errorf("has shape %v for %d input rows", shape, rows)
	}
	out := &matrix{rows: rows, width: 1, oneD: len(shape) == 1}
	for _, d := range shape[1:] {
		out.width *= d
	}
	switch data := t.Data().(type) {
	case []float32:
		out.f32 = slices.Clone(data[:rows*out.width])
	case []float64:
		out.f64 = slices.Clone(data[:rows*out.width])
	default:
		return nil, fmt.Errorf("has element type %T; expected float32 or float64", t.Data())
	}
	return out, nil
}

// checkFallback checks that gorgonia can run a graph the compiled plan
// cannot take (why).
func (l *Loader) checkFallback(g *onnxpb.GraphProto, why *errNotPlanned) error {
	supported := slices.Concat(planOperators, gorgonnxOperators)
	slices.Sort(supported)
	for _, n := range g.GetNode() {
		if onnxpb.CanonicalDomain(n.GetDomain()) != onnxpb.DefaultDomain || !slices.Contains(gorgonnxOperators, n.GetOpType()) {
			if !slices.Contains(planOperators, n.GetOpType()) {
				return unsupportedIn(n, slices.Compact(supported))
			}
			return fmt.Errorf("operator %s of node %q needs the compiled plan, which cannot run this graph: %w", n.GetOpType(), n.GetName(), why)
		}
	}
	for _, in := range l.inputs {
		if in.elem == onnxpb.TensorProto_INT64 {
			return fmt.Errorf("input %q is INT64, which only the compiled plan reads (through a Cast to float), and it cannot run this graph: %w", in.name, why)
		}
	}
	return nil
}

// gorgonnxOperators are the standard-domain operators onnx-go v0.5.0's
// gorgonia backend implements (its registry is unexported, so this mirrors
// backend/x/gorgonnx's register calls).
var gorgonnxOperators = []string{
	"Abs", "Add", "BatchNormalization", "Ceil", "Concat", "Constant", "Conv", "Cos", "Cube", "Div",
	"Dropout", "Exp", "Expm1", "Flatten", "Floor", "Gemm", "GlobalAveragePool", "Identity",
	"ImageScaler", "Inverse", "LeakyRelu", "Log", "Log1p", "Log2", "MatMul", "Max", "MaxPool", "Min",
	"Mul", "Neg", "Relu", "Reshape", "Sigmoid", "Sign", "Sin", "Softmax", "Softplus", "Sqrt", "Square",
	"Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze",
}

// buildMu serializes gorgonia graph building: gorgonnx names graph nodes
// from an unsynchronized package-level counter, so executors building
// graphs at once race and can produce duplicate node names.
var buildMu sync.Mutex

// maxDenseGraphs bounds the graphs one executor keeps: usually two row
// counts occur, a full batch and the last, shorter one.
const maxDenseGraphs = 4

// denseGraph runs a graph of standard operators on gorgonia through
// onnx-go, for one executor. gorgonnx builds its graph for the shape of the
// first input it sees and silently reuses it for any later shape, so
// denseGraph keeps one graph per row count, each with input tensors of its
// own that every call fills in place.
type denseGraph struct {
	model  []byte
	inputs []tensorSpec
	graphs map[int]*gorgoniaGraph
}

type gorgoniaGraph struct {
	model   *onnxgo.Model
	backend *gorgonnx.Graph
	inputs  []*tensor.Dense
}

// run scores rows rows; fill writes input i's values, row-major, into the
// buffer it is given (a []float32 or []float64 per the input's dtype).
func (d *denseGraph) run(rows int, fill func(i int, buf any) error) ([]tensor.Tensor, error) {
	g, ok := d.graphs[rows]
	if !ok {
		var err error
		if g, err = d.newGraph(rows); err != nil {
			return nil, err
		}
	}
	for i, in := range g.inputs {
		if err := fill(i, in.Data()); err != nil {
			return nil, err
		}
	}
	if !ok {
		buildMu.Lock()
		err := g.backend.PopulateExprgraph()
		buildMu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("building the gorgonia graph for %d rows: %w", rows, err)
		}
		if len(d.graphs) == maxDenseGraphs {
			for k := range d.graphs {
				delete(d.graphs, k)
				break
			}
		}
		d.graphs[rows] = g
	}
	if err := g.backend.Run(); err != nil {
		return nil, fmt.Errorf("running the gorgonia graph: %w", err)
	}
	return g.model.GetOutputTensors()
}

// newGraph decodes the model afresh with input tensors of rows rows.
func (d *denseGraph) newGraph(rows int) (*gorgoniaGraph, error) {
	backend := gorgonnx.NewGraph()
	m := onnxgo.NewModel(backend)
	buildMu.Lock()
	err := m.UnmarshalBinary(d.model)
	buildMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("decoding the model with onnx-go: %w", err)
	}
	g := &gorgoniaGraph{model: m, backend: backend, inputs: make([]*tensor.Dense, len(d.inputs))}
	for i, spec := range d.inputs {
		shape := append([]int{rows}, spec.dims...)
		t := tensor.New(tensor.WithShape(shape...), tensor.Of(spec.dtype))
		if err := m.SetInput(i, t); err != nil {
			return nil, fmt.Errorf("input %q: %w", spec.name, err)
		}
		g.inputs[i] = t
	}
	return g, nil
}
