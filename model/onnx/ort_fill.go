//go:build cgo

package onnx

import (
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dfbatch/dfbatch/frame"
)

// rowMajor writes feature columns into an input tensor row by row. The
// tensor is the one copy RuntimeORT makes of a batch's inputs, and
// frame's column-at-a-time fill, which writes each row once per column,
// costs about a tenth of a small model's run; writing four columns of a
// row at once halves it.
type rowMajor struct {
	// f32 and f64 hold the columns' values, kept between calls.
	f32 [][]float32
	f64 [][]float64
}

// fillRowMajor writes cols of in into dst, row-major, when they are all
// float32 or all float64 columns without nulls, as model features
// usually are, and reports whether it did. Anything else takes frame's
// general path, whose errors name the column and row at fault.
func fillRowMajor[T float32 | float64](s *rowMajor, dst []T, in *frame.Frame, cols []string) bool {
	rows := in.NumRows()
	if len(dst) != rows*len(cols) {
		return false
	}
	s.f32, s.f64 = s.f32[:0], s.f64[:0]
	for _, name := range cols {
		col, err := in.Col(name)
		if err != nil || col.NullN() > 0 {
			return false
		}
		switch c := col.(type) {
		case *array.Float32:
			s.f32 = append(s.f32, c.Float32Values())
		case *array.Float64:
			s.f64 = append(s.f64, c.Float64Values())
		default:
			return false
		}
	}
	switch len(cols) {
	case len(s.f32):
		transpose(dst, s.f32, rows)
	case len(s.f64):
		transpose(dst, s.f64, rows)
	default:
		return false
	}
	return true
}

// transpose writes column j's row r to dst[r*len(cols)+j].
func transpose[S, T float32 | float64](dst []T, cols [][]S, rows int) {
	w := len(cols)
	j := 0
	for ; j+4 <= w; j += 4 {
		c0, c1, c2, c3 := cols[j][:rows], cols[j+1][:rows], cols[j+2][:rows], cols[j+3][:rows]
		for r := range c0 {
			d := dst[r*w+j : r*w+j+4 : r*w+j+4]
			d[0], d[1], d[2], d[3] = T(c0[r]), T(c1[r]), T(c2[r]), T(c3[r])
		}
	}
	for ; j < w; j++ {
		for r, v := range cols[j][:rows] {
			dst[r*w+j] = T(v)
		}
	}
}
