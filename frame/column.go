package frame

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Float64s makes a float64 column that shares values' memory: the caller
// must not modify values afterwards.
func Float64s(name string, values []float64) Column {
	return Column{Name: name, Values: array.NewFloat64Data(wrap(arrow.PrimitiveTypes.Float64, len(values), arrow.Float64Traits.CastToBytes(values)))}
}

// Float32s makes a float32 column that shares values' memory: the caller
// must not modify values afterwards.
func Float32s(name string, values []float32) Column {
	return Column{Name: name, Values: array.NewFloat32Data(wrap(arrow.PrimitiveTypes.Float32, len(values), arrow.Float32Traits.CastToBytes(values)))}
}

// Int64s makes an int64 column that shares values' memory: the caller must
// not modify values afterwards.
func Int64s(name string, values []int64) Column {
	return Column{Name: name, Values: array.NewInt64Data(wrap(arrow.PrimitiveTypes.Int64, len(values), arrow.Int64Traits.CastToBytes(values)))}
}

// Strings makes a string column holding a copy of values.
func Strings(name string, values []string) Column {
	b := array.NewStringBuilder(allocator)
	b.AppendValues(values, nil)
	return Column{Name: name, Values: b.NewArray()}
}

// Bools makes a boolean column holding a copy of values.
func Bools(name string, values []bool) Column {
	b := array.NewBooleanBuilder(allocator)
	b.AppendValues(values, nil)
	return Column{Name: name, Values: b.NewArray()}
}

func wrap(t arrow.DataType, n int, values []byte) arrow.ArrayData {
	return array.NewData(t, n, []*memory.Buffer{nil, memory.NewBufferBytes(values)}, nil, 0, 0)
}
