package frame

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Concat joins frames top to bottom, in the order given. Every frame must
// have the same columns, in the same order, with the same types; otherwise
// the error names the first column that differs and the frame at fault.
// The result is numbered from the first frame's RowOffset, so joining
// consecutive slices of a frame numbers rows as that frame did. Concat of a
// single frame returns it unchanged.
func Concat(frames ...*Frame) (*Frame, error) {
	if len(frames) == 0 {
		return nil, fmt.Errorf("frame: nothing to concatenate")
	}
	for k, f := range frames {
		if f == nil {
			return nil, fmt.Errorf("frame: cannot concatenate frame %d: it is nil", k)
		}
	}
	first := frames[0]
	for k, f := range frames[1:] {
		if err := SameSchema(first.schema, f.schema); err != nil {
			return nil, fmt.Errorf("frame: cannot concatenate frame %d onto frame 0: %w", k+1, err)
		}
	}
	if len(frames) == 1 {
		return first, nil
	}
	cols := make([]arrow.Array, len(first.columns))
	parts := make([]arrow.Array, len(frames))
	for i := range first.columns {
		for k, f := range frames {
			parts[k] = f.columns[i]
		}
		c, err := array.Concatenate(parts, allocator)
		if err != nil {
			return nil, &ColumnError{Column: first.schema.Field(i).Name, Row: noRow, Err: err}
		}
		cols[i] = c
	}
	g, err := FromArrays(first.schema, cols)
	if err != nil {
		return nil, err
	}
	g.offset = first.offset
	return g, nil
}

// SameSchema returns nil when got has want's columns, in order, with the same
// types, and otherwise a *ColumnError naming the first column that differs:
// one that is missing, unexpected, out of place or of another type. Field
// nullability and metadata are not compared.
func SameSchema(want, got *arrow.Schema) error {
	for i := range want.NumFields() {
		w := want.Field(i)
		if i >= got.NumFields() {
			return &ColumnError{Column: w.Name, Row: noRow, Err: fmt.Errorf("is missing")}
		}
		g := got.Field(i)
		if g.Name != w.Name {
			switch {
			case !want.HasField(g.Name):
				return &ColumnError{Column: g.Name, Row: noRow, Err: fmt.Errorf("is unexpected (column %d should be %q)", i, w.Name)}
			case !got.HasField(w.Name):
				return &ColumnError{Column: w.Name, Row: noRow, Err: fmt.Errorf("is missing (found %q in its place)", g.Name)}
			default:
				return &ColumnError{Column: w.Name, Row: noRow, Err: fmt.Errorf("is column %d, expected column %d", got.FieldIndices(w.Name)[0], i)}
			}
		}
		if !arrow.TypeEqual(w.Type, g.Type) {
			return &ColumnError{Column: w.Name, Row: noRow, Err: fmt.Errorf("is %s, expected %s", g.Type, w.Type)}
		}
	}
	if got.NumFields() > want.NumFields() {
		return &ColumnError{Column: got.Field(want.NumFields()).Name, Row: noRow, Err: fmt.Errorf("is unexpected")}
	}
	return nil
}
