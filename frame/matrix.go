package frame

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Float64Matrix returns the named columns as a row-major matrix: row r,
// feature j at index r*len(columns)+j. It reuses dst when it is large enough.
// Integer and float columns are converted; a missing column, a column of
// another type, or a null value is an error naming the column and the first
// row at fault.
func (f *Frame) Float64Matrix(dst []float64, columns ...string) ([]float64, error) {
	return fillMatrix(f, dst, columns)
}

// Float32Matrix is Float64Matrix for models that compute in float32.
func (f *Frame) Float32Matrix(dst []float32, columns ...string) ([]float32, error) {
	return fillMatrix(f, dst, columns)
}

func fillMatrix[T float32 | float64](f *Frame, dst []T, columns []string) ([]T, error) {
	width := len(columns)
	n := f.rows * width
	if cap(dst) < n {
		dst = make([]T, n)
	}
	dst = dst[:n]
	for j, name := range columns {
		col, err := f.Col(name)
		if err != nil {
			return nil, err
		}
		// The type is checked before the values, so that a text column
		// with blanks is reported as not numeric rather than as a gap. With
		// no rows, dst is empty and dst[j:] would be out of range.
		if err := scatter(col, dst[min(j, n):], width); err != nil {
			return nil, &ColumnError{Column: name, Row: noRow, Err: err}
		}
		if col.NullN() > 0 {
			for r := 0; r < f.rows; r++ {
				if col.IsNull(r) {
					return nil, &ColumnError{Column: name, Row: f.offset + r, Err: fmt.Errorf("missing value in a feature column")}
				}
			}
		}
	}
	return dst, nil
}

// scatter writes col's values to dst[0], dst[stride], dst[2*stride], ...
func scatter[T float32 | float64](col arrow.Array, dst []T, stride int) error {
	switch c := col.(type) {
	case *array.Float64:
		spread(c.Float64Values(), dst, stride)
	case *array.Float32:
		spread(c.Float32Values(), dst, stride)
	case *array.Int64:
		spread(c.Int64Values(), dst, stride)
	case *array.Int32:
		spread(c.Int32Values(), dst, stride)
	case *array.Int16:
		spread(c.Int16Values(), dst, stride)
	case *array.Int8:
		spread(c.Int8Values(), dst, stride)
	case *array.Uint64:
		spread(c.Uint64Values(), dst, stride)
	case *array.Uint32:
		spread(c.Uint32Values(), dst, stride)
	case *array.Uint16:
		spread(c.Uint16Values(), dst, stride)
	case *array.Uint8:
		spread(c.Uint8Values(), dst, stride)
	default:
		return fmt.Errorf("is %s, not numeric", col.DataType())
	}
	return nil
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
