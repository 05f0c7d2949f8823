// Package frame holds dfbatch's in-memory data: an immutable, columnar Frame
// backed by Apache Arrow arrays, with zero-copy row slices, ordered
// concatenation, numeric feature matrices, conversion to and from gota
// DataFrames, and streaming CSV, Parquet, Arrow IPC and JSON Lines readers
// and writers. Parquet is linked into programs that import frame/parquet.
//
// Frames use Go-allocated Arrow memory, so they are garbage-collected like any
// other Go value: nothing needs to be released.
package frame

import (
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// allocator is the Go allocator: frames are garbage-collected, never released.
var allocator = memory.DefaultAllocator

// Frame is an immutable table: named, typed columns of equal length.
// A Frame is safe for concurrent use; methods never modify it.
type Frame struct {
	schema  *arrow.Schema
	columns []arrow.Array
	rows    int
	// offset is the row number of the first row in the frame this one was
	// sliced from, so that errors can name rows as the user numbers them.
	offset int
	index  map[string]int
}

// Column is a named Arrow array, the unit from which frames are built.
type Column struct {
	Name   string
	Values arrow.Array
}

// New builds a Frame from columns of equal length with distinct names.
func New(columns ...Column) (*Frame, error) {
	fields := make([]arrow.Field, len(columns))
	arrays := make([]arrow.Array, len(columns))
	for i, c := range columns {
		if c.Values == nil {
			return nil, fmt.Errorf("frame: column %q has no values", c.Name)
		}
		fields[i] = arrow.Field{Name: c.Name, Type: c.Values.DataType(), Nullable: true}
		arrays[i] = c.Values
	}
	return FromArrays(arrow.NewSchema(fields, nil), arrays)
}

// FromArrays builds a Frame from a schema and one array per field, with
// distinct field names and arrays of equal length. The frame shares the
// arrays' memory but not the slice that holds them.
func FromArrays(schema *arrow.Schema, arrays []arrow.Array) (*Frame, error) {
	if schema == nil {
		return nil, fmt.Errorf("frame: nil schema")
	}
	if len(arrays) != schema.NumFields() {
		return nil, fmt.Errorf("frame: schema has %d fields but %d arrays were given", schema.NumFields(), len(arrays))
	}
	// A copy, so that a caller reusing its slice, or the record it came
	// from, cannot change an immutable frame.
	arrays = slices.Clone(arrays)
	f := &Frame{schema: schema, columns: arrays, index: make(map[string]int, len(arrays))}
	for i := range schema.NumFields() {
		field := schema.Field(i)
		if _, dup := f.index[field.Name]; dup {
			return nil, fmt.Errorf("frame: column %q appears twice", field.Name)
		}
		f.index[field.Name] = i
		a := arrays[i]
		if a == nil {
			return nil, fmt.Errorf("frame: column %q has no values", field.Name)
		}
		if !arrow.TypeEqual(a.DataType(), field.Type) {
			return nil, fmt.Errorf("frame: column %q is declared %s but holds %s", field.Name, field.Type, a.DataType())
		}
		if i == 0 {
			f.rows = a.Len()
		} else if a.Len() != f.rows {
			return nil, fmt.Errorf("frame: column %q has %d rows, column %q has %d", field.Name, a.Len(), schema.Field(0).Name, f.rows)
		}
	}
	// Arrow readers release a record when they move to the next one, which
	// empties its arrays' buffers; the frame's own reference keeps them.
	// With the Go allocator the garbage collector frees them, so frames
	// never call Release.
	for _, a := range arrays {
		a.Retain()
	}
	return f, nil
}

// FromRecord wraps an Arrow record batch without copying. The frame holds
// its own reference to the record's arrays, so they stay valid after the
// record's owner releases it.
func FromRecord(rec arrow.RecordBatch) (*Frame, error) {
	return FromArrays(rec.Schema(), rec.Columns())
}

// Empty returns a frame with the given schema and no rows. It panics when
// the schema names a column twice, as a frame cannot hold that.
func Empty(schema *arrow.Schema) *Frame {
	arrays := make([]arrow.Array, schema.NumFields())
	for i, field := range schema.Fields() {
		arrays[i] = array.MakeArrayOfNull(allocator, field.Type, 0)
	}
	f, err := FromArrays(schema, arrays)
	if err != nil {
		panic(err)
	}
	return f
}

// Record returns the frame as an Arrow record batch sharing its arrays.
func (f *Frame) Record() arrow.RecordBatch {
	return array.NewRecordBatch(f.schema, f.columns, int64(f.rows))
}

// Schema returns the frame's Arrow schema.
func (f *Frame) Schema() *arrow.Schema { return f.schema }

// NumRows returns the number of rows.
func (f *Frame) NumRows() int { return f.rows }

// NumCols returns the number of columns.
func (f *Frame) NumCols() int { return len(f.columns) }

// RowOffset returns the row number, in the frame this one was sliced from,
// of this frame's first row. Error messages name rows with it, so a model
// that reports "row 17" inside a batch starting at row 1000 says "row 1017".
func (f *Frame) RowOffset() int { return f.offset }

// WithRowOffset returns the same frame numbered from offset; readers use it
// to number the rows of a file's later record batches.
func (f *Frame) WithRowOffset(offset int) *Frame {
	g := *f
	g.offset = offset
	return &g
}

// ColumnNames returns the column names in order.
func (f *Frame) ColumnNames() []string {
	names := make([]string, len(f.columns))
	for i, field := range f.schema.Fields() {
		names[i] = field.Name
	}
	return names
}

// Column returns the i-th column's values.
func (f *Frame) Column(i int) arrow.Array { return f.columns[i] }

// Lookup returns the values of the named column, and whether it exists.
func (f *Frame) Lookup(name string) (arrow.Array, bool) {
	i, ok := f.index[name]
	if !ok {
		return nil, false
	}
	return f.columns[i], true
}

// Col returns the values of the named column, or an error that names the
// missing column and lists the columns present.
func (f *Frame) Col(name string) (arrow.Array, error) {
	if a, ok := f.Lookup(name); ok {
		return a, nil
	}
	return nil, &ColumnError{Column: name, Row: noRow, Err: fmt.Errorf("no such column; the frame has %s", f.describeColumns())}
}

// maxNamesListed bounds the column names an error lists, so that a frame
// with thousands of columns still gives a readable message.
const maxNamesListed = 20

func (f *Frame) describeColumns() string {
	if len(f.columns) == 0 {
		return "no columns"
	}
	names := f.ColumnNames()
	listed := make([]string, min(len(names), maxNamesListed))
	for i := range listed {
		listed[i] = fmt.Sprintf("%q", names[i])
	}
	s := "columns " + strings.Join(listed, ", ")
	if more := len(names) - len(listed); more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}

// Float64Col returns the named column as a float64 array, or an error naming
// the column when it is missing or of another type.
func (f *Frame) Float64Col(name string) (*array.Float64, error) {
	return typed[*array.Float64](f, name)
}

// Int64Col returns the named column as an int64 array, or an error naming the
// column when it is missing or of another type.
func (f *Frame) Int64Col(name string) (*array.Int64, error) { return typed[*array.Int64](f, name) }

// StringCol returns the named column as a string array, or an error naming the
// column when it is missing or of another type.
func (f *Frame) StringCol(name string) (*array.String, error) { return typed[*array.String](f, name) }

// BoolCol returns the named column as a boolean array, or an error naming the
// column when it is missing or of another type.
func (f *Frame) BoolCol(name string) (*array.Boolean, error) { return typed[*array.Boolean](f, name) }

func typed[A arrow.Array](f *Frame, name string) (A, error) {
	var zero A
	col, err := f.Col(name)
	if err != nil {
		return zero, err
	}
	a, ok := col.(A)
	if !ok {
		want := fmt.Sprintf("%T", zero)
		want = strings.ToLower(strings.TrimPrefix(want, "*array."))
		return zero, &ColumnError{Column: name, Row: noRow, Err: fmt.Errorf("is %s, not %s", col.DataType(), want)}
	}
	return a, nil
}

// Slice returns rows [start, end) without copying any values.
func (f *Frame) Slice(start, end int) *Frame {
	if start < 0 || end < start || end > f.rows {
		panic(fmt.Sprintf("frame: slice [%d:%d] out of range for %d rows", start, end, f.rows))
	}
	cols := make([]arrow.Array, len(f.columns))
	for i, c := range f.columns {
		cols[i] = array.NewSlice(c, int64(start), int64(end))
	}
	return &Frame{schema: f.schema, columns: cols, rows: end - start, offset: f.offset + start, index: f.index}
}

// Select returns a frame with only the named columns, in the order given.
func (f *Frame) Select(names ...string) (*Frame, error) {
	cols := make([]Column, len(names))
	for i, n := range names {
		a, err := f.Col(n)
		if err != nil {
			return nil, err
		}
		cols[i] = Column{Name: n, Values: a}
	}
	g, err := New(cols...)
	if err != nil {
		return nil, err
	}
	g.offset = f.offset
	return g, nil
}

// Drop returns a frame without the named columns, the others in their
// order, as pandas' DataFrame.drop(columns=...) does. A name the frame lacks
// is an error naming it, so that a misspelled column is not silently kept.
// Dropping every column leaves a frame without columns, which has no rows.
func (f *Frame) Drop(names ...string) (*Frame, error) {
	drop := make(map[string]bool, len(names))
	for _, n := range names {
		if _, err := f.Col(n); err != nil {
			return nil, err
		}
		drop[n] = true
	}
	cols := make([]Column, 0, len(f.columns))
	for i, field := range f.schema.Fields() {
		if !drop[field.Name] {
			cols = append(cols, Column{Name: field.Name, Values: f.columns[i]})
		}
	}
	g, err := New(cols...)
	if err != nil {
		return nil, err
	}
	g.offset = f.offset
	return g, nil
}

// WithColumns returns a frame with the given columns appended, or replacing
// the columns of the same name in place. Their length must match the frame's
// (unless the frame has no columns), and no name may be given twice.
func (f *Frame) WithColumns(add ...Column) (*Frame, error) {
	cols := make([]Column, len(f.columns), len(f.columns)+len(add))
	for i, field := range f.schema.Fields() {
		cols[i] = Column{Name: field.Name, Values: f.columns[i]}
	}
	given := make(map[string]bool, len(add))
	for _, c := range add {
		if given[c.Name] {
			return nil, fmt.Errorf("frame: column %q given twice", c.Name)
		}
		given[c.Name] = true
		// Checked here, not left to New, so that the error names the new
		// column rather than an existing one.
		if c.Values != nil && len(f.columns) > 0 && c.Values.Len() != f.rows {
			return nil, fmt.Errorf("frame: column %q has %d rows, the frame has %d", c.Name, c.Values.Len(), f.rows)
		}
		if i, ok := f.index[c.Name]; ok {
			cols[i] = c
		} else {
			cols = append(cols, c)
		}
	}
	g, err := New(cols...)
	if err != nil {
		return nil, err
	}
	g.offset = f.offset
	return g, nil
}

// ByteSize estimates the memory the frame's rows occupy: value bytes,
// string data and validity bitmaps of the rows in range, not of any larger
// buffer a slice shares.
func (f *Frame) ByteSize() int64 {
	var n int64
	for _, c := range f.columns {
		n += arrayBytes(c)
	}
	return n
}

func arrayBytes(a arrow.Array) int64 {
	rows := int64(a.Len())
	if rows == 0 {
		// Empty arrays may have no offsets buffer at all to read below.
		return 0
	}
	n := int64(0)
	if a.NullN() > 0 {
		n = bitutil.BytesForBits(rows)
	}
	switch v := a.(type) {
	case *array.Boolean:
		return n + bitutil.BytesForBits(rows)
	case *array.Dictionary:
		// The indices carry the validity bitmap. Every slice shares the
		// whole dictionary, so all of it counts.
		return arrayBytes(v.Indices()) + arrayBytes(v.Dictionary())
	case *array.String, *array.Binary:
		return n + 4*(rows+1) + int64(len(v.(array.BinaryLike).ValueBytes()))
	case *array.LargeString, *array.LargeBinary:
		return n + 8*(rows+1) + int64(len(v.(array.BinaryLike).ValueBytes()))
	case *array.Struct:
		for i := range v.NumField() {
			n += arrayBytes(v.Field(i))
		}
		return n
	case *array.List, *array.Map:
		return n + 4*(rows+1) + listValuesBytes(v.(array.ListLike))
	case *array.LargeList:
		return n + 8*(rows+1) + listValuesBytes(v)
	case *array.FixedSizeList:
		return n + listValuesBytes(v)
	}
	if t, ok := a.DataType().(arrow.FixedWidthDataType); ok {
		return n + rows*int64(t.BitWidth())/8
	}
	// Other layouts (views, unions, run-end encoding) are counted by their
	// own whole buffers, which overstates what a slice of them holds and
	// leaves out their children.
	n = 0
	for _, b := range a.Data().Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	return n
}

// listValuesBytes counts the child values that a's rows use: a slice of a
// list array shares the child array of the whole list.
func listValuesBytes(a array.ListLike) int64 {
	start, _ := a.ValueOffsets(0)
	_, end := a.ValueOffsets(a.Len() - 1)
	return arrayBytes(array.NewSlice(a.ListValues(), start, end))
}

// Head formats the first n rows of the frame as a small table, for logs and
// examples.
func (f *Frame) Head(n int) string {
	if n > f.rows {
		n = f.rows
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[%dx%d]", f.rows, len(f.columns))
	for _, field := range f.schema.Fields() {
		fmt.Fprintf(&b, " %s(%s)", field.Name, field.Type)
	}
	b.WriteByte('\n')
	for r := 0; r < n; r++ {
		for i, c := range f.columns {
			if i > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(c.ValueStr(r))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
