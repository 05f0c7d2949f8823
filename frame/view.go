package frame

import "github.com/apache/arrow-go/v18/arrow"

// Unviewed returns f with its string_view and binary_view columns, and
// dictionaries of them, as string and binary columns, for readers that
// lack the view types (pyarrow before 16, dfbatch_model.py without
// pyarrow); f itself when it has none. Only the view columns are copied.
func (f *Frame) Unviewed() *Frame {
	fields := f.schema.Fields()
	changed := false
	for j := range fields {
		if t := unviewedType(fields[j].Type); t != fields[j].Type {
			fields[j].Type, changed = t, true
		}
	}
	if !changed {
		return f
	}
	md := f.schema.Metadata()
	cols := make([]arrow.Array, len(f.columns))
	for j, c := range f.columns {
		cols[j] = unviewed(c)
	}
	out, err := FromArrays(arrow.NewSchema(fields, &md), cols)
	if err != nil {
		panic(err) // the same names and lengths as f's
	}
	out.offset = f.offset
	return out
}
