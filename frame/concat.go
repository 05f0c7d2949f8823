package frame

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Concat joins frames top to bottom, in the order given. Every frame must
// have the same columns, in the same order, with the same types; otherwise
// the error names the first column that differs and the frame at fault.
// Concat of a single frame returns it unchanged.
func Concat(frames ...*Frame) (*Frame, error) {
	if len(frames) == 0 {
		return nil, fmt.Errorf("frame: nothing to concatenate")
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
	return FromArrays(first.schema, cols)
}

// SameSchema returns nil when got has want's columns, in order, with the same
// types, and otherwise a *ColumnError naming the first column that differs.
func SameSchema(want, got *arrow.Schema) error {
	for i, w := range want.Fields() {
		if i >= got.NumFields() {
			return &ColumnError{Column: w.Name, Row: noRow, Err: fmt.Errorf("is missing")}
		}
		g := got.Field(i)
		if g.Name != w.Name {
			if _, ok := got.FieldsByName(w.Name); ok {
				return &ColumnError{Column: w.Name, Row: noRow, Err: fmt.Errorf("is at position %d, expected %d", got.FieldIndices(w.Name)[0], i)}
			}
			return &ColumnError{Column: w.Name, Row: noRow, Err: fmt.Errorf("is missing (found %q in its place)", g.Name)}
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
