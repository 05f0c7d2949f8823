package frame

import (
	"bytes"
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
		c, err := concatColumn(parts)
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

// concatColumn joins one column's parts, which have the same type.
func concatColumn(parts []arrow.Array) (arrow.Array, error) {
	if values, ok := joinValues(parts); ok {
		rows := 0
		for _, a := range parts {
			rows += a.Len()
		}
		return array.MakeFromData(validity{}.data(parts[0].DataType(), rows, values)), nil
	}
	return array.Concatenate(parts, allocator)
}

// joinValues joins the values of primitive fixed-width parts without
// nulls, the usual output of a model, and reports whether it could:
// bytes.Join fills a buffer that it does not zero first, which
// array.Concatenate does, so each byte is written once instead of twice.
func joinValues(parts []arrow.Array) ([]byte, bool) {
	t := parts[0].DataType()
	if !arrow.IsPrimitive(t.ID()) || t.ID() == arrow.BOOL {
		return nil, false // booleans are bits: not whole bytes per row
	}
	width := t.(arrow.FixedWidthDataType).BitWidth() / 8
	values := make([][]byte, 0, len(parts))
	for _, a := range parts {
		if a.NullN() > 0 {
			return nil, false
		}
		if a.Len() == 0 {
			continue // it may have no values buffer at all
		}
		d := a.Data()
		start := d.Offset() * width
		values = append(values, d.Buffers()[1].Bytes()[start:start+d.Len()*width])
	}
	if len(values) == 0 {
		return nil, false
	}
	return bytes.Join(values, nil), true
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
