package onnx

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model"
	"gorgonia.org/tensor"
)

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

// specOf reads a graph input's element type and the dimensions after its
// batch dimension.
func specOf(v *onnxpb.ValueInfoProto) (tensorSpec, error) {
	dims, _, elem, ok := onnxpb.ShapeOf(v)
	if !ok {
		return tensorSpec{}, fmt.Errorf("has no tensor type")
	}
	spec := tensorSpec{name: v.GetName(), width: 1, elem: elem}
	switch {
	case elem == onnxpb.TensorProto_FLOAT:
		spec.dtype = tensor.Float32
	case elem == onnxpb.TensorProto_DOUBLE:
		spec.dtype = tensor.Float64
	case elem == onnxpb.TensorProto_INT64:
		spec.dtype = tensor.Int64
	default:
		return spec, fmt.Errorf("has element type %s; supported: FLOAT, DOUBLE, INT64", elem)
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
	if len(exec.Devices) > 0 {
		return l.loadGPU(ctx, exec)
	}
	if l.opts.Runtime == RuntimeORT {
		return l.loadORT(exec)
	}
	if l.mlGraph {
		return newMLModel(l), nil
	}
	if l.plan != nil {
		return newPlanModel(l, l.plan), nil
	}
	return l.loadFallback()
}

// OutputSchema returns the output columns, so that a run over no rows still
// has them.
func (l *Loader) OutputSchema(*arrow.Schema) (*arrow.Schema, error) { return l.schema, nil }

// inputColumns are the frame columns input i is made of.
func (l *Loader) inputColumns(i int) []string {
	if len(l.opts.Features) > 0 {
		return l.opts.Features
	}
	return []string{l.inputs[i].name}
}

// rawPredictor is a model instance of this package: it returns its
// output columns under their ONNX names, before Options' renames.
type rawPredictor interface {
	predictRaw(in *frame.Frame) ([]frame.Column, error)
}

// Predict scores in; the columns take Options' names.
func (m *mlModel) Predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	return predict(m.l, m, in)
}

func predict(l *Loader, m rawPredictor, in *frame.Frame) (*frame.Frame, error) {
	if in.NumRows() == 0 && l.schema != nil {
		return frame.Empty(l.schema), nil
	}
	cols, err := m.predictRaw(in)
	if err != nil {
		return nil, err
	}
	return l.finish(cols)
}

// mlModel is one executor's instance of a graph of ML operators. The
// compiled nodes are read-only, so instances share them.
type mlModel struct {
	l *Loader
	// front runs the Loader's front plan, the dense part of a mixed
	// graph, on buffers of this instance's own; nil when there is none.
	front *planModel
	// columnInputs are the inputs fed as column matrices where the
	// frame's columns allow (see columnInputs).
	columnInputs map[string]bool
	// missingInputs are the inputs whose nulls are NaN (see missingInputs).
	missingInputs map[string]bool
}

func newMLModel(l *Loader) *mlModel {
	m := &mlModel{l: l, columnInputs: columnInputs(l), missingInputs: missingInputs(l)}
	if l.front != nil {
		m.front = newPlanModel(l, l.front.plan)
	}
	return m
}

// predictRaw runs the front plan, if any, feeds the frame's columns to the
// graph inputs the ML nodes read, and runs the ML nodes in order.
func (m *mlModel) predictRaw(in *frame.Frame) ([]frame.Column, error) {
	env := make(map[string]*matrix, len(m.l.inputs)+len(m.l.mlNodes))
	if m.front != nil {
		values, err := m.front.run(in)
		if err != nil {
			return nil, err
		}
		for i, name := range m.l.front.outputs {
			env[name] = values[i]
		}
	}
	for _, i := range m.l.mlInputs {
		spec := m.l.inputs[i]
		x, err := m.input(in, i)
		if err != nil {
			return nil, err
		}
		env[spec.name] = x
	}
	for _, n := range m.l.mlNodes {
		args := make([]*matrix, len(n.inputs))
		for i, name := range n.inputs {
			if args[i] = env[name]; args[i] == nil && name != "" {
				return nil, fmt.Errorf("node %q: input %q is not computed before it", n.name, name)
			}
			if !n.takesColumns {
				args[i] = rowMajor(args[i])
			}
		}
		outs, err := n.run(args)
		if err != nil {
			return nil, fmt.Errorf("node %q: %w", n.name, err)
		}
		for i, name := range n.outputs {
			if i < len(outs) && name != "" {
				env[name] = outs[i]
			}
		}
	}
	values := make([]*matrix, len(m.l.outputs))
	for i, name := range m.l.outputs {
		if values[i] = env[name]; values[i] == nil {
			return nil, fmt.Errorf("output %q is computed by no node", name)
		}
	}
	return m.l.columns(values), nil
}

// input reads graph input i from in: the frame's columns as they are
// where the input is one of columnInputs and they are float32 without
// gaps, otherwise a row-major copy.
func (m *mlModel) input(in *frame.Frame, i int) (*matrix, error) {
	spec := m.l.inputs[i]
	if m.columnInputs[spec.name] && spec.dtype == tensor.Float32 {
		if x, ok := frameColumns(in, m.l.inputColumns(i)); ok {
			return x, nil
		}
	}
	return inputMatrix(in, spec, m.l.inputColumns(i), m.missingInputs[spec.name])
}

// inputMatrix reads the columns of one graph input, a null as NaN for a
// float input with nullsAsNaN, else as an error.
func inputMatrix(in *frame.Frame, spec tensorSpec, cols []string, nullsAsNaN bool) (*matrix, error) {
	x := &matrix{rows: in.NumRows(), width: len(cols)}
	var err error
	switch {
	case spec.dtype == tensor.Float32 && nullsAsNaN:
		x.f32, err = in.Float32MatrixNaN(nil, cols...)
	case spec.dtype == tensor.Float32:
		x.f32, err = in.Float32Matrix(nil, cols...)
	case spec.dtype == tensor.Float64 && nullsAsNaN:
		x.f64, err = in.Float64MatrixNaN(nil, cols...)
	case spec.dtype == tensor.Float64:
		x.f64, err = in.Float64Matrix(nil, cols...)
	default:
		var f []float64
		if f, err = in.Float64Matrix(nil, cols...); err == nil {
			x.i64 = make([]int64, len(f))
			for i, v := range f {
				x.i64[i] = int64(v)
			}
		}
	}
	return x, err
}

// columns turns the graph's outputs into columns named after them: one for
// an [N] or [N,1] output, K with a _0.._K-1 suffix for [N,K], and one per
// class, suffixed with its label, for a ZipMap.
func (l *Loader) columns(values []*matrix) []frame.Column {
	var cols []frame.Column
	for i, v := range values {
		names := make([]string, v.width)
		for j := range names {
			names[j] = l.outputs[i]
			switch {
			case v.labels != nil:
				names[j] += "_" + v.labels[j]
			case v.width > 1:
				names[j] = fmt.Sprintf("%s_%d", names[j], j)
			}
		}
		cols = append(cols, columnsOf(v, names)...)
	}
	return cols
}

// finish applies Options: Outputs renames an output (all its columns, as
// a prefix) or one column, then Columns selects.
func (l *Loader) finish(cols []frame.Column) (*frame.Frame, error) {
	if len(l.opts.Outputs) > 0 {
		for i := range cols {
			cols[i].Name = l.rename(cols[i].Name)
		}
	}
	out, err := frame.New(cols...)
	if err != nil {
		return nil, err
	}
	if len(l.opts.Columns) > 0 {
		return out.Select(l.opts.Columns...)
	}
	return out, nil
}

// rename gives a column its Options name: its own rename, else its
// output's rename with the column's suffix.
func (l *Loader) rename(column string) string {
	if to, ok := l.opts.Outputs[column]; ok {
		return to
	}
	for _, out := range l.outputs {
		if to, ok := l.opts.Outputs[out]; ok && strings.HasPrefix(column, out+"_") {
			return to + strings.TrimPrefix(column, out)
		}
	}
	return column
}

// columnsOf turns v into one column per value of a row, named names[j].
func columnsOf(v *matrix, names []string) []frame.Column {
	cols := make([]frame.Column, v.width)
	switch {
	case v.cols != nil:
		for j := range cols {
			cols[j] = frame.Float32s(names[j], v.cols[j][:v.rows])
		}
	case v.f32 != nil:
		for j, c := range unzip(v.f32, v.width, v.rows) {
			cols[j] = frame.Float32s(names[j], c)
		}
	case v.f64 != nil:
		for j, c := range unzip(v.f64, v.width, v.rows) {
			cols[j] = frame.Float64s(names[j], c)
		}
	case v.i64 != nil:
		for j, c := range unzip(v.i64, v.width, v.rows) {
			cols[j] = frame.Int64s(names[j], c)
		}
	default:
		for j, c := range unzip(v.str, v.width, v.rows) {
			cols[j] = frame.Strings(names[j], c)
		}
	}
	return cols
}

// unzip returns the columns of a row-major matrix of width columns, in
// one pass over its rows and one allocation; a single column is the
// matrix itself.
func unzip[T any](data []T, width, rows int) [][]T {
	if width == 1 {
		return [][]T{data[:rows]}
	}
	all := make([]T, rows*width)
	cols := make([][]T, width)
	for j := range cols {
		cols[j] = all[j*rows : (j+1)*rows : (j+1)*rows]
	}
	for r := range rows {
		for j, v := range data[r*width : (r+1)*width] {
			cols[j][r] = v
		}
	}
	return cols
}
