package onnx

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/onnx/onnxpb"
	"gorgonia.org/tensor"
)

// specOf reads a graph input's or output's element type and the
// dimensions after its batch dimension.
func specOf(v *onnxpb.ValueInfoProto) (tensorSpec, error) {
	dims, _, elem, ok := onnxpb.ShapeOf(v)
	if !ok {
		return tensorSpec{}, fmt.Errorf("has no tensor type")
	}
	spec := tensorSpec{name: v.GetName(), width: 1}
	switch elem {
	case onnxpb.TensorProto_FLOAT:
		spec.dtype = tensor.Float32
	case onnxpb.TensorProto_DOUBLE:
		spec.dtype = tensor.Float64
	default:
		return spec, fmt.Errorf("has element type %s; the gorgonia runner takes float and double tensors", elem)
	}
	if len(dims) == 0 {
		return spec, fmt.Errorf("is a scalar; a batch input needs a leading batch dimension")
	}
	for _, d := range dims[1:] {
		if d < 0 {
			spec.width = -1
			spec.dims = nil
			break
		}
		spec.dims = append(spec.dims, int(d))
		spec.width *= int(d)
	}
	return spec, nil
}

// Load builds the model instance of one executor.
func (l *Loader) Load(ctx context.Context, exec model.Executor) (model.Model, error) {
	return &denseModel{l: l, graph: &denseGraph{model: l.data, inputs: l.inputs, graphs: map[int]*gorgoniaGraph{}}}, nil
}

// OutputSchema returns the output columns, so that a run over no rows still
// has them.
func (l *Loader) OutputSchema(*arrow.Schema) (*arrow.Schema, error) {
	var fields []arrow.Field
	for _, out := range l.outputs {
		if out.width < 0 {
			return nil, fmt.Errorf("output %q has a dynamic width, known only once the model runs", out.name)
		}
		t := arrow.DataType(arrow.PrimitiveTypes.Float32)
		if out.dtype == tensor.Float64 {
			t = arrow.PrimitiveTypes.Float64
		}
		for _, name := range l.columnNames(out, out.width) {
			fields = append(fields, arrow.Field{Name: name, Type: t, Nullable: true})
		}
	}
	return arrow.NewSchema(fields, nil), nil
}

// columnNames names the width columns of an output: the output's name (or
// its rename) for one column, with a _0, _1... suffix for several.
func (l *Loader) columnNames(out tensorSpec, width int) []string {
	base := out.name
	if rename, ok := l.opts.Outputs[out.name]; ok {
		base = rename
	}
	if width == 1 {
		return []string{base}
	}
	names := make([]string, width)
	for j := range names {
		names[j] = fmt.Sprintf("%s_%d", base, j)
	}
	return names
}

// inputColumns are the frame columns input i is made of.
func (l *Loader) inputColumns(i int) []string {
	if len(l.opts.Features) > 0 {
		return l.opts.Features
	}
	return []string{l.inputs[i].name}
}

// denseModel is one executor's instance of a model of standard operators.
type denseModel struct {
	l     *Loader
	graph *denseGraph
}

// Predict fills the graph's inputs from the frame's columns, runs it and
// turns each output into columns.
func (m *denseModel) Predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	rows := in.NumRows()
	if rows == 0 {
		schema, err := m.l.OutputSchema(in.Schema())
		if err != nil {
			return nil, err
		}
		return frame.Empty(schema), nil
	}
	outs, err := m.graph.run(rows, func(i int, buf any) error {
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
	var cols []frame.Column
	for i, t := range outs {
		spec := m.l.outputs[i]
		c, err := m.l.outputColumns(spec, t, rows)
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", spec.name, err)
		}
		cols = append(cols, c...)
	}
	return frame.New(cols...)
}

// outputColumns copies an [N], [N,1] or [N,K] output into columns; the
// graph reuses its output buffers on the next run.
func (l *Loader) outputColumns(spec tensorSpec, t tensor.Tensor, rows int) ([]frame.Column, error) {
	shape := t.Shape()
	if len(shape) == 0 || shape[0] != rows {
		return nil, fmt.Errorf("has shape %v for %d input rows", shape, rows)
	}
	width := 1
	for _, d := range shape[1:] {
		width *= d
	}
	names := l.columnNames(spec, width)
	cols := make([]frame.Column, width)
	switch data := t.Data().(type) {
	case []float32:
		for j := range cols {
			cols[j] = frame.Float32s(names[j], strided(data, j, width, rows))
		}
	case []float64:
		for j := range cols {
			cols[j] = frame.Float64s(names[j], strided(data, j, width, rows))
		}
	default:
		return nil, fmt.Errorf("has element type %T; expected float32 or float64", t.Data())
	}
	return cols, nil
}

// strided copies column j of a row-major matrix of width columns.
func strided[T float32 | float64](data []T, j, width, rows int) []T {
	out := make([]T, rows)
	for r := range out {
		out[r] = data[r*width+j]
	}
	return out
}
