package frame

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

// FromDataFrame converts a gota DataFrame, keeping column order, names and
// types: gota Float becomes float64, Int becomes int64, String becomes
// string and Bool becomes boolean. gota's missing values (NaN floats, NA
// elements) become Arrow nulls.
func FromDataFrame(df dataframe.DataFrame) (*Frame, error) {
	if df.Err != nil {
		return nil, fmt.Errorf("frame: the DataFrame carries an error: %w", df.Err)
	}
	names := df.Names()
	cols := make([]Column, len(names))
	for i, name := range names {
		s := df.Col(name)
		a, err := seriesToArray(s)
		if err != nil {
			return nil, &ColumnError{Column: name, Row: noRow, Err: err}
		}
		cols[i] = Column{Name: name, Values: a}
	}
	return New(cols...)
}

func seriesToArray(s series.Series) (arrow.Array, error) {
	n := s.Len()
	switch s.Type() {
	case series.Float:
		values := s.Float()
		b := array.NewFloat64Builder(allocator)
		b.Reserve(n)
		for _, v := range values {
			if math.IsNaN(v) {
				b.UnsafeAppendBoolToBitmap(false)
			} else {
				b.UnsafeAppend(v)
			}
		}
		return b.NewArray(), nil
	case series.Int:
		b := array.NewInt64Builder(allocator)
		b.Reserve(n)
		for i := 0; i < n; i++ {
			e := s.Elem(i)
			if e.IsNA() {
				b.UnsafeAppendBoolToBitmap(false)
				continue
			}
			v, err := e.Int()
			if err != nil {
				return nil, err
			}
			b.UnsafeAppend(int64(v))
		}
		return b.NewArray(), nil
	case series.String:
		b := array.NewStringBuilder(allocator)
		b.Reserve(n)
		for i := 0; i < n; i++ {
			e := s.Elem(i)
			if e.IsNA() {
				b.AppendNull()
			} else {
				b.Append(e.String())
			}
		}
		return b.NewArray(), nil
	case series.Bool:
		b := array.NewBooleanBuilder(allocator)
		b.Reserve(n)
		for i := 0; i < n; i++ {
			e := s.Elem(i)
			if e.IsNA() {
				b.UnsafeAppendBoolToBitmap(false)
				continue
			}
			v, err := e.Bool()
			if err != nil {
				return nil, err
			}
			b.UnsafeAppend(v)
		}
		return b.NewArray(), nil
	}
	return nil, fmt.Errorf("unsupported gota type %q", s.Type())
}

// ToDataFrame converts the frame to a gota DataFrame. Integer columns become
// Int, float columns Float, strings String and booleans Bool; Arrow nulls
// become gota NA (NaN for floats). Columns of other Arrow types (dates,
// decimals, lists...) become String columns of their text form. A frame with
// no columns gives a DataFrame whose Err says so, as gota does.
//
// gota itself treats the string "NaN" as missing, so a non-null "NaN" string
// comes back as NA.
func (f *Frame) ToDataFrame() dataframe.DataFrame {
	s := make([]series.Series, len(f.columns))
	for i, field := range f.schema.Fields() {
		s[i] = arrayToSeries(field.Name, f.columns[i])
	}
	return dataframe.New(s...)
}

func arrayToSeries(name string, a arrow.Array) series.Series {
	n := a.Len()
	var s series.Series
	switch c := a.(type) {
	case *array.Float64:
		values := make([]float64, n)
		copy(values, c.Float64Values())
		return series.New(nullsToNaN(values, a), series.Float, name)
	case *array.Float32:
		values := make([]float64, n)
		spread(c.Float32Values(), values, 1)
		return series.New(nullsToNaN(values, a), series.Float, name)
	case *array.Boolean:
		values := make([]bool, n)
		for i := range values {
			values[i] = c.Value(i)
		}
		s = series.New(values, series.Bool, name)
	case *array.String:
		values := make([]string, n)
		for i := range values {
			values[i] = c.Value(i)
		}
		s = series.New(values, series.String, name)
	default:
		if ints, ok := intValues(a); ok {
			s = series.New(ints, series.Int, name)
			break
		}
		values := make([]string, n)
		for i := range values {
			values[i] = a.ValueStr(i)
		}
		s = series.New(values, series.String, name)
	}
	if a.NullN() > 0 {
		for i := 0; i < n; i++ {
			if a.IsNull(i) {
				// Elem points into the series' storage; Set(nil) marks it NA.
				s.Elem(i).Set(nil)
			}
		}
	}
	return s
}

func nullsToNaN(values []float64, a arrow.Array) []float64 {
	if a.NullN() > 0 {
		for i := range values {
			if a.IsNull(i) {
				values[i] = math.NaN()
			}
		}
	}
	return values
}

func intValues(a arrow.Array) ([]int, bool) {
	out := make([]int, a.Len())
	switch c := a.(type) {
	case *array.Int64:
		copyInts(out, c.Int64Values())
	case *array.Int32:
		copyInts(out, c.Int32Values())
	case *array.Int16:
		copyInts(out, c.Int16Values())
	case *array.Int8:
		copyInts(out, c.Int8Values())
	case *array.Uint32:
		copyInts(out, c.Uint32Values())
	case *array.Uint16:
		copyInts(out, c.Uint16Values())
	case *array.Uint8:
		copyInts(out, c.Uint8Values())
	default:
		return nil, false
	}
	return out, true
}

func copyInts[S ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32](dst []int, src []S) {
	for i, v := range src {
		dst[i] = int(v)
	}
}
