package frame

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Float64s makes a float64 column that shares values' memory: the caller
// must not modify values afterwards.
func Float64s(name string, values []float64) Column {
	return Column{Name: name, Values: array.NewFloat64Data(validity{}.data(arrow.PrimitiveTypes.Float64, len(values), arrow.Float64Traits.CastToBytes(values)))}
}

// Float32s makes a float32 column that shares values' memory: the caller
// must not modify values afterwards.
func Float32s(name string, values []float32) Column {
	return Column{Name: name, Values: array.NewFloat32Data(validity{}.data(arrow.PrimitiveTypes.Float32, len(values), arrow.Float32Traits.CastToBytes(values)))}
}

// Int64s makes an int64 column that shares values' memory: the caller must
// not modify values afterwards.
func Int64s(name string, values []int64) Column {
	return Column{Name: name, Values: array.NewInt64Data(validity{}.data(arrow.PrimitiveTypes.Int64, len(values), arrow.Int64Traits.CastToBytes(values)))}
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

// validity is a validity bitmap that is only allocated once a null turns
// up, since most columns have none; the zero validity has no nulls.
type validity struct {
	bits  []byte
	nulls int
}

// clear marks row i of n as null.
func (v *validity) clear(i, n int) {
	if v.bits == nil {
		v.bits = make([]byte, bitutil.BytesForBits(int64(n)))
		bitutil.SetBitsTo(v.bits, 0, int64(n), true)
	}
	bitutil.ClearBit(v.bits, i)
	v.nulls++
}

// data describes n values of type t held in values, which it does not
// copy, with v as their validity bitmap.
func (v validity) data(t arrow.DataType, n int, values []byte) arrow.ArrayData {
	var bitmap *memory.Buffer
	if v.bits != nil {
		bitmap = memory.NewBufferBytes(v.bits)
	}
	return array.NewData(t, n, []*memory.Buffer{bitmap, memory.NewBufferBytes(values)}, nil, v.nulls, 0)
}
