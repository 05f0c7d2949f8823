package frame_test

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/frame"
)

// gotaCase is one gota column and what it becomes in Arrow. A nil in values
// is a missing value.
type gotaCase struct {
	name   string
	typ    series.Type
	values []any
	arrow  arrow.DataType
}

var gotaCases = []gotaCase{
	{name: "float", typ: series.Float, values: []any{1.5, -2.25, 0.0, math.Inf(1), 1e300}, arrow: arrow.PrimitiveTypes.Float64},
	{name: "float with missing", typ: series.Float, values: []any{nil, 1.5, nil, nil, 4.0, nil}, arrow: arrow.PrimitiveTypes.Float64},
	{name: "int", typ: series.Int, values: []any{1, -2, 0, math.MaxInt64, math.MinInt64}, arrow: arrow.PrimitiveTypes.Int64},
	{name: "int with missing", typ: series.Int, values: []any{nil, 7, nil, 9}, arrow: arrow.PrimitiveTypes.Int64},
	{name: "string", typ: series.String, values: []any{"a", "", "héllo", "with,comma"}, arrow: arrow.BinaryTypes.String},
	{name: "string with missing", typ: series.String, values: []any{"a", nil, "c", nil}, arrow: arrow.BinaryTypes.String},
	{name: "bool", typ: series.Bool, values: []any{true, false, false, true}, arrow: arrow.FixedWidthTypes.Boolean},
	{name: "bool with missing", typ: series.Bool, values: []any{nil, true, nil, false}, arrow: arrow.FixedWidthTypes.Boolean},
	{name: "all missing", typ: series.Float, values: []any{nil, nil, nil}, arrow: arrow.PrimitiveTypes.Float64},
}

// gotaValues reads a series back as the values a gotaCase lists.
func gotaValues(t *testing.T, s series.Series) []any {
	t.Helper()
	out := make([]any, s.Len())
	for i := range out {
		e := s.Elem(i)
		if e.IsNA() {
			continue
		}
		var err error
		switch s.Type() {
		case series.Float:
			out[i] = e.Float()
		case series.Int:
			out[i], err = e.Int()
		case series.String:
			out[i] = e.String()
		case series.Bool:
			out[i], err = e.Bool()
		}
		require.NoError(t, err)
	}
	return out
}

// arrowValues reads an Arrow column back as the values a gotaCase lists.
func arrowValues(a arrow.Array) []any {
	out := make([]any, a.Len())
	for i := range out {
		if a.IsNull(i) {
			continue
		}
		switch c := a.(type) {
		case *array.Float64:
			out[i] = c.Value(i)
		case *array.Int64:
			out[i] = int(c.Value(i))
		case *array.String:
			out[i] = c.Value(i)
		case *array.Boolean:
			out[i] = c.Value(i)
		}
	}
	return out
}

func TestGotaRoundTripKeepsTypesAndMissingValues(t *testing.T) {
	for _, tt := range gotaCases {
		t.Run(tt.name, func(t *testing.T) {
			df := dataframe.New(series.New(tt.values, tt.typ, "col"))
			require.NoError(t, df.Err)

			f, err := frame.FromDataFrame(df)
			require.NoError(t, err)
			require.Equal(t, 1, f.NumCols())
			a := f.Column(0)
			assert.True(t, arrow.TypeEqual(tt.arrow, a.DataType()), "gota %s becomes %s, not %s", tt.typ, tt.arrow, a.DataType())
			assert.Equal(t, tt.values, arrowValues(a), "missing values become nulls, the others are kept")

			back := f.ToDataFrame()
			require.NoError(t, back.Err)
			assert.Equal(t, []string{"col"}, back.Names())
			assert.Equal(t, []series.Type{tt.typ}, back.Types())
			assert.Equal(t, tt.values, gotaValues(t, back.Col("col")), "nulls become NA, the others are kept")
		})
	}
}

func TestGotaRoundTripOfManyColumns(t *testing.T) {
	const cols, rows = 500, 37
	s := make([]series.Series, cols)
	for j := range s {
		c := gotaCases[j%len(gotaCases)]
		values := make([]any, rows)
		for r := range values {
			values[r] = c.values[(r+j)%len(c.values)]
		}
		// Names that sort differently from their order catch any reordering.
		s[j] = series.New(values, c.typ, fmt.Sprintf("z%d_%s", cols-j, c.name))
	}
	df := dataframe.New(s...)
	require.NoError(t, df.Err)

	f, err := frame.FromDataFrame(df)
	require.NoError(t, err)
	assert.Equal(t, df.Names(), f.ColumnNames())
	assert.Equal(t, rows, f.NumRows())

	back := f.ToDataFrame()
	require.NoError(t, back.Err)
	assert.Equal(t, df.Names(), back.Names())
	assert.Equal(t, df.Types(), back.Types())
	for j, name := range df.Names() {
		assert.Equal(t, gotaValues(t, df.Col(name)), gotaValues(t, back.Col(name)), "column %d", j)
	}
}

func TestGotaRoundTripWithoutRows(t *testing.T) {
	s := make([]series.Series, 0, 4)
	for _, typ := range []series.Type{series.Float, series.Int, series.String, series.Bool} {
		s = append(s, series.New([]any{}, typ, string(typ)))
	}
	df := dataframe.New(s...)
	require.NoError(t, df.Err)

	f, err := frame.FromDataFrame(df)
	require.NoError(t, err)
	assert.Equal(t, 0, f.NumRows())
	assert.Equal(t, []string{"float", "int", "string", "bool"}, f.ColumnNames())
	for i, want := range []arrow.DataType{arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String, arrow.FixedWidthTypes.Boolean} {
		assert.True(t, arrow.TypeEqual(want, f.Column(i).DataType()))
	}

	back := f.ToDataFrame()
	require.NoError(t, back.Err)
	assert.Equal(t, 0, back.Nrow())
	assert.Equal(t, df.Names(), back.Names())
	assert.Equal(t, df.Types(), back.Types())
}

func TestGotaWithoutColumns(t *testing.T) {
	df := mustNew(t).ToDataFrame()
	assert.NoError(t, df.Err, "a frame without columns is a valid, empty DataFrame")
	assert.Equal(t, 0, df.Ncol())
	assert.Equal(t, 0, df.Nrow())

	f, err := frame.FromDataFrame(df)
	require.NoError(t, err)
	assert.Equal(t, 0, f.NumCols())
}

func TestFromDataFrameRefusesDataFrameWithErr(t *testing.T) {
	tests := []struct {
		name string
		df   dataframe.DataFrame
	}{
		{name: "columns of different lengths", df: dataframe.New(series.Ints([]int{1}), series.Ints([]int{1, 2}))},
		{name: "no series", df: dataframe.New()},
		{name: "failed operation", df: dataframe.New(series.Ints([]int{1})).Select("nope")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Error(t, tt.df.Err)
			f, err := frame.FromDataFrame(tt.df)
			require.Error(t, err)
			assert.Nil(t, f)
			assert.True(t, errors.Is(err, tt.df.Err), "the DataFrame's error is wrapped")
			assert.Contains(t, err.Error(), tt.df.Err.Error())
		})
	}
}

func TestToDataFrameOfSlice(t *testing.T) {
	f := mustNew(t,
		nullableFloats("f", floatSeq(0, 20), 3, 9, 10),
		nullableInts("i", []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, 11),
		nullableStrings("s", []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t"}, 9),
		nullableBools("b", make([]bool, 20), 12),
	)
	df := f.Slice(9, 13).ToDataFrame()
	require.NoError(t, df.Err)
	assert.Equal(t, 4, df.Nrow())
	assert.Equal(t, []any{nil, nil, 11.0, 12.0}, gotaValues(t, df.Col("f")))
	assert.Equal(t, []any{9, 10, nil, 12}, gotaValues(t, df.Col("i")))
	assert.Equal(t, []any{nil, "k", "l", "m"}, gotaValues(t, df.Col("s")))
	assert.Equal(t, []any{false, false, false, nil}, gotaValues(t, df.Col("b")))
}

func TestToDataFrameOfOtherArrowTypes(t *testing.T) {
	mem := memory.DefaultAllocator
	build := func(b array.Builder, appendAll func()) arrow.Array {
		appendAll()
		return b.NewArray()
	}
	i32 := array.NewInt32Builder(mem)
	i8 := array.NewInt8Builder(mem)
	u32 := array.NewUint32Builder(mem)
	u16 := array.NewUint16Builder(mem)
	u64 := array.NewUint64Builder(mem)
	u64big := array.NewUint64Builder(mem)
	f32 := array.NewFloat32Builder(mem)
	day := array.NewDate32Builder(mem)
	tests := []struct {
		name   string
		values arrow.Array
		typ    series.Type
		want   []any
	}{
		{name: "int32", values: build(i32, func() { i32.AppendValues([]int32{math.MaxInt32, 0, -5}, []bool{true, false, true}) }), typ: series.Int, want: []any{math.MaxInt32, nil, -5}},
		{name: "int8", values: build(i8, func() { i8.AppendValues([]int8{-128, 127, 0}, nil) }), typ: series.Int, want: []any{-128, 127, 0}},
		{name: "uint32", values: build(u32, func() { u32.AppendValues([]uint32{math.MaxUint32, 1, 2}, nil) }), typ: series.Int, want: []any{math.MaxUint32, 1, 2}},
		{name: "uint16", values: build(u16, func() { u16.AppendValues([]uint16{math.MaxUint16, 0, 1}, []bool{true, true, false}) }), typ: series.Int, want: []any{math.MaxUint16, 0, nil}},
		{
			name:   "uint64 that fits an int",
			values: build(u64, func() { u64.AppendValues([]uint64{math.MaxInt64, 0, math.MaxUint64}, []bool{true, true, false}) }),
			typ:    series.Int, want: []any{math.MaxInt64, 0, nil},
		},
		{
			name:   "uint64 too large for an int stays exact as text",
			values: build(u64big, func() { u64big.AppendValues([]uint64{math.MaxUint64, 1, 0}, []bool{true, true, false}) }),
			typ:    series.String, want: []any{"18446744073709551615", "1", nil},
		},
		{name: "float32", values: build(f32, func() { f32.AppendValues([]float32{1.5, 0, -2}, []bool{true, false, true}) }), typ: series.Float, want: []any{1.5, nil, -2.0}},
		{name: "date32 as text", values: build(day, func() { day.AppendValues([]arrow.Date32{0, 19000, 0}, []bool{true, true, false}) }), typ: series.String, want: []any{"1970-01-01", "2022-01-08", nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			df := mustNew(t, frame.Column{Name: "c", Values: tt.values}).ToDataFrame()
			require.NoError(t, df.Err)
			assert.Equal(t, []series.Type{tt.typ}, df.Types())
			assert.Equal(t, tt.want, gotaValues(t, df.Col("c")))
		})
	}
}

func TestToDataFrameGotaQuirks(t *testing.T) {
	t.Run("a NaN float value becomes NA", func(t *testing.T) {
		df := mustNew(t, frame.Float64s("x", []float64{math.NaN(), 1})).ToDataFrame()
		assert.Equal(t, []bool{true, false}, df.Col("x").IsNaN())

		f, err := frame.FromDataFrame(df)
		require.NoError(t, err)
		assert.True(t, f.Column(0).IsNull(0), "and comes back as a null")
	})
	t.Run("the string NaN stays a value", func(t *testing.T) {
		f := mustNew(t, nullableStrings("s", []string{"NaN", "", "x"}, 1))
		df := f.ToDataFrame()
		assert.Equal(t, []bool{false, true, false}, df.Col("s").IsNaN())

		back, err := frame.FromDataFrame(df)
		require.NoError(t, err)
		assert.True(t, array.Equal(f.Column(0), back.Column(0)), "got %v", back.Column(0))
	})
	t.Run("an unnamed column is named by gota", func(t *testing.T) {
		df := mustNew(t, frame.Float64s("", []float64{1}), frame.Float64s("X0", []float64{2})).ToDataFrame()
		require.NoError(t, df.Err)
		assert.Equal(t, []string{"X1", "X0"}, df.Names())
	})
}

func TestToDataFrameIsIndependentOfTheFrame(t *testing.T) {
	values := []float64{1, 2, 3}
	f := mustNew(t, frame.Float64s("x", values), frame.Float64s("y", values), frame.Strings("s", []string{"a", "b", "c"}))
	df := f.ToDataFrame()
	require.NoError(t, df.Err)

	values[0] = 100
	df.Elem(1, 1).Set(7.0)

	assert.Equal(t, []float64{1, 2, 3}, df.Col("x").Float(), "the DataFrame holds its own copy of the values")
	assert.Equal(t, []float64{1, 7, 3}, df.Col("y").Float(), "columns converted from the same type do not share storage")
}

func TestFromDataFrameIsIndependentOfTheDataFrame(t *testing.T) {
	df := dataframe.New(series.New([]float64{1, 2}, series.Float, "x"), series.New([]string{"a", "b"}, series.String, "s"))
	f, err := frame.FromDataFrame(df)
	require.NoError(t, err)

	df.Elem(0, 0).Set(9.0)
	df.Elem(0, 1).Set("z")

	x, err := f.Float64Col("x")
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 2}, x.Float64Values())
	s, err := f.StringCol("s")
	require.NoError(t, err)
	assert.Equal(t, "a", s.Value(0))
}

func TestGotaConversionsAreSafeForConcurrentUse(t *testing.T) {
	f := concatPart(t, 0, 500)
	df := f.ToDataFrame()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			g, err := frame.FromDataFrame(df)
			assert.NoError(t, err)
			assert.NoError(t, g.Slice(100, 200).ToDataFrame().Err)
		})
	}
	wg.Wait()
}

// bigGota returns a DataFrame of a million rows of 16 float columns, built
// once, and through ToDataFrame: series.New boxes every value and takes
// seconds for this many.
var bigGota = sync.OnceValues(func() (dataframe.DataFrame, error) {
	cols := make([]frame.Column, 16)
	for j := range cols {
		cols[j] = frame.Float64s(fmt.Sprintf("f%d", j), floatSeq(j, 1_000_000))
	}
	f, err := frame.New(cols...)
	if err != nil {
		return dataframe.DataFrame{}, err
	}
	df := f.ToDataFrame()
	return df, df.Err
})

func BenchmarkFromDataFrame(b *testing.B) {
	df, err := bigGota()
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := frame.FromDataFrame(df); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*df.Nrow())/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkToDataFrame(b *testing.B) {
	df, err := bigGota()
	require.NoError(b, err)
	f, err := frame.FromDataFrame(df)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if out := f.ToDataFrame(); out.Err != nil {
			b.Fatal(out.Err)
		}
	}
	b.ReportMetric(float64(b.N*f.NumRows())/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkGotaRoundTrip times one FromDataFrame and one ToDataFrame of a
// million rows of 16 float columns, the conversions of one Run.
func BenchmarkGotaRoundTrip(b *testing.B) {
	df, err := bigGota()
	require.NoError(b, err)
	var slowest time.Duration
	for b.Loop() {
		start := time.Now()
		f, err := frame.FromDataFrame(df)
		if err != nil {
			b.Fatal(err)
		}
		if out := f.ToDataFrame(); out.Err != nil {
			b.Fatal(out.Err)
		}
		slowest = max(slowest, time.Since(start))
	}
	b.ReportMetric(slowest.Seconds(), "slowest-s")
}

func ExampleFromDataFrame() {
	df := dataframe.New(
		series.New([]float64{1.5, math.NaN(), 3}, series.Float, "x"),
		series.New([]string{"a", "b", "c"}, series.String, "label"),
	)
	f, err := frame.FromDataFrame(df)
	if err != nil {
		panic(err)
	}
	fmt.Print(f.Head(3))

	out := f.Slice(1, 3).ToDataFrame()
	fmt.Println(out.Col("x").IsNaN(), out.Col("label").Records())
	// Output:
	// [3x2] x(float64) label(utf8)
	// 1.5	a
	// (null)	b
	// 3	c
	// [true false] [b c]
}
