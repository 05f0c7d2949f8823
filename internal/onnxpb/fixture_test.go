package onnxpb

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testdata/tiny.onnx was written by the onnx Python package
// (testdata/make_tiny.py): a real file, not one that this package encoded.
func TestLoadRealModel(t *testing.T) {
	m, err := Load("testdata/tiny.onnx")
	require.NoError(t, err)

	assert.Equal(t, int64(8), m.GetIrVersion())
	assert.Equal(t, "onnxpb-testdata", m.GetProducerName())
	assert.Equal(t, int64(15), Opset(m, ""))
	assert.Equal(t, int64(3), Opset(m, MLDomain))
	assert.Equal(t, []Operator{
		{Domain: "ai.onnx", OpType: "Mul", Count: 1},
		{Domain: "ai.onnx.ml", OpType: "TreeEnsembleClassifier", Count: 1},
		{Domain: "ai.onnx.ml", OpType: "ZipMap", Count: 1},
		{Domain: "ai.onnx", OpType: "Constant", Count: 1},
	}, Operators(m.Graph))

	g := m.Graph
	require.Len(t, g.Input, 1)
	dims, params, elem, ok := ShapeOf(g.Input[0])
	require.True(t, ok)
	assert.Equal(t, "X", g.Input[0].GetName())
	assert.Equal(t, []int64{-1, 3}, dims)
	assert.Equal(t, []string{"N", ""}, params)
	assert.Equal(t, TensorProto_FLOAT, elem)

	require.Len(t, g.Output, 2)
	dims, params, elem, ok = ShapeOf(g.Output[0])
	require.True(t, ok)
	assert.Equal(t, []int64{-1}, dims)
	assert.Equal(t, []string{"N"}, params)
	assert.Equal(t, TensorProto_INT64, elem)
	_, _, _, ok = ShapeOf(g.Output[1])
	assert.False(t, ok)
	assert.Equal(t, "seq(map(int64,tensor(float)))", TypeString(g.Output[1].Type))

	init := map[string]*TensorProto{}
	for _, tp := range g.Initializer {
		init[tp.GetName()] = tp
	}
	assert.NotEmpty(t, init["scale"].RawData, "numpy_helper.from_array writes raw_data")
	assert.Empty(t, init["typed_double"].RawData)

	f32, err := TensorFloat32s(init["scale"])
	require.NoError(t, err)
	assert.Equal(t, []float32{1.5, -2, 0.25}, f32)
	f32, err = TensorFloat32s(init["typed_float_scalar"])
	require.NoError(t, err)
	assert.Equal(t, []float32{0.125}, f32)
	f64, err := TensorFloat64s(init["typed_double"])
	require.NoError(t, err)
	assert.Equal(t, []float64{0.5, 1.5, -2.5, 3}, f64)
	i64, err := TensorInt64s(init["typed_int64"])
	require.NoError(t, err)
	assert.Equal(t, []int64{7, -8, 9}, i64)
	i64, err = TensorInt64s(init["raw_int64"])
	require.NoError(t, err)
	assert.Equal(t, []int64{-1, 1 << 40}, i64)
	i64, err = TensorInt64s(init["typed_int32"])
	require.NoError(t, err)
	assert.Equal(t, []int64{-3, 4}, i64)
	i64, err = TensorInt64s(init["typed_bool"])
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 0, 1}, i64)
	strs, err := TensorStrings(init["names"])
	require.NoError(t, err)
	assert.Equal(t, []string{"yes", "no"}, strs)
	_, err = TensorFloat32s(init["typed_double"])
	assert.EqualError(t, err, `onnxpb: tensor "typed_double" has data type DOUBLE, want FLOAT`)

	trees := g.Node[1]
	assert.Equal(t, "trees", trees.GetName())
	assert.Equal(t, MLDomain, trees.GetDomain())
	modes, ok := AttrStrings(trees, "nodes_modes")
	assert.True(t, ok)
	assert.Equal(t, []string{"BRANCH_LEQ", "LEAF", "LEAF"}, modes)
	ids, ok := AttrInts(trees, "nodes_falsenodeids")
	assert.True(t, ok)
	assert.Equal(t, []int64{2, 0, 0}, ids)
	weights, ok := AttrFloats(trees, "class_weights")
	assert.True(t, ok)
	assert.Equal(t, []float32{0.8, 0.2, 0.3, 0.7}, weights)
	assert.Equal(t, "NONE", AttrStringOr(trees, "post_transform", "LOGISTIC"))
	_, ok = AttrInts(trees, "classlabels_strings")
	assert.False(t, ok)

	value, ok := AttrTensor(g.Node[3], "value")
	require.True(t, ok)
	f32, err = TensorFloat32s(value)
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2}, f32)
}
