package frame_test

import (
	"fmt"
	"math"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/frame"
)

// numericFrame has one column of every numeric type the matrices accept,
// plus a boolean column and text columns they refuse; row r holds r+1 (or its
// negation for the signed columns "i32", "i16" and "i8").
func numericFrame(t *testing.T) *frame.Frame {
	const rows = 4
	mem := memory.DefaultAllocator
	i32 := array.NewInt32Builder(mem)
	i16 := array.NewInt16Builder(mem)
	i8 := array.NewInt8Builder(mem)
	u64 := array.NewUint64Builder(mem)
	u32 := array.NewUint32Builder(mem)
	u16 := array.NewUint16Builder(mem)
	u8 := array.NewUint8Builder(mem)
	for r := range rows {
		v := r + 1
		i32.Append(int32(-v))
		i16.Append(int16(-v))
		i8.Append(int8(-v))
		u64.Append(uint64(v))
		u32.Append(uint32(v))
		u16.Append(uint16(v))
		u8.Append(uint8(v))
	}
	return mustNew(t,
		frame.Float64s("f64", []float64{1, 2, 3, 4}),
		frame.Float32s("f32", []float32{1, 2, 3, 4}),
		frame.Int64s("i64", []int64{1, 2, 3, 4}),
		frame.Column{Name: "i32", Values: i32.NewArray()},
		frame.Column{Name: "i16", Values: i16.NewArray()},
		frame.Column{Name: "i8", Values: i8.NewArray()},
		frame.Column{Name: "u64", Values: u64.NewArray()},
		frame.Column{Name: "u32", Values: u32.NewArray()},
		frame.Column{Name: "u16", Values: u16.NewArray()},
		frame.Column{Name: "u8", Values: u8.NewArray()},
		frame.Strings("text", []string{"a", "b", "c", "d"}),
		frame.Bools("flag", []bool{true, false, true, false}),
	)
}

func TestFloat64MatrixIsRowMajor(t *testing.T) {
	f := mustNew(t,
		frame.Float64s("a", []float64{1.5, 2.5, 3.5}),
		frame.Int64s("b", []int64{10, 20, 30}),
		frame.Float64s("c", []float64{-1, -2, -3}),
	)
	tests := []struct {
		name    string
		columns []string
		want    []float64
	}{
		{name: "frame order", columns: []string{"a", "b", "c"}, want: []float64{1.5, 10, -1, 2.5, 20, -2, 3.5, 30, -3}},
		{name: "requested order", columns: []string{"c", "a"}, want: []float64{-1, 1.5, -2, 2.5, -3, 3.5}},
		{name: "one column", columns: []string{"b"}, want: []float64{10, 20, 30}},
		{name: "a column twice", columns: []string{"b", "b"}, want: []float64{10, 10, 20, 20, 30, 30}},
		{name: "no columns", columns: nil, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.Float64Matrix(nil, tt.columns...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)

			got32, err := f.Float32Matrix(nil, tt.columns...)
			require.NoError(t, err)
			var want32 []float32
			for _, v := range tt.want {
				want32 = append(want32, float32(v))
			}
			assert.Equal(t, want32, got32)
		})
	}
}

func TestMatrixConvertsEveryNumericType(t *testing.T) {
	f := numericFrame(t)
	columns := []string{"f64", "f32", "i64", "i32", "i16", "i8", "u64", "u32", "u16", "u8"}
	sign := []float64{1, 1, 1, -1, -1, -1, 1, 1, 1, 1}
	want := make([]float64, 0, 4*len(columns))
	for r := range 4 {
		for j := range columns {
			want = append(want, sign[j]*float64(r+1))
		}
	}

	got, err := f.Float64Matrix(nil, columns...)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	got32, err := f.Float32Matrix(nil, columns...)
	require.NoError(t, err)
	for i, v := range want {
		assert.Equal(t, float32(v), got32[i], "element %d", i)
	}
}

func TestMatrixOfSliceHoldsOnlyItsRows(t *testing.T) {
	f := mustNew(t, frame.Float64s("x", floatSeq(0, 100)), frame.Int64s("n", []int64{0: 5, 99: 7})).Slice(40, 43)
	got, err := f.Float64Matrix(nil, "x", "n")
	require.NoError(t, err)
	assert.Equal(t, []float64{40, 0, 41, 0, 42, 0}, got)
}

func TestMatrixReusesDst(t *testing.T) {
	f := mustNew(t, frame.Float64s("a", []float64{1, 2}), frame.Float64s("b", []float64{3, 4}))
	tests := []struct {
		name  string
		dst   []float64
		reuse bool
	}{
		{name: "exactly large enough", dst: make([]float64, 4), reuse: true},
		{name: "larger", dst: make([]float64, 10), reuse: true},
		{name: "short but with capacity", dst: make([]float64, 1, 4), reuse: true},
		{name: "too small", dst: make([]float64, 3), reuse: false},
		{name: "nil", dst: nil, reuse: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.dst {
				tt.dst[i] = math.NaN()
			}
			got, err := f.Float64Matrix(tt.dst, "a", "b")
			require.NoError(t, err)
			assert.Equal(t, []float64{1, 3, 2, 4}, got, "the result has exactly rows x columns elements")
			if tt.reuse {
				assert.Equal(t, unsafe.Pointer(unsafe.SliceData(tt.dst)), unsafe.Pointer(unsafe.SliceData(got)))
			} else {
				assert.NotEqual(t, unsafe.Pointer(unsafe.SliceData(tt.dst)), unsafe.Pointer(unsafe.SliceData(got)))
			}
		})
	}

	dst32 := make([]float32, 0, 8)
	got32, err := f.Float32Matrix(dst32, "b")
	require.NoError(t, err)
	assert.Equal(t, []float32{3, 4}, got32)
	assert.Equal(t, unsafe.Pointer(unsafe.SliceData(dst32)), unsafe.Pointer(unsafe.SliceData(got32)))
}

func TestMatrixErrors(t *testing.T) {
	n := 10
	values := floatSeq(0, n)
	base := mustNew(t,
		frame.Float64s("ok", values),
		nullableFloats("gappy", values, 6, 8),
		nullableInts("gappy_int", make([]int64, n), 2),
		nullableStrings("text", make([]string, n), 1),
		frame.Bools("flag", make([]bool, n)),
		frame.Column{Name: "day", Values: dateColumn(n)},
	).WithRowOffset(1000)
	tests := []struct {
		name    string
		f       *frame.Frame
		columns []string
		column  string
		row     int
		want    string
	}{
		{name: "missing value", f: base, columns: []string{"ok", "gappy"}, column: "gappy", row: 1006, want: "missing value"},
		{name: "missing value in a slice", f: base.Slice(7, 10), columns: []string{"gappy"}, column: "gappy", row: 1008, want: "missing value"},
		{name: "missing value in a nested slice", f: base.Slice(1, 10).Slice(1, 5), columns: []string{"ok", "gappy_int"}, column: "gappy_int", row: 1002, want: "missing value"},
		{name: "missing column", f: base, columns: []string{"ok", "nope"}, column: "nope", row: -1, want: "no such column"},
		{name: "string column", f: base, columns: []string{"text"}, column: "text", row: -1, want: "is utf8, not numeric"},
		{name: "string column in a slice without its null", f: base.Slice(5, 9), columns: []string{"ok", "text"}, column: "text", row: -1, want: "not numeric"},
		{name: "date column", f: base, columns: []string{"day"}, column: "day", row: -1, want: "not numeric"},
		{name: "first bad column wins", f: base, columns: []string{"ok", "text", "gappy"}, column: "text", row: -1, want: "not numeric"},
		{name: "string column without rows", f: base.Slice(3, 3), columns: []string{"ok", "text"}, column: "text", row: -1, want: "not numeric"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.f.Float64Matrix(nil, tt.columns...)
			columnError(t, err, tt.column, tt.row)
			assert.Contains(t, err.Error(), tt.want)
			assert.Nil(t, got)

			_, err = tt.f.Float32Matrix(make([]float32, 100), tt.columns...)
			columnError(t, err, tt.column, tt.row)
		})
	}
}

func TestMatrixWithoutRows(t *testing.T) {
	f := mustNew(t, frame.Float64s("a", nil), frame.Int64s("b", nil))
	got, err := f.Float64Matrix(nil, "a", "b")
	require.NoError(t, err)
	assert.Empty(t, got)

	got32, err := numericFrame(t).Slice(2, 2).Float32Matrix(nil, "f64", "u8", "i8")
	require.NoError(t, err)
	assert.Empty(t, got32)
}

func TestMatrixKeepsNaNAndInf(t *testing.T) {
	f := mustNew(t, frame.Float64s("x", []float64{math.NaN(), math.Inf(1)}))
	got, err := f.Float64Matrix(nil, "x")
	require.NoError(t, err)
	assert.True(t, math.IsNaN(got[0]), "NaN is a value, not a missing one")
	assert.True(t, math.IsInf(got[1], 1))
}

// dateColumn is n days from 2022-01-08, a column that is not numeric.
func dateColumn(n int) arrow.Array {
	b := array.NewDate32Builder(memory.DefaultAllocator)
	for i := range n {
		b.Append(arrow.Date32(19000 + i))
	}
	return b.NewArray()
}

// BenchmarkFloat32Matrix reads frames of 16 and 256 float32 columns into
// row-major matrices, as a dense model's input is read.
func BenchmarkFloat32Matrix(b *testing.B) {
	for _, width := range []int{16, 256} {
		b.Run(fmt.Sprintf("65536x%d", width), func(b *testing.B) {
			rows := 65536
			cols := make([]frame.Column, width)
			names := make([]string, width)
			for j := range cols {
				names[j] = fmt.Sprintf("f%d", j)
				cols[j] = frame.Float32s(names[j], make([]float32, rows))
			}
			f, err := frame.New(cols...)
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]float32, rows*width)
			for b.Loop() {
				if _, err := f.Float32Matrix(dst, names...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows*width)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gvalues/s")
		})
	}
}

// TestMatrixTakesBooleansAndDecimals reads a boolean column as 1 and 0 and
// decimals of every width as the nearest float (DuckDB writes DECIMAL(18,
// 9) and BOOLEAN feature columns).
func TestMatrixTakesBooleansAndDecimals(t *testing.T) {
	mem := memory.DefaultAllocator
	flag := array.NewBooleanBuilder(mem)
	flag.AppendValues([]bool{true, false, true}, nil)
	d128 := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 18, Scale: 9})
	d256 := array.NewDecimal256Builder(mem, &arrow.Decimal256Type{Precision: 40, Scale: 2})
	d32 := array.NewDecimal32Builder(mem, &arrow.Decimal32Type{Precision: 9, Scale: 3})
	d64 := array.NewDecimal64Builder(mem, &arrow.Decimal64Type{Precision: 18, Scale: 4})
	for _, v := range []string{"1.5", "-0.000000001", "123456789.123456789"} {
		require.NoError(t, d128.AppendValueFromString(v))
	}
	for _, v := range []string{"12.25", "-3", "0.01"} {
		require.NoError(t, d256.AppendValueFromString(v))
	}
	for _, v := range []string{"1.5", "-2.125", "0"} {
		require.NoError(t, d32.AppendValueFromString(v))
		require.NoError(t, d64.AppendValueFromString(v))
	}
	arrays := []arrow.Array{flag.NewArray(), d128.NewArray(), d256.NewArray(), d32.NewArray(), d64.NewArray()}
	fields := make([]arrow.Field, len(arrays))
	for j, name := range []string{"flag", "d128", "d256", "d32", "d64"} {
		fields[j] = arrow.Field{Name: name, Type: arrays[j].DataType()}
	}
	f, err := frame.FromArrays(arrow.NewSchema(fields, nil), arrays)
	require.NoError(t, err)
	got, err := f.Float64Matrix(nil, "flag", "d128", "d256", "d32", "d64")
	require.NoError(t, err)
	want := []float64{
		1, 1.5, 12.25, 1.5, 1.5,
		0, -0.000000001, -3, -2.125, -2.125,
		1, 123456789.123456789, 0.01, 0, 0,
	}
	assert.InDeltaSlice(t, want, got, 1e-9)
	got32, err := f.Float32Matrix(nil, "flag", "d128")
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 1.5, 0, -0.000000001, 1, 123456789.123456789}, got32)
}

// TestMatrixNaNTakesNullsAsNaN reads nulls as NaN in the matrices for
// models that take missing values, and as the usual error otherwise.
func TestMatrixNaNTakesNullsAsNaN(t *testing.T) {
	b := array.NewFloat64Builder(memory.DefaultAllocator)
	b.AppendValues([]float64{1, 99, 3}, []bool{true, false, true}) // 99 lies under a null
	i := array.NewInt64Builder(memory.DefaultAllocator)
	i.AppendValues([]int64{7, 8, 0}, []bool{true, true, false})
	arrays := []arrow.Array{b.NewArray(), i.NewArray()}
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrays[0].DataType(), Nullable: true}, {Name: "n", Type: arrays[1].DataType(), Nullable: true}}, nil)
	f, err := frame.FromArrays(schema, arrays)
	require.NoError(t, err)

	got, err := f.Float64MatrixNaN(nil, "x", "n")
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 7}, got[0:2])
	assert.True(t, math.IsNaN(got[2]))
	assert.Equal(t, []float64{8, 3}, got[3:5])
	assert.True(t, math.IsNaN(got[5]))
	got32, err := f.Slice(1, 3).Float32MatrixNaN(nil, "n", "x")
	require.NoError(t, err)
	assert.Equal(t, float32(8), got32[0])
	assert.True(t, math.IsNaN(float64(got32[1])) && math.IsNaN(float64(got32[2])))
	assert.Equal(t, float32(3), got32[3])

	_, err = f.Float64Matrix(nil, "x")
	require.ErrorContains(t, err, "missing value")
}
