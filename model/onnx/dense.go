package onnx

import (
	"fmt"
	"sync"

	"github.com/dfbatch/dfbatch/model/onnx/onnxpb"
	onnxgo "github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	"gorgonia.org/tensor"
)

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

// tensorSpec is one graph input or output: its name, element type and
// width (the product of its dimensions after the batch dimension).
type tensorSpec struct {
	name  string
	elem  onnxpb.TensorProto_DataType
	dtype tensor.Dtype
	width int
	// dims are the dimensions after the batch dimension.
	dims []int
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
