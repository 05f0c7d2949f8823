package frame_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/frame"
)

// mustNew builds a frame or fails the test.
func mustNew(t testing.TB, cols ...frame.Column) *frame.Frame {
	t.Helper()
	f, err := frame.New(cols...)
	require.NoError(t, err)
	return f
}

// validMask turns a list of null positions into a validity slice of n rows.
func validMask(n int, nulls ...int) []bool {
	v := make([]bool, n)
	for i := range v {
		v[i] = true
	}
	for _, i := range nulls {
		v[i] = false
	}
	return v
}

func nullableFloats(name string, values []float64, nulls ...int) frame.Column {
	b := array.NewFloat64Builder(memory.DefaultAllocator)
	b.AppendValues(values, validMask(len(values), nulls...))
	return frame.Column{Name: name, Values: b.NewArray()}
}

func nullableInts(name string, values []int64, nulls ...int) frame.Column {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.AppendValues(values, validMask(len(values), nulls...))
	return frame.Column{Name: name, Values: b.NewArray()}
}

func nullableStrings(name string, values []string, nulls ...int) frame.Column {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	b.AppendValues(values, validMask(len(values), nulls...))
	return frame.Column{Name: name, Values: b.NewArray()}
}

func nullableBools(name string, values []bool, nulls ...int) frame.Column {
	b := array.NewBooleanBuilder(memory.DefaultAllocator)
	b.AppendValues(values, validMask(len(values), nulls...))
	return frame.Column{Name: name, Values: b.NewArray()}
}

// floatSeq returns start, start+1, ..., start+n-1.
func floatSeq(start, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(start + i)
	}
	return v
}

// columnError asserts that err is a *frame.ColumnError about column at row
// (-1 for the whole column) and that its message names the column.
func columnError(t *testing.T, err error, column string, row int) *frame.ColumnError {
	t.Helper()
	require.Error(t, err)
	var ce *frame.ColumnError
	require.True(t, errors.As(err, &ce), "%v is not a *frame.ColumnError", err)
	assert.Equal(t, column, ce.Column)
	assert.Equal(t, row, ce.Row)
	assert.Contains(t, err.Error(), fmt.Sprintf("%q", column))
	if row >= 0 {
		assert.Contains(t, err.Error(), fmt.Sprintf("row %d", row))
	}
	return ce
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cols    []frame.Column
		rows    int
		wantErr []string
	}{
		{
			name: "columns of equal length",
			cols: []frame.Column{frame.Float64s("x", []float64{1, 2, 3}), frame.Strings("s", []string{"a", "b", "c"})},
			rows: 3,
		},
		{
			name: "no columns",
			rows: 0,
		},
		{
			name: "zero rows",
			cols: []frame.Column{frame.Float64s("x", nil), frame.Strings("s", nil)},
			rows: 0,
		},
		{
			name:    "duplicate names",
			cols:    []frame.Column{frame.Float64s("x", []float64{1}), frame.Int64s("x", []int64{1})},
			wantErr: []string{`"x"`, "twice"},
		},
		{
			name:    "mismatched lengths",
			cols:    []frame.Column{frame.Float64s("x", []float64{1, 2}), frame.Int64s("y", []int64{1, 2, 3})},
			wantErr: []string{`"y" has 3 rows`, `"x" has 2`},
		},
		{
			name:    "nil values",
			cols:    []frame.Column{frame.Float64s("x", []float64{1}), {Name: "empty"}},
			wantErr: []string{`"empty"`, "no values"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := frame.New(tt.cols...)
			if tt.wantErr != nil {
				require.Error(t, err)
				for _, s := range tt.wantErr {
					assert.Contains(t, err.Error(), s)
				}
				assert.Nil(t, f)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.rows, f.NumRows())
			assert.Equal(t, len(tt.cols), f.NumCols())
			assert.Equal(t, 0, f.RowOffset())
			for i, c := range tt.cols {
				assert.Equal(t, c.Name, f.ColumnNames()[i])
				assert.Same(t, c.Values, f.Column(i), "New must not copy the arrays")
				assert.True(t, f.Schema().Field(i).Nullable)
			}
		})
	}
}

func TestFromArrays(t *testing.T) {
	floats := frame.Float64s("x", []float64{1, 2}).Values
	ints := frame.Int64s("n", []int64{1, 2}).Values
	schema := func(fields ...arrow.Field) *arrow.Schema { return arrow.NewSchema(fields, nil) }
	x := arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float64}
	n := arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int64}
	tests := []struct {
		name    string
		schema  *arrow.Schema
		arrays  []arrow.Array
		wantErr []string
	}{
		{name: "valid", schema: schema(x, n), arrays: []arrow.Array{floats, ints}},
		{name: "nil schema", arrays: []arrow.Array{floats}, wantErr: []string{"nil schema"}},
		{name: "fewer arrays than fields", schema: schema(x, n), arrays: []arrow.Array{floats}, wantErr: []string{"2 fields", "1 arrays"}},
		{name: "more arrays than fields", schema: schema(x), arrays: []arrow.Array{floats, ints}, wantErr: []string{"1 fields", "2 arrays"}},
		{name: "type mismatch", schema: schema(x, arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Float64}), arrays: []arrow.Array{floats, ints}, wantErr: []string{`"n"`, "declared float64", "holds int64"}},
		{name: "duplicate names", schema: schema(x, x), arrays: []arrow.Array{floats, floats}, wantErr: []string{`"x"`, "twice"}},
		{name: "nil array", schema: schema(x, n), arrays: []arrow.Array{floats, nil}, wantErr: []string{`"n"`, "no values"}},
		{name: "mismatched lengths", schema: schema(x, n), arrays: []arrow.Array{floats, frame.Int64s("n", []int64{1}).Values}, wantErr: []string{`"n" has 1 rows`, `"x" has 2`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := frame.FromArrays(tt.schema, tt.arrays)
			if tt.wantErr != nil {
				require.Error(t, err)
				for _, s := range tt.wantErr {
					assert.Contains(t, err.Error(), s)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 2, f.NumRows())
			assert.Same(t, tt.schema, f.Schema())
		})
	}
}

func TestFromArraysKeepsItsOwnColumnList(t *testing.T) {
	arrays := []arrow.Array{frame.Float64s("x", []float64{1, 2}).Values}
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Float64}}, nil)
	f, err := frame.FromArrays(schema, arrays)
	require.NoError(t, err)

	arrays[0] = frame.Float64s("x", []float64{7, 8}).Values

	got, err := f.Float64Col("x")
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 2}, got.Float64Values(), "reusing the caller's slice must not change the frame")
}

func TestFromRecordAndRecord(t *testing.T) {
	f := mustNew(t, frame.Float64s("x", []float64{1, 2, 3}), frame.Strings("s", []string{"a", "b", "c"}))

	rec := f.Record()
	assert.Equal(t, int64(3), rec.NumRows())
	assert.True(t, f.Schema().Equal(rec.Schema()))
	assert.Same(t, f.Column(0), rec.Column(0), "Record shares the frame's arrays")

	g, err := frame.FromRecord(rec)
	require.NoError(t, err)
	assert.Equal(t, f.ColumnNames(), g.ColumnNames())
	assert.Equal(t, 3, g.NumRows())
	assert.Same(t, rec.Column(1), g.Column(1), "FromRecord does not copy")
}

func TestEmpty(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "x", Type: arrow.PrimitiveTypes.Float64},
		{Name: "s", Type: arrow.BinaryTypes.String},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean},
	}, nil)
	f := frame.Empty(schema)
	assert.Equal(t, 0, f.NumRows())
	assert.Equal(t, []string{"x", "s", "b"}, f.ColumnNames())
	for i, field := range schema.Fields() {
		assert.True(t, arrow.TypeEqual(field.Type, f.Column(i).DataType()), field.Name)
		assert.Equal(t, 0, f.Column(i).Len())
	}
	assert.Equal(t, int64(0), f.ByteSize())

	dup := arrow.NewSchema([]arrow.Field{schema.Field(0), schema.Field(0)}, nil)
	assert.PanicsWithError(t, `frame: column "x" appears twice`, func() { frame.Empty(dup) })
}

func TestLookupAndCol(t *testing.T) {
	f := mustNew(t, frame.Float64s("x", []float64{1}), frame.Strings("s", []string{"a"}))

	a, ok := f.Lookup("s")
	assert.True(t, ok)
	assert.Same(t, f.Column(1), a)

	a, ok = f.Lookup("nope")
	assert.False(t, ok)
	assert.Nil(t, a)

	a, err := f.Col("x")
	require.NoError(t, err)
	assert.Same(t, f.Column(0), a)

	_, err = f.Col("nope")
	columnError(t, err, "nope", -1)
	assert.Contains(t, err.Error(), `columns "x", "s"`, "the error lists the columns present")
}

func TestColErrorMessages(t *testing.T) {
	many := make([]frame.Column, 30)
	for i := range many {
		many[i] = frame.Float64s(fmt.Sprintf("c%02d", i), []float64{1})
	}
	tests := []struct {
		name string
		f    *frame.Frame
		want []string
		not  []string
	}{
		{name: "no columns", f: mustNew(t), want: []string{"no such column", "no columns"}},
		{name: "many columns are listed in part", f: mustNew(t, many...), want: []string{`"c00"`, `"c19"`, "and 10 more"}, not: []string{`"c20"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.f.Col("missing")
			columnError(t, err, "missing", -1)
			for _, s := range tt.want {
				assert.Contains(t, err.Error(), s)
			}
			for _, s := range tt.not {
				assert.NotContains(t, err.Error(), s)
			}
		})
	}
}

func TestTypedGetters(t *testing.T) {
	f := mustNew(t,
		frame.Float64s("f", []float64{1.5}),
		frame.Int64s("i", []int64{7}),
		frame.Strings("s", []string{"a"}),
		frame.Bools("b", []bool{true}),
		frame.Float32s("f32", []float32{2}),
	)
	getters := map[string]func(string) (arrow.Array, error){
		"float64": func(n string) (arrow.Array, error) { return f.Float64Col(n) },
		"int64":   func(n string) (arrow.Array, error) { return f.Int64Col(n) },
		"string":  func(n string) (arrow.Array, error) { return f.StringCol(n) },
		"boolean": func(n string) (arrow.Array, error) { return f.BoolCol(n) },
	}
	tests := []struct {
		getter, column string
		wantErr        string
	}{
		{getter: "float64", column: "f"},
		{getter: "int64", column: "i"},
		{getter: "string", column: "s"},
		{getter: "boolean", column: "b"},
		{getter: "float64", column: "i", wantErr: "is int64, not float64"},
		{getter: "float64", column: "f32", wantErr: "is float32, not float64"},
		{getter: "int64", column: "f", wantErr: "is float64, not int64"},
		{getter: "string", column: "b", wantErr: "is bool, not string"},
		{getter: "boolean", column: "s", wantErr: "is utf8, not boolean"},
		{getter: "float64", column: "missing", wantErr: "no such column"},
		{getter: "int64", column: "missing", wantErr: "no such column"},
		{getter: "string", column: "missing", wantErr: "no such column"},
		{getter: "boolean", column: "missing", wantErr: "no such column"},
	}
	for _, tt := range tests {
		t.Run(tt.getter+"/"+tt.column, func(t *testing.T) {
			got, err := getters[tt.getter](tt.column)
			if tt.wantErr != "" {
				columnError(t, err, tt.column, -1)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			want, _ := f.Lookup(tt.column)
			assert.Same(t, want, got)
		})
	}
}

func TestTypedGettersReturnNilArrayOnError(t *testing.T) {
	f := mustNew(t, frame.Strings("s", []string{"a"}))
	got, err := f.Float64Col("s")
	require.Error(t, err)
	assert.Nil(t, got)
}

func TestSliceValuesAndOffset(t *testing.T) {
	f := mustNew(t,
		frame.Float64s("x", floatSeq(0, 10)),
		nullableStrings("s", []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}, 4),
		nullableBools("b", []bool{true, false, true, false, true, false, true, false, true, false}, 5),
	)
	s := f.Slice(3, 7)
	assert.Equal(t, 4, s.NumRows())
	assert.Equal(t, 3, s.RowOffset())
	assert.Equal(t, f.ColumnNames(), s.ColumnNames())
	assert.Same(t, f.Schema(), s.Schema())

	x, err := s.Float64Col("x")
	require.NoError(t, err)
	assert.Equal(t, []float64{3, 4, 5, 6}, x.Float64Values())

	str, err := s.StringCol("s")
	require.NoError(t, err)
	assert.Equal(t, "d", str.Value(0))
	assert.True(t, str.IsNull(1), "row 4 of the parent is null")
	assert.Equal(t, "g", str.Value(3))

	b, err := s.BoolCol("b")
	require.NoError(t, err)
	assert.True(t, b.Value(1))
	assert.True(t, b.IsNull(2), "row 5 of the parent is null")
}

func TestSliceSharesBuffers(t *testing.T) {
	f := mustNew(t, frame.Float64s("x", floatSeq(0, 100)), frame.Strings("s", strings.Split(strings.Repeat("ab,", 99)+"ab", ",")))
	s := f.Slice(10, 60).Slice(5, 20)

	parent, err := f.Float64Col("x")
	require.NoError(t, err)
	child, err := s.Float64Col("x")
	require.NoError(t, err)
	assert.Equal(t, unsafe.Pointer(&parent.Float64Values()[15]), unsafe.Pointer(&child.Float64Values()[0]),
		"the slice's values alias the parent's memory")
	assert.Same(t, f.Column(0).Data().Buffers()[1], s.Column(0).Data().Buffers()[1])

	parentStr, err := f.StringCol("s")
	require.NoError(t, err)
	childStr, err := s.StringCol("s")
	require.NoError(t, err)
	assert.Equal(t, unsafe.Pointer(unsafe.StringData(parentStr.Value(15))), unsafe.Pointer(unsafe.StringData(childStr.Value(0))),
		"string data is shared too")
}

func TestSliceRowOffsetAccumulates(t *testing.T) {
	f := mustNew(t, frame.Float64s("x", floatSeq(0, 100)))
	tests := []struct {
		name   string
		slice  *frame.Frame
		offset int
		first  float64
		rows   int
	}{
		{name: "one level", slice: f.Slice(10, 90), offset: 10, first: 10, rows: 80},
		{name: "two levels", slice: f.Slice(10, 90).Slice(5, 50), offset: 15, first: 15, rows: 45},
		{name: "three levels", slice: f.Slice(10, 90).Slice(5, 50).Slice(30, 45), offset: 45, first: 45, rows: 15},
		{name: "after WithRowOffset", slice: f.WithRowOffset(1000).Slice(20, 30), offset: 1020, first: 20, rows: 10},
		{name: "empty slice", slice: f.Slice(50, 50), offset: 50, rows: 0},
		{name: "whole frame", slice: f.Slice(0, 100), offset: 0, first: 0, rows: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.offset, tt.slice.RowOffset())
			assert.Equal(t, tt.rows, tt.slice.NumRows())
			if tt.rows > 0 {
				x, err := tt.slice.Float64Col("x")
				require.NoError(t, err)
				assert.Equal(t, tt.first, x.Value(0))
			}
		})
	}
}

func TestSliceOutOfRangePanics(t *testing.T) {
	f := mustNew(t, frame.Float64s("x", floatSeq(0, 10)))
	tests := []struct {
		name       string
		start, end int
	}{
		{name: "negative start", start: -1, end: 5},
		{name: "end before start", start: 6, end: 5},
		{name: "end past the rows", start: 0, end: 11},
		{name: "start past the rows", start: 11, end: 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.PanicsWithValue(t, fmt.Sprintf("frame: slice [%d:%d] out of range for 10 rows", tt.start, tt.end), func() {
				f.Slice(tt.start, tt.end)
			})
		})
	}
	assert.Panics(t, func() { f.Slice(2, 8).Slice(0, 7) }, "a slice's range is checked against its own rows")
}

func TestWithRowOffsetLeavesOriginal(t *testing.T) {
	f := mustNew(t, frame.Float64s("x", floatSeq(0, 3)))
	g := f.WithRowOffset(500)
	assert.Equal(t, 500, g.RowOffset())
	assert.Equal(t, 0, f.RowOffset())
	assert.Same(t, f.Column(0), g.Column(0))
}

func TestSelect(t *testing.T) {
	f := mustNew(t, frame.Float64s("a", floatSeq(0, 4)), frame.Int64s("b", []int64{1, 2, 3, 4}), frame.Strings("c", []string{"w", "x", "y", "z"})).WithRowOffset(40)

	g, err := f.Select("c", "a")
	require.NoError(t, err)
	assert.Equal(t, []string{"c", "a"}, g.ColumnNames())
	assert.Equal(t, 4, g.NumRows())
	assert.Equal(t, 40, g.RowOffset(), "Select keeps the row numbering")
	assert.Same(t, f.Column(2), g.Column(0))

	_, err = f.Select("a", "nope")
	columnError(t, err, "nope", -1)

	_, err = f.Select("a", "a")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"a" appears twice`)

	none, err := f.Select()
	require.NoError(t, err)
	assert.Equal(t, 0, none.NumCols())
}

func TestDrop(t *testing.T) {
	f := mustNew(t, frame.Float64s("a", floatSeq(0, 4)), frame.Int64s("b", []int64{1, 2, 3, 4}), frame.Strings("c", []string{"w", "x", "y", "z"})).WithRowOffset(40)

	g, err := f.Drop("b")
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "c"}, g.ColumnNames(), "the others keep their order")
	assert.Equal(t, 4, g.NumRows())
	assert.Equal(t, 40, g.RowOffset(), "Drop keeps the row numbering")
	assert.Same(t, f.Column(2), g.Column(1), "no values are copied")
	assert.Equal(t, []string{"a", "b", "c"}, f.ColumnNames(), "the frame itself is unchanged")

	g, err = f.Drop("c", "a", "c")
	require.NoError(t, err)
	assert.Equal(t, []string{"b"}, g.ColumnNames(), "a name given twice is dropped once")

	_, err = f.Drop("a", "nope")
	columnError(t, err, "nope", -1)

	same, err := f.Drop()
	require.NoError(t, err)
	assert.Equal(t, f.ColumnNames(), same.ColumnNames())

	none, err := f.Drop("a", "b", "c")
	require.NoError(t, err)
	assert.Equal(t, 0, none.NumCols())
	assert.Equal(t, 0, none.NumRows())
}

func TestWithColumns(t *testing.T) {
	base := mustNew(t, frame.Float64s("a", []float64{1, 2, 3}), frame.Strings("b", []string{"x", "y", "z"})).WithRowOffset(7)
	tests := []struct {
		name      string
		add       []frame.Column
		wantNames []string
		wantErr   []string
	}{
		{
			name:      "append",
			add:       []frame.Column{frame.Int64s("c", []int64{1, 2, 3})},
			wantNames: []string{"a", "b", "c"},
		},
		{
			name:      "replace in place",
			add:       []frame.Column{frame.Int64s("a", []int64{4, 5, 6})},
			wantNames: []string{"a", "b"},
		},
		{
			name:      "replace and append",
			add:       []frame.Column{frame.Float64s("d", []float64{0, 0, 0}), frame.Bools("b", []bool{true, false, true})},
			wantNames: []string{"a", "b", "d"},
		},
		{
			name:      "nothing",
			wantNames: []string{"a", "b"},
		},
		{
			name:    "appended column too short",
			add:     []frame.Column{frame.Int64s("c", []int64{1})},
			wantErr: []string{`"c" has 1 rows`, "frame has 3"},
		},
		{
			name:    "replacement too long",
			add:     []frame.Column{frame.Int64s("a", []int64{1, 2, 3, 4})},
			wantErr: []string{`"a" has 4 rows`, "frame has 3"},
		},
		{
			name:    "name given twice",
			add:     []frame.Column{frame.Int64s("a", []int64{1, 2, 3}), frame.Int64s("a", []int64{4, 5, 6})},
			wantErr: []string{`"a" given twice`},
		},
		{
			name:    "new name given twice",
			add:     []frame.Column{frame.Int64s("c", []int64{1, 2, 3}), frame.Int64s("c", []int64{4, 5, 6})},
			wantErr: []string{`"c" given twice`},
		},
		{
			name:    "nil values",
			add:     []frame.Column{{Name: "c"}},
			wantErr: []string{`"c"`, "no values"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := base.WithColumns(tt.add...)
			if tt.wantErr != nil {
				require.Error(t, err)
				for _, s := range tt.wantErr {
					assert.Contains(t, err.Error(), s)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantNames, g.ColumnNames())
			assert.Equal(t, 3, g.NumRows())
			assert.Equal(t, 7, g.RowOffset(), "WithColumns keeps the row numbering")
			for _, c := range tt.add {
				got, ok := g.Lookup(c.Name)
				require.True(t, ok)
				assert.Same(t, c.Values, got)
			}
			assert.Equal(t, []string{"a", "b"}, base.ColumnNames(), "the original frame is unchanged")
			assert.Equal(t, arrow.FLOAT64, base.Column(0).DataType().ID())
		})
	}
}

func TestWithColumnsOnFrameWithoutColumns(t *testing.T) {
	g, err := mustNew(t).WithColumns(frame.Float64s("x", []float64{1, 2}))
	require.NoError(t, err)
	assert.Equal(t, 2, g.NumRows())
}

func TestByteSize(t *testing.T) {
	dict := func() arrow.Array {
		b := array.NewDictionaryBuilder(memory.DefaultAllocator, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}).(*array.BinaryDictionaryBuilder)
		for _, s := range []string{"ab", "cd", "ab", "ab"} {
			require.NoError(t, b.AppendString(s))
		}
		return b.NewArray()
	}
	list := func() arrow.Array {
		b := array.NewListBuilder(memory.DefaultAllocator, arrow.PrimitiveTypes.Int64)
		vb := b.ValueBuilder().(*array.Int64Builder)
		for _, n := range []int{1, 2, 3} {
			b.Append(true)
			for range n {
				vb.Append(1)
			}
		}
		return b.NewArray()
	}
	structs := func() arrow.Array {
		b := array.NewStructBuilder(memory.DefaultAllocator, arrow.StructOf(arrow.Field{Name: "v", Type: arrow.PrimitiveTypes.Float64}))
		for range 4 {
			b.Append(true)
			b.FieldBuilder(0).(*array.Float64Builder).Append(1)
		}
		return b.NewArray()
	}
	tests := []struct {
		name   string
		values arrow.Array
		want   int64
	}{
		{name: "float64", values: frame.Float64s("", floatSeq(0, 10)).Values, want: 80},
		{name: "float32", values: frame.Float32s("", make([]float32, 10)).Values, want: 40},
		{name: "int64 with nulls adds a bitmap", values: nullableInts("", make([]int64, 10), 3).Values, want: 80 + 2},
		{name: "booleans are bits", values: frame.Bools("", make([]bool, 17)).Values, want: 3},
		{name: "booleans with nulls", values: nullableBools("", make([]bool, 17), 0).Values, want: 3 + 3},
		{name: "strings: offsets and data", values: frame.Strings("", []string{"a", "bc", "def"}).Values, want: 4*4 + 6},
		{name: "strings with nulls", values: nullableStrings("", []string{"a", "", "def"}, 1).Values, want: 1 + 4*4 + 4},
		{name: "all null strings", values: array.MakeArrayOfNull(memory.DefaultAllocator, arrow.BinaryTypes.String, 5), want: 1 + 6*4},
		{name: "dictionary: indices and the whole dictionary", values: dict(), want: 4*4 + (3*4 + 4)},
		{name: "list: offsets and values", values: list(), want: 4*4 + 6*8},
		{name: "struct: its fields", values: structs(), want: 4 * 8},
		{name: "empty", values: frame.Strings("", nil).Values, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustNew(t, frame.Column{Name: "c", Values: tt.values})
			assert.Equal(t, tt.want, f.ByteSize())
		})
	}
}

func TestByteSizeOfSliceCountsOnlyItsRows(t *testing.T) {
	const rows = 10_000
	words := make([]string, rows)
	for i := range words {
		words[i] = fmt.Sprintf("word-%06d", i)
	}
	bools := make([]bool, rows)
	f := mustNew(t,
		frame.Float64s("x", floatSeq(0, rows)),
		nullableInts("n", make([]int64, rows), 1, 5000, 9999),
		frame.Strings("s", words),
		frame.Bools("b", bools),
	)
	whole := f.ByteSize()
	assert.Equal(t, int64(rows*8+rows*8+rows/8+rows*4+4+rows*11+rows/8), whole)

	tests := []struct {
		name       string
		start, end int
	}{
		{name: "first tenth", start: 0, end: rows / 10},
		{name: "a middle tenth", start: 4321, end: 4321 + rows/10},
		{name: "last tenth", start: rows - rows/10, end: rows},
		{name: "half", start: 2500, end: 7500},
		{name: "one row", start: 777, end: 778},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := f.Slice(tt.start, tt.end)
			got := s.ByteSize()
			share := float64(tt.end-tt.start) / rows
			assert.InDelta(t, share*float64(whole), float64(got), 0.01*float64(whole)+64,
				"a slice of %d rows counts %d bytes of %d", tt.end-tt.start, got, whole)
		})
	}
	assert.Equal(t, int64(0), f.Slice(10, 10).ByteSize())
}

func TestHead(t *testing.T) {
	f := mustNew(t,
		nullableFloats("x", []float64{1.5, 2, 3}, 1),
		frame.Strings("s", []string{"a", "b", "c"}),
	)
	tests := []struct {
		name string
		n    int
		want string
	}{
		{name: "two rows", n: 2, want: "[3x2] x(float64) s(utf8)\n1.5\ta\n(null)\tb\n"},
		{name: "more rows than the frame has", n: 10, want: "[3x2] x(float64) s(utf8)\n1.5\ta\n(null)\tb\n3\tc\n"},
		{name: "none", n: 0, want: "[3x2] x(float64) s(utf8)\n"},
		{name: "negative", n: -1, want: "[3x2] x(float64) s(utf8)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, f.Head(tt.n))
		})
	}
	assert.Equal(t, "[1x2] x(float64) s(utf8)\n3\tc\n", f.Slice(2, 3).Head(5), "a slice shows its own rows")
}

func TestFrameIsSafeForConcurrentUse(t *testing.T) {
	f := mustNew(t, frame.Float64s("x", floatSeq(0, 1000)), frame.Int64s("n", make([]int64, 1000)), frame.Strings("s", make([]string, 1000)))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				start := (g*50 + i) % 900
				s := f.Slice(start, start+100)
				m, err := s.Float64Matrix(nil, "x", "n")
				assert.NoError(t, err)
				assert.Equal(t, float64(start), m[0])
				_ = s.ByteSize()
				_ = s.Head(2)
				_, err = s.WithColumns(frame.Float64s("y", floatSeq(0, 100)))
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
}

func BenchmarkSlice(b *testing.B) {
	cols := make([]frame.Column, 16)
	for j := range cols {
		cols[j] = frame.Float64s(fmt.Sprintf("f%d", j), floatSeq(j, 1_000_000))
	}
	f := mustNew(b, cols...)
	b.ReportAllocs()
	start := 0
	for b.Loop() {
		s := f.Slice(start, start+10_000)
		if s.NumRows() != 10_000 {
			b.Fatal("wrong slice")
		}
		start = (start + 10_000) % (1_000_000 - 10_000)
	}
}

func ExampleFrame_Slice() {
	f, err := frame.New(frame.Float64s("x", []float64{10, 11, 12, 13, 14}))
	if err != nil {
		panic(err)
	}
	batch := f.Slice(2, 4)
	fmt.Println(batch.NumRows(), "rows from row", batch.RowOffset())
	fmt.Print(batch.Head(2))
	// Output:
	// 2 rows from row 2
	// [2x1] x(float64)
	// 12
	// 13
}

func TestFromRecordOutlivesTheRecordsRelease(t *testing.T) {
	b := array.NewFloat64Builder(memory.DefaultAllocator)
	b.AppendValues([]float64{1, 2, 3}, nil)
	col := b.NewArray()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Float64}}, nil), []arrow.Array{col}, 3)
	col.Release()
	f, err := frame.FromRecord(rec)
	require.NoError(t, err)
	rec.Release() // as an Arrow reader does when it moves on
	both, err := frame.Concat(f, f)
	require.NoError(t, err)
	x, err := both.Float64Col("x")
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 2, 3, 1, 2, 3}, x.Float64Values())
}
