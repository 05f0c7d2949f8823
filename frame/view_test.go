package frame_test

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/frame"
)

func TestUnviewedHoldsStringsWhereTheFrameHeldViews(t *testing.T) {
	mem := memory.DefaultAllocator
	sv := array.NewStringViewBuilder(mem)
	sv.AppendValues([]string{"short", "a string longer than twelve bytes", ""}, []bool{true, true, false})
	bv := array.NewBinaryViewBuilder(mem)
	bv.AppendValues([][]byte{{0, 1}, nil, []byte("another value longer than twelve")}, []bool{true, false, true})
	values := array.NewStringViewBuilder(mem)
	values.AppendValues([]string{"x", "a value of the dictionary, viewed"}, nil)
	indices := array.NewInt8Builder(mem)
	indices.AppendValues([]int8{1, 0, 1}, []bool{true, false, true})
	dict := array.NewDictionaryArray(&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.StringView},
		indices.NewArray(), values.NewArray())
	f, err := frame.New(
		frame.Int64s("id", []int64{1, 2, 3}),
		frame.Column{Name: "sv", Values: sv.NewArray()},
		frame.Column{Name: "bv", Values: bv.NewArray()},
		frame.Column{Name: "dict", Values: dict},
	)
	require.NoError(t, err)
	f = f.WithRowOffset(40)

	u := f.Unviewed()
	assert.Equal(t, "schema:\n  fields: 4\n    - id: type=int64, nullable\n    - sv: type=utf8, nullable\n    - bv: type=binary, nullable\n    - dict: type=dictionary<values=utf8, indices=int8, ordered=false>, nullable",
		u.Schema().String())
	assert.Same(t, f.Column(0), u.Column(0), "a column without views is shared")
	for j := 1; j < f.NumCols(); j++ {
		assert.Equal(t, f.Column(j).String(), u.Column(j).String(), f.Schema().Field(j).Name)
	}
	assert.Equal(t, 40, u.RowOffset())
	assert.Same(t, u, u.Unviewed(), "a frame without views is returned as it is")
}
