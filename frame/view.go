package frame

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

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

// unviewedType is t with string_view as string and binary_view as binary,
// in a dictionary's values too (polars' categoricals).
func unviewedType(t arrow.DataType) arrow.DataType {
	switch t := t.(type) {
	case *arrow.StringViewType:
		return arrow.BinaryTypes.String
	case *arrow.BinaryViewType:
		return arrow.BinaryTypes.Binary
	case *arrow.DictionaryType:
		if values := unviewedType(t.ValueType); values != t.ValueType {
			return &arrow.DictionaryType{IndexType: t.IndexType, ValueType: values, Ordered: t.Ordered}
		}
	}
	return t
}

// unviewed returns a string_view or binary_view array (or a dictionary of
// them) as a string or binary one, and other arrays as they are.
func unviewed(a arrow.Array) arrow.Array {
	switch v := a.(type) {
	case *array.Dictionary:
		values := unviewed(v.Dictionary())
		defer values.Release()
		return array.NewDictionaryArray(unviewedType(v.DataType()), v.Indices(), values)
	case *array.StringView:
		return copyValues[string](array.NewStringBuilder(allocator), v)
	case *array.BinaryView:
		return copyValues[[]byte](array.NewBinaryBuilder(allocator, arrow.BinaryTypes.Binary), v)
	}
	a.Retain()
	return a
}

// copyValues copies a's values, nulls included, into a new array of b's
// type.
func copyValues[V any](b interface {
	array.Builder
	Append(V)
}, a interface {
	arrow.Array
	Value(int) V
}) arrow.Array {
	defer b.Release()
	b.Reserve(a.Len())
	for i := range a.Len() {
		if a.IsNull(i) {
			b.AppendNull()
		} else {
			b.Append(a.Value(i))
		}
	}
	return b.NewArray()
}
