package frame_test

import (
	"math"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/frame"
)

func TestNumericColumnsShareTheCallersMemory(t *testing.T) {
	floats := []float64{1, math.NaN(), math.Inf(-1), 4}
	floats32 := []float32{1, 2, 3}
	ints := []int64{math.MinInt64, 0, math.MaxInt64}
	tests := []struct {
		name  string
		col   frame.Column
		typ   arrow.DataType
		len   int
		first unsafe.Pointer
		// valuesAt returns the address of the array's first value.
		valuesAt func(arrow.Array) unsafe.Pointer
	}{
		{
			name: "Float64s", col: frame.Float64s("f", floats), typ: arrow.PrimitiveTypes.Float64,
			len: len(floats), first: unsafe.Pointer(&floats[0]),
			valuesAt: func(a arrow.Array) unsafe.Pointer { return unsafe.Pointer(&a.(*array.Float64).Float64Values()[0]) },
		},
		{
			name: "Float32s", col: frame.Float32s("f32", floats32), typ: arrow.PrimitiveTypes.Float32,
			len: len(floats32), first: unsafe.Pointer(&floats32[0]),
			valuesAt: func(a arrow.Array) unsafe.Pointer { return unsafe.Pointer(&a.(*array.Float32).Float32Values()[0]) },
		},
		{
			name: "Int64s", col: frame.Int64s("i", ints), typ: arrow.PrimitiveTypes.Int64,
			len: len(ints), first: unsafe.Pointer(&ints[0]),
			valuesAt: func(a arrow.Array) unsafe.Pointer { return unsafe.Pointer(&a.(*array.Int64).Int64Values()[0]) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.col.Values
			assert.True(t, arrow.TypeEqual(tt.typ, a.DataType()))
			assert.Equal(t, tt.len, a.Len())
			assert.Equal(t, 0, a.NullN(), "NaN is a value, not a null")
			assert.Equal(t, tt.first, tt.valuesAt(a), "the array aliases the caller's slice")
		})
	}
	assert.True(t, math.IsNaN(frame.Float64s("f", floats).Values.(*array.Float64).Value(1)))
	assert.Equal(t, ints, frame.Int64s("i", ints).Values.(*array.Int64).Int64Values())
}

func TestFloat64sWithSpareCapacityHasItsLength(t *testing.T) {
	values := make([]float64, 3, 100)
	f := mustNew(t, frame.Float64s("x", values))
	assert.Equal(t, 3, f.NumRows())
	assert.Equal(t, int64(24), f.ByteSize(), "spare capacity is not part of the column")
}

func TestEmptyColumns(t *testing.T) {
	tests := []struct {
		name string
		col  frame.Column
	}{
		{name: "Float64s nil", col: frame.Float64s("c", nil)},
		{name: "Float64s empty", col: frame.Float64s("c", []float64{})},
		{name: "Float32s nil", col: frame.Float32s("c", nil)},
		{name: "Int64s nil", col: frame.Int64s("c", nil)},
		{name: "Strings nil", col: frame.Strings("c", nil)},
		{name: "Bools nil", col: frame.Bools("c", nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustNew(t, tt.col)
			assert.Equal(t, 0, f.NumRows())
			assert.Equal(t, int64(0), f.ByteSize())
			assert.Equal(t, 0, f.Slice(0, 0).NumRows())
			df := f.ToDataFrame()
			require.NoError(t, df.Err)
			assert.Equal(t, 0, df.Nrow())
		})
	}
}

func TestStringsAndBoolsCopyTheirInput(t *testing.T) {
	words := []string{"a", "b"}
	flags := []bool{true, false}
	s := frame.Strings("s", words).Values.(*array.String)
	b := frame.Bools("b", flags).Values.(*array.Boolean)
	words[0], flags[0] = "changed", false

	assert.Equal(t, "a", s.Value(0))
	assert.True(t, b.Value(0))
	assert.Equal(t, 0, s.NullN())
	assert.Equal(t, 0, b.NullN())
	assert.Equal(t, "b", s.Value(1))
	assert.False(t, b.Value(1))
}

func TestColumnNames(t *testing.T) {
	for _, c := range []frame.Column{
		frame.Float64s("f", nil), frame.Float32s("f", nil), frame.Int64s("f", nil), frame.Strings("f", nil), frame.Bools("f", nil),
	} {
		assert.Equal(t, "f", c.Name)
	}
}
