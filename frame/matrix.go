package frame

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Float64Matrix returns the named columns as a row-major matrix: row r,
// feature j at index r*len(columns)+j. It reuses dst when it is large enough.
// Integer and float columns are converted, decimals to the nearest float64
// (then float32), booleans to 1 and 0; a missing column, a column of
// another type, or a null value is an error naming the column and the
// first row at fault.
func (f *Frame) Float64Matrix(dst []float64, columns ...string) ([]float64, error) {
	return fillMatrix(f, dst, columns, false)
}

// Float32Matrix is Float64Matrix for models that compute in float32.
func (f *Frame) Float32Matrix(dst []float32, columns ...string) ([]float32, error) {
	return fillMatrix(f, dst, columns, false)
}

// Float64MatrixNaN is Float64Matrix for models that take missing values,
// such as tree ensembles, which send them down each node's missing-value
// branch: a null becomes NaN instead of an error.
func (f *Frame) Float64MatrixNaN(dst []float64, columns ...string) ([]float64, error) {
	return fillMatrix(f, dst, columns, true)
}

// Float32MatrixNaN is Float64MatrixNaN for models that compute in float32.
func (f *Frame) Float32MatrixNaN(dst []float32, columns ...string) ([]float32, error) {
	return fillMatrix(f, dst, columns, true)
}

// fillMatrix fills the matrix of columns; a null is NaN with nullsAsNaN,
// else an error.
func fillMatrix[T float32 | float64](f *Frame, dst []T, columns []string, nullsAsNaN bool) ([]T, error) {
	width := len(columns)
	n := f.rows * width
	if cap(dst) < n {
		dst = make([]T, n)
	}
	dst = dst[:n]
	arrays := make([]arrow.Array, width)
	fills := make([]func(dst []T, stride, from, to int), width)
	for j, name := range columns {
		col, err := f.Col(name)
		if err != nil {
			return nil, err
		}
		// The type is checked before the values, so that a text column
		// with blanks is reported as not numeric rather than as a gap.
		if fills[j], err = spreader[T](col); err != nil {
			return nil, &ColumnError{Column: name, Row: noRow, Err: numbersAsText(col, f.offset, err)}
		}
		if col.NullN() > 0 && !nullsAsNaN {
			for r := 0; r < f.rows; r++ {
				if col.IsNull(r) {
					return nil, &ColumnError{Column: name, Row: f.offset + r, Err: fmt.Errorf("missing value in a feature column")}
				}
			}
		}
		arrays[j] = col
	}
	if nullsAsNaN {
		defer nullsToNaN(dst, arrays, f.rows)
	}
	// Features are usually all float32 or all float64: four columns of a
	// row at a time then, which is about twice as fast.
	if values, ok := valuesOf(arrays, (*array.Float32).Float32Values); ok {
		transpose(dst, values, f.rows)
		return dst, nil
	}
	if values, ok := valuesOf(arrays, (*array.Float64).Float64Values); ok {
		transpose(dst, values, f.rows)
		return dst, nil
	}
	for r0 := 0; r0 < f.rows; r0 += rowBlock(width) {
		r1 := min(r0+rowBlock(width), f.rows)
		for j, fill := range fills {
			fill(dst[r0*width+j:], width, r0, r1)
		}
	}
	return dst, nil
}

// nullsToNaN sets the matrix cells of null values to NaN: the values
// under a null are whatever the array holds there.
func nullsToNaN[T float32 | float64](dst []T, arrays []arrow.Array, rows int) {
	nan := T(math.NaN())
	for j, a := range arrays {
		if a.NullN() == 0 {
			continue
		}
		for r := range rows {
			if a.IsNull(r) {
				dst[r*len(arrays)+j] = nan
			}
		}
	}
}

// numbersAsText adds to err, a text column's "not numeric", why a column
// of numbers may be text and how to read it as numbers, when its first
// value is a number: a CSV column of zero-padded numbers ("007") or of
// numbers and words is inferred as text. Rows are numbered from offset.
func numbersAsText(col arrow.Array, offset int, err error) error {
	s, ok := col.(*array.String)
	if !ok {
		return err
	}
	for i := range s.Len() {
		if s.IsNull(i) {
			continue
		}
		if _, perr := strconv.ParseFloat(strings.TrimSpace(s.Value(i)), 64); perr != nil {
			return err
		}
		return fmt.Errorf("%w: it holds numbers as text (%q in row %d); a CSV column of zero-padded numbers is read as text, so that ids keep their zeros: set its type (WithColumnTypes, or the CLI's --dtype column=float64)", err, s.Value(i), offset+i)
	}
	return err
}

// rowBlock is how many rows of a matrix of width columns are filled at a
// time, every column into them: about 1 MiB, which stays in L2 cache
// while the columns' values stream in. Writing a whole column at once
// would stride over the whole matrix once per column, and a wide one (256
// columns of 65,536 rows is 64 MiB) then runs at memory speed; smaller
// blocks read too little of each column at a time (measured: 64 KiB
// blocks are half as fast on 256 columns).
func rowBlock(width int) int { return max(16, (1024<<10)/(max(width, 1)*8)) }

// valuesOf returns every array's values when all are of type A.
func valuesOf[A arrow.Array, S float32 | float64](arrays []arrow.Array, values func(A) []S) ([][]S, bool) {
	out := make([][]S, len(arrays))
	for j, a := range arrays {
		typed, ok := a.(A)
		if !ok {
			return nil, false
		}
		out[j] = values(typed)
	}
	return out, len(out) > 0
}

// transpose writes column j's row r to dst[r*len(cols)+j], four columns
// of a row at a time, a block of rows at a time.
func transpose[S, T float32 | float64](dst []T, cols [][]S, rows int) {
	w := len(cols)
	for r0 := 0; r0 < rows; r0 += rowBlock(w) {
		r1 := min(r0+rowBlock(w), rows)
		j := 0
		for ; j+4 <= w; j += 4 {
			c0, c1, c2, c3 := cols[j][r0:r1], cols[j+1][r0:r1], cols[j+2][r0:r1], cols[j+3][r0:r1]
			for i := range c0 {
				at := (r0+i)*w + j
				d := dst[at : at+4 : at+4]
				d[0], d[1], d[2], d[3] = T(c0[i]), T(c1[i]), T(c2[i]), T(c3[i])
			}
		}
		for ; j < w; j++ {
			for i, v := range cols[j][r0:r1] {
				dst[(r0+i)*w+j] = T(v)
			}
		}
	}
}

// spreader returns what writes rows from to to of col's values to dst[0],
// dst[stride], dst[2*stride], ...
func spreader[T float32 | float64](col arrow.Array) (func(dst []T, stride, from, to int), error) {
	switch c := col.(type) {
	case *array.Float64:
		return spreadOf[float64, T](c.Float64Values()), nil
	case *array.Float32:
		return spreadOf[float32, T](c.Float32Values()), nil
	case *array.Int64:
		return spreadOf[int64, T](c.Int64Values()), nil
	case *array.Int32:
		return spreadOf[int32, T](c.Int32Values()), nil
	case *array.Int16:
		return spreadOf[int16, T](c.Int16Values()), nil
	case *array.Int8:
		return spreadOf[int8, T](c.Int8Values()), nil
	case *array.Uint64:
		return spreadOf[uint64, T](c.Uint64Values()), nil
	case *array.Uint32:
		return spreadOf[uint32, T](c.Uint32Values()), nil
	case *array.Uint16:
		return spreadOf[uint16, T](c.Uint16Values()), nil
	case *array.Uint8:
		return spreadOf[uint8, T](c.Uint8Values()), nil
	case *array.Boolean:
		return spreadEach[T](func(i int) float64 { return boolValue(c.Value(i)) }), nil
	case *array.Decimal32:
		return spreadDecimal[T](c.Values(), col.DataType()), nil
	case *array.Decimal64:
		return spreadDecimal[T](c.Values(), col.DataType()), nil
	case *array.Decimal128:
		return spreadDecimal[T](c.Values(), col.DataType()), nil
	case *array.Decimal256:
		return spreadDecimal[T](c.Values(), col.DataType()), nil
	}
	return nil, fmt.Errorf("is %s, not numeric", col.DataType())
}

// spreadDecimal spreads decimals of t's scale as the nearest float64 (a
// DECIMAL(18, 9) keeps about 15 significant digits, not its 18).
func spreadDecimal[T float32 | float64, D interface{ ToFloat64(int32) float64 }](values []D, t arrow.DataType) func(dst []T, stride, from, to int) {
	scale := t.(arrow.DecimalType).GetScale()
	return spreadEach[T](func(i int) float64 { return values[i].ToFloat64(scale) })
}

// spreadEach spreads value(i), for types with no slice of numbers.
func spreadEach[T float32 | float64](value func(i int) float64) func(dst []T, stride, from, to int) {
	return func(dst []T, stride, from, to int) {
		for i := from; i < to; i++ {
			dst[(i-from)*stride] = T(value(i))
		}
	}
}

// boolValue is a boolean feature's number: 1 for true, 0 for false.
func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func spreadOf[S number, T float32 | float64](src []S) func(dst []T, stride, from, to int) {
	return func(dst []T, stride, from, to int) { spread(src[from:to], dst, stride) }
}

type number interface {
	~float32 | ~float64 | ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

func spread[S number, T float32 | float64](src []S, dst []T, stride int) {
	if stride == 1 {
		for i, v := range src {
			dst[i] = T(v)
		}
		return
	}
	for i, v := range src {
		dst[i*stride] = T(v)
	}
}
