package frame_test

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/frame"
)

// concatPart builds n rows of a concatenation test, numbered from start,
// with a null in every column at each row whose number is a multiple of 7.
func concatPart(t testing.TB, start, n int) *frame.Frame {
	floats := make([]float64, n)
	ints := make([]int64, n)
	words := make([]string, n)
	flags := make([]bool, n)
	var nulls []int
	for i := range n {
		r := start + i
		floats[i], ints[i], words[i], flags[i] = float64(r)/2, int64(r), fmt.Sprintf("w%d", r), r%3 == 0
		if r%7 == 0 {
			nulls = append(nulls, i)
		}
	}
	return mustNew(t,
		nullableFloats("f", floats, nulls...),
		nullableInts("i", ints, nulls...),
		nullableStrings("s", words, nulls...),
		nullableBools("b", flags, nulls...),
	)
}

func TestConcatKeepsOrderValuesAndNulls(t *testing.T) {
	sizes := []int{5, 0, 13, 1, 64, 3, 0, 29, 8, 100, 2, 7, 17, 33, 1, 9, 50, 4, 11, 6}
	frames := make([]*frame.Frame, len(sizes))
	total := 0
	for k, n := range sizes {
		frames[k] = concatPart(t, total, n)
		total += n
	}

	got, err := frame.Concat(frames...)
	require.NoError(t, err)
	require.Equal(t, total, got.NumRows())
	assert.Equal(t, []string{"f", "i", "s", "b"}, got.ColumnNames())
	assert.Equal(t, 0, got.RowOffset())

	f, err := got.Float64Col("f")
	require.NoError(t, err)
	i, err := got.Int64Col("i")
	require.NoError(t, err)
	s, err := got.StringCol("s")
	require.NoError(t, err)
	b, err := got.BoolCol("b")
	require.NoError(t, err)
	for r := range total {
		if r%7 == 0 {
			assert.True(t, f.IsNull(r) && i.IsNull(r) && s.IsNull(r) && b.IsNull(r), "row %d is null in every column", r)
			continue
		}
		require.True(t, f.IsValid(r) && i.IsValid(r) && s.IsValid(r) && b.IsValid(r), "row %d has values", r)
		assert.Equal(t, float64(r)/2, f.Value(r))
		assert.Equal(t, int64(r), i.Value(r))
		assert.Equal(t, fmt.Sprintf("w%d", r), s.Value(r))
		assert.Equal(t, r%3 == 0, b.Value(r))
	}
	assert.Equal(t, (total+6)/7, f.NullN())
}

func TestConcatOfSlicesAtUnalignedOffsets(t *testing.T) {
	whole := concatPart(t, 0, 200)
	cuts := []int{0, 3, 11, 12, 77, 130, 131, 199, 200}
	slices := make([]*frame.Frame, len(cuts)-1)
	for k := range slices {
		slices[k] = whole.Slice(cuts[k], cuts[k+1])
	}

	got, err := frame.Concat(slices...)
	require.NoError(t, err)
	require.Equal(t, 200, got.NumRows())
	for c := range whole.NumCols() {
		assert.True(t, array.Equal(whole.Column(c), got.Column(c)), "column %s survives slicing and concatenation", whole.ColumnNames()[c])
	}
}

// TestConcatOfPrimitiveColumnsWithoutNulls covers the columns that Concat
// joins itself rather than through arrow: every whole-byte primitive width,
// slices at offsets, empty parts, and a column with nulls in one part only,
// which arrow joins; each must equal the frame that was cut up.
func TestConcatOfPrimitiveColumnsWithoutNulls(t *testing.T) {
	const n = 300
	i8 := array.NewInt8Builder(memory.DefaultAllocator)
	i16 := array.NewInt16Builder(memory.DefaultAllocator)
	u32 := array.NewUint32Builder(memory.DefaultAllocator)
	f32 := array.NewFloat32Builder(memory.DefaultAllocator)
	ts := array.NewTimestampBuilder(memory.DefaultAllocator, &arrow.TimestampType{Unit: arrow.Millisecond})
	ints := make([]int64, n)
	var nulls []int
	for r := range n {
		i8.Append(int8(r))
		i16.Append(int16(-r))
		u32.Append(uint32(r * 70_000))
		f32.Append(float32(r) / 3)
		ts.Append(arrow.Timestamp(r * 1000))
		ints[r] = int64(r)
		if r == 150 {
			nulls = append(nulls, r)
		}
	}
	whole := mustNew(t,
		frame.Column{Name: "i8", Values: i8.NewArray()},
		frame.Column{Name: "i16", Values: i16.NewArray()},
		frame.Column{Name: "u32", Values: u32.NewArray()},
		frame.Column{Name: "f32", Values: f32.NewArray()},
		frame.Column{Name: "ts", Values: ts.NewArray()},
		frame.Float64s("f64", floatSeq(0, n)),
		nullableInts("i64", ints, nulls...),
	)
	cuts := []int{0, 0, 7, 100, 100, 101, 299, 300}
	parts := make([]*frame.Frame, len(cuts)-1)
	for k := range parts {
		parts[k] = whole.Slice(cuts[k], cuts[k+1])
	}

	got, err := frame.Concat(parts...)
	require.NoError(t, err)
	require.Equal(t, n, got.NumRows())
	for c, name := range whole.ColumnNames() {
		assert.True(t, array.Equal(whole.Column(c), got.Column(c)), "column %s", name)
		assert.Equal(t, whole.Column(c).NullN(), got.Column(c).NullN(), "column %s", name)
	}

	got, err = frame.Concat(whole.Slice(0, 0), whole.Slice(5, 5))
	require.NoError(t, err)
	assert.Equal(t, 0, got.NumRows())
	assert.Equal(t, 7, got.NumCols())
}

func TestConcatRowOffset(t *testing.T) {
	whole := mustNew(t, frame.Float64s("x", floatSeq(0, 100))).WithRowOffset(1000)
	tests := []struct {
		name   string
		frames []*frame.Frame
		want   int
	}{
		{name: "consecutive slices from the start", frames: []*frame.Frame{whole.Slice(0, 40), whole.Slice(40, 100)}, want: 1000},
		{name: "consecutive slices from the middle", frames: []*frame.Frame{whole.Slice(20, 30), whole.Slice(30, 50), whole.Slice(50, 51)}, want: 1020},
		{name: "a single slice", frames: []*frame.Frame{whole.Slice(60, 70)}, want: 1060},
		{name: "frames built anew", frames: []*frame.Frame{mustNew(t, frame.Float64s("x", floatSeq(0, 3))), whole.Slice(5, 10)}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := frame.Concat(tt.frames...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.RowOffset(), "rows are numbered from the first frame's offset")
		})
	}

	got, err := frame.Concat(whole.Slice(20, 30), whole.Slice(30, 40))
	require.NoError(t, err)
	x, err := got.Float64Col("x")
	require.NoError(t, err)
	assert.Equal(t, floatSeq(20, 20), x.Float64Values())
}

func TestConcatSingleFrameIsReturnedUnchanged(t *testing.T) {
	f := concatPart(t, 0, 10).Slice(2, 8)
	got, err := frame.Concat(f)
	require.NoError(t, err)
	assert.Same(t, f, got)
}

func TestConcatNothingOrNil(t *testing.T) {
	_, err := frame.Concat()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing to concatenate")

	_, err = frame.Concat(concatPart(t, 0, 2), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "frame 1")
	assert.Contains(t, err.Error(), "nil")
}

func TestConcatFramesWithoutRowsOrColumns(t *testing.T) {
	got, err := frame.Concat(concatPart(t, 0, 0), concatPart(t, 0, 0))
	require.NoError(t, err)
	assert.Equal(t, 0, got.NumRows())
	assert.Equal(t, 4, got.NumCols())

	got, err = frame.Concat(mustNew(t), mustNew(t))
	require.NoError(t, err)
	assert.Equal(t, 0, got.NumCols())
}

func TestConcatSchemaMismatch(t *testing.T) {
	a := frame.Float64s("a", []float64{1})
	b := frame.Int64s("b", []int64{1})
	c := frame.Strings("c", []string{"x"})
	base := mustNew(t, a, b, c)
	tests := []struct {
		name   string
		other  *frame.Frame
		column string
		want   string
	}{
		{name: "missing last column", other: mustNew(t, a, b), column: "c", want: "is missing"},
		{name: "missing middle column", other: mustNew(t, a, c), column: "b", want: `is missing (found "c" in its place)`},
		{name: "extra last column", other: mustNew(t, a, b, c, frame.Float64s("d", []float64{1})), column: "d", want: "is unexpected"},
		{name: "extra middle column", other: mustNew(t, a, frame.Float64s("d", []float64{1}), b, c), column: "d", want: `is unexpected (column 1 should be "b")`},
		{name: "wrong type", other: mustNew(t, a, frame.Float64s("b", []float64{1}), c), column: "b", want: "is float64, expected int64"},
		{name: "reordered columns", other: mustNew(t, a, c, b), column: "b", want: "is column 2, expected column 1"},
		{name: "renamed column", other: mustNew(t, a, frame.Int64s("B", []int64{1}), c), column: "B", want: `is unexpected (column 1 should be "b")`},
		{name: "no columns", other: mustNew(t), column: "a", want: "is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := frame.Concat(base, base, tt.other, base)
			columnError(t, err, tt.column, -1)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "frame 2", "the error names the frame at fault")
		})
	}
}

func TestSameSchema(t *testing.T) {
	x := arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true}
	y := arrow.Field{Name: "y", Type: arrow.BinaryTypes.String, Nullable: true}
	schema := func(fields ...arrow.Field) *arrow.Schema { return arrow.NewSchema(fields, nil) }
	tests := []struct {
		name      string
		want, got *arrow.Schema
		column    string
	}{
		{name: "equal", want: schema(x, y), got: schema(x, y)},
		{name: "nullability is not compared", want: schema(x, y), got: schema(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float64}, y)},
		{name: "metadata is not compared", want: schema(x), got: arrow.NewSchema([]arrow.Field{x}, &arrow.Metadata{})},
		{name: "both empty", want: schema(), got: schema()},
		{name: "missing", want: schema(x, y), got: schema(x), column: "y"},
		{name: "unexpected", want: schema(x), got: schema(x, y), column: "y"},
		{name: "other type", want: schema(x), got: schema(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float32}), column: "x"},
		{name: "swapped", want: schema(x, y), got: schema(y, x), column: "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := frame.SameSchema(tt.want, tt.got)
			if tt.column == "" {
				assert.NoError(t, err)
				return
			}
			columnError(t, err, tt.column, -1)
		})
	}
}

func BenchmarkConcat(b *testing.B) {
	const frames, rows, cols = 100, 10_000, 16
	parts := make([]*frame.Frame, frames)
	for k := range parts {
		c := make([]frame.Column, cols)
		for j := range c {
			c[j] = frame.Float64s(fmt.Sprintf("f%d", j), floatSeq(k*rows+j, rows))
		}
		parts[k] = mustNew(b, c...)
	}
	b.ReportAllocs()
	for b.Loop() {
		f, err := frame.Concat(parts...)
		if err != nil || f.NumRows() != frames*rows {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*frames*rows)/b.Elapsed().Seconds(), "rows/s")
}
