package frame

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

// FromDataFrame converts a gota DataFrame, keeping column order, names and
// types: gota Float becomes float64, Int becomes int64, String becomes
// string and Bool becomes boolean. gota's missing values (NaN floats, NA
// elements) become Arrow nulls. A DataFrame that carries an error (df.Err)
// is refused with that error.
func FromDataFrame(df dataframe.DataFrame) (*Frame, error) {
	if df.Err != nil {
		return nil, fmt.Errorf("frame: the DataFrame carries an error: %w", df.Err)
	}
	names := df.Names()
	types := df.Types()
	cols := make([]Column, len(names))
	err := eachColumn(len(names), func(c int) error {
		a, err := columnToArray(df, c, types[c])
		if err != nil {
			return &ColumnError{Column: names[c], Row: noRow, Err: err}
		}
		cols[c] = Column{Name: names[c], Values: a}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return New(cols...)
}

// columnToArray reads column c in place through df.Elem: df.Col would copy
// the whole column first.
func columnToArray(df dataframe.DataFrame, c int, t series.Type) (arrow.Array, error) {
	n := df.Nrow()
	switch {
	case t == series.Float && gotaNumbers:
		values := make([]float64, n)
		var valid validity
		for r, e := range gotaElements[gotaFloatElement](df, c) {
			values[r] = e.e
			if e.nan || math.IsNaN(e.e) {
				valid.clear(r, n)
			}
		}
		return array.NewFloat64Data(valid.data(arrow.PrimitiveTypes.Float64, n, arrow.Float64Traits.CastToBytes(values))), nil
	case t == series.Int && gotaNumbers:
		values := make([]int64, n)
		var valid validity
		for r, e := range gotaElements[gotaIntElement](df, c) {
			values[r] = int64(e.e)
			if e.nan {
				valid.clear(r, n)
			}
		}
		return array.NewInt64Data(valid.data(arrow.PrimitiveTypes.Int64, n, arrow.Int64Traits.CastToBytes(values))), nil
	}
	switch t {
	case series.Float:
		// Float reads NA as NaN.
		values := make([]float64, n)
		for r := range values {
			values[r] = df.Elem(r, c).Float()
		}
		return floatsWithNaNAsNull(values), nil
	case series.Int:
		values := make([]int64, n)
		var valid validity
		for r := range values {
			e := df.Elem(r, c)
			if e.IsNA() {
				valid.clear(r, n)
				continue
			}
			v, err := e.Int()
			if err != nil {
				return nil, err
			}
			values[r] = int64(v)
		}
		return array.NewInt64Data(valid.data(arrow.PrimitiveTypes.Int64, n, arrow.Int64Traits.CastToBytes(values))), nil
	case series.String:
		b := array.NewStringBuilder(allocator)
		b.Reserve(n)
		for r := 0; r < n; r++ {
			e := df.Elem(r, c)
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
		for r := 0; r < n; r++ {
			e := df.Elem(r, c)
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
	return nil, fmt.Errorf("unsupported gota type %q", t)
}

// floatsWithNaNAsNull wraps values, which the caller gives up, as a float64
// array whose NaNs are nulls.
func floatsWithNaNAsNull(values []float64) arrow.Array {
	var valid validity
	for i, v := range values {
		if math.IsNaN(v) {
			valid.clear(i, len(values))
		}
	}
	return array.NewFloat64Data(valid.data(arrow.PrimitiveTypes.Float64, len(values), arrow.Float64Traits.CastToBytes(values)))
}

// ToDataFrame converts the frame to a gota DataFrame. Integer columns become
// Int, float columns Float, strings String and booleans Bool; Arrow nulls
// become gota NA (NaN for floats). A uint64 column becomes Int when all its
// values fit in an int, and String otherwise, so that no value silently
// wraps. Columns of other Arrow types (dates, decimals, lists...) become
// String columns of their text form. A frame with no columns gives an empty
// DataFrame, without error.
//
// gota renames columns it cannot hold: a column named "" comes back named
// "X0" (or the next free "Xk").
// A non-null string "NaN" stays a value here, although gota's own parsers
// (its CSV reader, series.New on strings) would read that text as NA.
func (f *Frame) ToDataFrame() dataframe.DataFrame {
	if len(f.columns) == 0 {
		// dataframe.New refuses zero series; the zero DataFrame is gota's
		// valid empty one.
		return dataframe.DataFrame{}
	}
	// dataframe.New copies every series it is given, so it gets blank
	// columns that share one backing array per gota type, and the values
	// are then written straight into the DataFrame's own copies.
	blanks := make(map[series.Type]series.Series, 4)
	s := make([]series.Series, len(f.columns))
	for c, field := range f.schema.Fields() {
		t := gotaType(f.columns[c])
		blank, ok := blanks[t]
		if !ok {
			blank = series.New(make([]bool, f.rows), t, "")
			blanks[t] = blank
		}
		blank.Name = field.Name
		s[c] = blank
	}
	df := dataframe.New(s...)
	_ = eachColumn(len(f.columns), func(c int) error {
		fillColumn(df, c, f.columns[c])
		return nil
	})
	return df
}

// eachColumn calls fn for columns 0 to n-1, on as many goroutines as
// GOMAXPROCS allows since columns convert independently, and returns the
// error of the lowest-numbered column that failed.
func eachColumn(n int, fn func(c int) error) error {
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for c := int(next.Add(1) - 1); c < n; c = int(next.Add(1) - 1) {
				errs[c] = fn(c)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// gotaType is the gota type a column converts to.
func gotaType(a arrow.Array) series.Type {
	switch c := a.(type) {
	case *array.Float64, *array.Float32:
		return series.Float
	case *array.Boolean:
		return series.Bool
	case *array.Int64, *array.Int32, *array.Int16, *array.Int8, *array.Uint32, *array.Uint16, *array.Uint8:
		return series.Int
	case *array.Uint64:
		for r, x := range c.Uint64Values() {
			if x > math.MaxInt && c.IsValid(r) {
				return series.String
			}
		}
		return series.Int
	}
	return series.String
}

// fillColumn writes a's values into column c of df, whose type is
// gotaType(a).
func fillColumn(df dataframe.DataFrame, c int, a arrow.Array) {
	switch col := a.(type) {
	case *array.Float64:
		fillFloats(df, c, col.Float64Values())
	case *array.Float32:
		fillFloats(df, c, col.Float32Values())
	case *array.Int64:
		fillInts(df, c, col.Int64Values())
	case *array.Int32:
		fillInts(df, c, col.Int32Values())
	case *array.Int16:
		fillInts(df, c, col.Int16Values())
	case *array.Int8:
		fillInts(df, c, col.Int8Values())
	case *array.Uint64:
		if gotaType(col) == series.Int {
			fillInts(df, c, col.Uint64Values())
		} else {
			fillStrings(df, c, col.ValueStr)
		}
	case *array.Uint32:
		fillInts(df, c, col.Uint32Values())
	case *array.Uint16:
		fillInts(df, c, col.Uint16Values())
	case *array.Uint8:
		fillInts(df, c, col.Uint8Values())
	case *array.Boolean:
		for r := 0; r < col.Len(); r++ {
			df.Elem(r, c).Set(col.Value(r))
		}
	case *array.String:
		fillStrings(df, c, col.Value)
	default:
		fillStrings(df, c, a.ValueStr)
	}
	if a.NullN() > 0 {
		for r := 0; r < a.Len(); r++ {
			if a.IsNull(r) {
				// Set(nil) marks an element NA.
				df.Elem(r, c).Set(nil)
			}
		}
	}
}

// fillFloats writes values into column c of df, a Float column.
func fillFloats[S float32 | float64](df dataframe.DataFrame, c int, values []S) {
	var v value
	for r, x := range values {
		v.f = float64(x)
		df.Elem(r, c).Set(&v)
	}
}

// fillInts writes values into column c of df, an Int column.
func fillInts[S ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64](df dataframe.DataFrame, c int, values []S) {
	var v value
	for r, x := range values {
		v.i = int(x)
		df.Elem(r, c).Set(&v)
	}
}

// fillStrings writes str(0), str(1), ... into column c of df, a String
// column.
func fillStrings(df dataframe.DataFrame, c int, str func(int) string) {
	var v value
	for r := range df.Nrow() {
		v.s = str(r)
		df.Elem(r, c).Set(&v)
	}
}

// value carries one value into gota's Element.Set without boxing it: Set
// copies from an Element through the getter of its own type (Float, Int or
// String; bools box for free and need no help), and a pointer to value is
// an Element that boxes for free. Set calls no other method, so the
// embedded Element stays nil.
type value struct {
	series.Element
	f float64
	i int
	s string
}

// Float is what a Float element's Set reads.
func (v *value) Float() float64 { return v.f }

// Int is what an Int element's Set reads.
func (v *value) Int() (int, error) { return v.i, nil }

// String is what a String element's Set reads.
func (v *value) String() string { return v.s }
