package mlops

import (
	"fmt"
	"math"

	"github.com/dfbatch/dfbatch/model/onnx/internal/vecmath"
)

// The column-oriented linear operators score rows held column by column,
// as a frame holds them, so that neither the input nor the scores are
// transposed: vecmath.DotColumns computes score c of every row as
// intercepts[c] plus the sum over the features of coefficient × feature,
// with the arithmetic of linearScores, in the same order, so the results
// are Predict's bit for bit.

// columnChunk is how many rows the column paths score at a time: a chunk
// of each score column (2 KiB) stays in L1 cache while the feature
// columns go by.
const columnChunk = 512

// PredictColumns is Predict for rows given column by column: x[f] holds
// feature f of rows rows. It writes labels[:rows] (nil when the caller
// needs no labels) and scores[c][:rows], score c of each row, for each c
// below NumClasses().
func (m *LinearClassifier) PredictColumns(x [][]float32, rows int, labels []int64, scores [][]float32) error {
	if err := checkColumns(x, rows, m.features, scores, m.NumClasses()); err != nil {
		return fmt.Errorf("LinearClassifier: %w", err)
	}
	if labels != nil && len(labels) < rows {
		return fmt.Errorf("LinearClassifier: labels have room for %d rows, not %d", len(labels), rows)
	}
	xc, chunk := make([][]float32, len(x)), make([][]float32, len(scores))
	for r0 := 0; r0 < rows; r0 += columnChunk {
		r1 := min(r0+columnChunk, rows)
		sliceRows(xc, x, r0, r1)
		sliceRows(chunk, scores, r0, r1)
		if m.classes == 1 {
			m.binaryChunk(xc, r0, labels, chunk)
			continue
		}
		vecmath.DotColumns(chunk, xc, m.coef, m.intercepts)
		if labels != nil {
			m.labelChunk(labels[r0:r1], chunk)
		}
		m.post.applyColumns(chunk)
	}
	return nil
}

// binaryChunk scores a chunk of rows of a one-row binary model, x and
// scores cut to the chunk's rows, labels not: the score s goes to
// scores[1], and [σ(-s), σ(s)] or [1-s, s] to the pair (see
// LinearClassifier).
func (m *LinearClassifier) binaryChunk(x [][]float32, r0 int, labels []int64, scores [][]float32) {
	neg, pos := scores[0], scores[1]
	vecmath.DotColumns(scores[1:], x, m.coef, m.intercepts)
	logistic := m.post == TransformLogistic
	for i, s := range pos {
		if labels != nil {
			labels[r0+i] = m.labels[0]
			if s > 0 {
				labels[r0+i] = m.labels[1]
			}
		}
		if logistic {
			neg[i] = -s
		} else {
			neg[i] = 1 - s
		}
	}
	if logistic {
		m.post.applyColumns(scores)
	}
}

// labelChunk writes the label of the highest score of each row, the first
// of equal ones, as Predict does. The running maximum is kept as bits and
// both it and the index are chosen by conditional moves: which class wins
// a row is data, and a branch on it mispredicts about once per row.
func (m *LinearClassifier) labelChunk(labels []int64, scores [][]float32) {
	var best [columnChunk]int32
	var top [columnChunk]uint32
	for i, v := range scores[0] {
		top[i] = math.Float32bits(v)
	}
	for c, z := range scores[1:] {
		for i, v := range z {
			t, bits, b := top[i], math.Float32bits(v), best[i]
			if v > math.Float32frombits(t) {
				t, b = bits, int32(c+1)
			}
			top[i], best[i] = t, b
		}
	}
	for i := range labels {
		labels[i] = m.labels[best[i]]
	}
}

// PredictColumns is Predict for rows given column by column: x[f] holds
// feature f of rows rows. It writes out[t][:rows], target t of each row,
// for each t below NumTargets().
func (m *LinearRegressor) PredictColumns(x [][]float32, rows int, out [][]float32) error {
	if err := checkColumns(x, rows, m.features, out, m.targets); err != nil {
		return fmt.Errorf("LinearRegressor: %w", err)
	}
	xc, chunk := make([][]float32, len(x)), make([][]float32, len(out))
	for r0 := 0; r0 < rows; r0 += columnChunk {
		r1 := min(r0+columnChunk, rows)
		sliceRows(xc, x, r0, r1)
		sliceRows(chunk, out, r0, r1)
		vecmath.DotColumns(chunk, xc, m.coef, m.intercepts)
		switch {
		case m.targets > 1:
			m.post.applyColumns(chunk)
		case m.post == TransformProbit:
			for i, v := range chunk[0] {
				chunk[0][i] = probit(v)
			}
		}
	}
	return nil
}

// checkColumns checks x, features columns of rows values, and out, width
// columns with room for rows values.
func checkColumns(x [][]float32, rows, features int, out [][]float32, width int) error {
	switch {
	case rows < 0:
		return fmt.Errorf("negative number of rows %d", rows)
	case len(x) != features && rows > 0:
		return fmt.Errorf("input has %d features, the coefficients have %d", len(x), features)
	case len(out) != width:
		return fmt.Errorf("%d output columns, not %d", len(out), width)
	}
	for f, c := range x {
		if len(c) < rows {
			return fmt.Errorf("feature %d has %d values, fewer than %d rows", f, len(c), rows)
		}
	}
	for j, c := range out {
		if len(c) < rows {
			return fmt.Errorf("output column %d has room for %d values, not %d", j, len(c), rows)
		}
	}
	return nil
}

// sliceRows sets chunk[j] to rows r0 to r1 of cols[j].
func sliceRows(chunk, cols [][]float32, r0, r1 int) {
	for j, c := range cols {
		chunk[j] = c[r0:r1]
	}
}

// applyColumns transforms rows of scores held column by column, as apply
// does each row.
func (t PostTransform) applyColumns(cols [][]float32) {
	switch t {
	case TransformNone:
	case TransformLogistic:
		for _, c := range cols {
			vecmath.Sigmoid(c, c)
		}
	case TransformSoftmax:
		vecmath.SoftmaxColumns(cols)
	default:
		row := make([]float32, len(cols))
		for i := range cols[0] {
			for j, c := range cols {
				row[j] = c[i]
			}
			t.apply(row)
			for j, c := range cols {
				c[i] = row[j]
			}
		}
	}
}
