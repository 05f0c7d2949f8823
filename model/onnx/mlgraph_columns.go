package onnx

import (
	"slices"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model/onnx/internal/mlops"
)

// The linear operators also run column by column (see
// mlops.LinearClassifier.PredictColumns): a graph input that only they
// read takes the frame's float32 columns as they are, without the
// transpose to rows, and their scores come out as columns, which become
// output columns without a copy. Every other node gets rowMajor's copy
// of such a matrix. mlOperators says which operators take columns
// (mlOp.takesColumns).

// columnInputs are the names of the graph inputs that only nodes taking
// columns read, and that are no graph output themselves.
func columnInputs(l *Loader) map[string]bool {
	return inputsReadOnlyBy(l, func(n mlNode) bool { return n.takesColumns })
}

// missingInputs are the names of the graph inputs that only nodes taking
// NaN as a missing value read, and that are no graph output themselves:
// a null feature of theirs is NaN, not an error.
func missingInputs(l *Loader) map[string]bool {
	return inputsReadOnlyBy(l, func(n mlNode) bool { return n.takesMissing })
}

// inputsReadOnlyBy says of each ML graph input whether only nodes that
// pass reads it, and it is no graph output.
func inputsReadOnlyBy(l *Loader, pass func(mlNode) bool) map[string]bool {
	take := map[string]bool{}
	for _, i := range l.mlInputs {
		take[l.inputs[i].name] = !slices.Contains(l.outputs, l.inputs[i].name)
	}
	for _, n := range l.mlNodes {
		for _, in := range n.inputs {
			if _, ok := take[in]; ok && !pass(n) {
				take[in] = false
			}
		}
	}
	return take
}

// frameColumns returns the float32 columns of in named by cols as a column
// matrix, sharing their memory, or false when one is not float32 or has
// missing values (inputMatrix converts, or reports, those).
func frameColumns(in *frame.Frame, cols []string) (*matrix, bool) {
	x := &matrix{rows: in.NumRows(), width: len(cols), cols: make([][]float32, len(cols))}
	for j, name := range cols {
		a, err := in.Col(name)
		if err != nil {
			return nil, false
		}
		f, ok := a.(*array.Float32)
		if !ok || f.NullN() > 0 {
			return nil, false
		}
		x.cols[j] = f.Float32Values()
	}
	return x, true
}

// rowMajor returns x with its values in rows: x itself unless it is a
// column matrix.
func rowMajor(x *matrix) *matrix {
	if x == nil || x.cols == nil {
		return x
	}
	out := &matrix{rows: x.rows, width: x.width, oneD: x.oneD, labels: x.labels, f32: make([]float32, x.rows*x.width)}
	for j, c := range x.cols {
		for r, v := range c[:x.rows] {
			out.f32[r*x.width+j] = v
		}
	}
	return out
}

// newColumns returns a column matrix of rows×width float32s, its columns
// cut from one buffer.
func newColumns(rows, width int) *matrix {
	buf := make([]float32, rows*width)
	x := &matrix{rows: rows, width: width, cols: make([][]float32, width)}
	for j := range x.cols {
		x.cols[j] = buf[j*rows : (j+1)*rows : (j+1)*rows]
	}
	return x
}

// runLinearClassifierColumns is runClassifier for a column matrix x.
func runLinearClassifierColumns(m *mlops.LinearClassifier, x *matrix) ([]*matrix, error) {
	labels := make([]int64, x.rows)
	scores := newColumns(x.rows, m.NumClasses())
	if err := m.PredictColumns(x.cols, x.rows, labels, scores.cols); err != nil {
		return nil, err
	}
	return []*matrix{labelMatrix(m, labels), scores}, nil
}

// runLinearRegressorColumns is mapRows' run of m for a column matrix x.
func runLinearRegressorColumns(m *mlops.LinearRegressor, x *matrix) ([]*matrix, error) {
	out := newColumns(x.rows, m.NumTargets())
	if err := m.PredictColumns(x.cols, x.rows, out.cols); err != nil {
		return nil, err
	}
	return []*matrix{out}, nil
}
