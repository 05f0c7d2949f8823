package onnx

import (
	"context"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model/onnx/internal/sgemm"
)

// planModel is one executor's instance of a compiled dense graph: the
// shared plan and buffers of its own, grown to the largest batch seen.
type planModel struct {
	l    *Loader
	p    *plan
	bufs [][]float32
	// rows is how many rows (a multiple of sgemm.RowPad) bufs hold.
	rows int
	// wide holds a non-float input's values before conversion.
	wide []float64
	// chunk holds bufs from a chunk's first row (runSteps).
	chunk [][]float32
}

// newPlanModel is an instance of p, a plan of l: the whole graph's, or
// the front of a mixed graph's.
func newPlanModel(l *Loader, p *plan) *planModel {
	return &planModel{l: l, p: p, bufs: make([][]float32, len(p.strides))}
}

// Predict scores in; the columns take Options' names.
func (m *planModel) Predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	return predict(m.l, m, in)
}

// predictRaw runs the plan and turns its outputs into columns.
func (m *planModel) predictRaw(in *frame.Frame) ([]frame.Column, error) {
	values, err := m.run(in)
	if err != nil {
		return nil, err
	}
	return m.l.columns(values), nil
}

// run writes the frame's columns into the input buffers, runs the steps
// and copies the outputs out of the buffers, which the next batch reuses.
func (m *planModel) run(in *frame.Frame) ([]*matrix, error) {
	p, rows := m.p, in.NumRows()
	if padded := sgemm.PadRows(rows); padded > m.rows {
		for i, stride := range p.strides {
			m.bufs[i] = make([]float32, padded*stride)
		}
		m.rows = padded
	}
	for i, input := range p.inputs {
		var err error
		if m.wide, err = readInput(in, input, m.l.inputColumns(i), m.bufs[input.buf][:rows*input.width], m.wide); err != nil {
			return nil, err
		}
	}
	m.runSteps(rows)
	values := make([]*matrix, len(p.outputs))
	for i, v := range p.outputs {
		src, stride := m.bufs[v.buf], p.strides[v.buf]
		out := make([]float32, rows*v.width)
		for r := range rows {
			copy(out[r*v.width:(r+1)*v.width], src[r*stride:r*stride+v.width])
		}
		values[i] = &matrix{rows: rows, width: v.width, f32: out}
	}
	return values, nil
}

// runSteps runs the steps over rows rows a chunk of p.chunkRows() at a
// time, each chunk through every step: every step is row by row, and a
// chunk's rows of every buffer stay in the core's cache from one layer to
// the next, where a large batch's whole buffers would not.
func (m *planModel) runSteps(rows int) {
	p, chunk := m.p, m.p.chunkRows()
	if len(m.chunk) != len(m.bufs) {
		m.chunk = make([][]float32, len(m.bufs))
	}
	for first := 0; first < rows; first += chunk {
		for i, buf := range m.bufs {
			m.chunk[i] = buf[first*p.strides[i]:]
		}
		for _, s := range p.steps {
			s.run(m.chunk, p.strides, min(chunk, rows-first))
		}
	}
}

// readInput writes input's columns of in to dst, row-major. A non-float
// input is read through wide, which it returns for reuse; the graph Casts
// it to float, and an INT64 input first takes the integer the frame's
// value becomes, as ONNX Runtime's would.
func readInput(in *frame.Frame, input planInput, cols []string, dst []float32, wide []float64) ([]float64, error) {
	if input.elem == onnxpb.TensorProto_FLOAT {
		_, err := in.Float32Matrix(dst, cols...)
		return wide, err
	}
	wide, err := in.Float64Matrix(wide, cols...)
	if err != nil {
		return wide, err
	}
	for j, v := range wide {
		if input.elem == onnxpb.TensorProto_INT64 {
			v = float64(int64(v))
		}
		dst[j] = float32(v)
	}
	return wide, nil
}
