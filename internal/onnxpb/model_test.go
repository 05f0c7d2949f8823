package onnxpb

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

func dt(t TensorProto_DataType) *int32 { return proto.Int32(int32(t)) }

func dimValue(v int64) *TensorShapeProto_Dimension {
	return &TensorShapeProto_Dimension{Value: &TensorShapeProto_Dimension_DimValue{DimValue: v}}
}

func dimParam(p string) *TensorShapeProto_Dimension {
	return &TensorShapeProto_Dimension{Value: &TensorShapeProto_Dimension_DimParam{DimParam: p}}
}

func tensorValue(name string, elem TensorProto_DataType, dims ...*TensorShapeProto_Dimension) *ValueInfoProto {
	return &ValueInfoProto{
		Name: proto.String(name),
		Type: &TypeProto{Value: &TypeProto_TensorType{TensorType: &TypeProto_Tensor{
			ElemType: dt(elem),
			Shape:    &TensorShapeProto{Dim: dims},
		}}},
	}
}

func attr(name string, typ AttributeProto_AttributeType, set func(*AttributeProto)) *AttributeProto {
	a := &AttributeProto{Name: proto.String(name), Type: typ.Enum()}
	set(a)
	return a
}

func rawFloat32s(vs ...float32) []byte {
	b := make([]byte, 0, 4*len(vs))
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// testModel builds a model with a tree-ensemble node, initializers of several
// kinds, and an If node whose branches hold nodes of their own.
func testModel() *ModelProto {
	weights := &TensorProto{Name: proto.String("weights"), DataType: dt(TensorProto_FLOAT), Dims: []int64{2}, FloatData: []float32{0.25, 0.75}}
	thenBranch := &GraphProto{Name: proto.String("then"), Node: []*NodeProto{{OpType: proto.String("Relu"), Input: []string{"a"}, Output: []string{"b"}}}}
	elseBranch := &GraphProto{Name: proto.String("else"), Node: []*NodeProto{
		{OpType: proto.String("Sigmoid"), Domain: proto.String("ai.onnx"), Input: []string{"a"}, Output: []string{"b"}},
		{OpType: proto.String("Relu"), Input: []string{"b"}, Output: []string{"c"}},
	}}
	return &ModelProto{
		IrVersion:    proto.Int64(8),
		ProducerName: proto.String("onnxpb-test"),
		OpsetImport: []*OperatorSetIdProto{
			{Domain: proto.String(""), Version: proto.Int64(17)},
			{Domain: proto.String("ai.onnx.ml"), Version: proto.Int64(3)},
		},
		Graph: &GraphProto{
			Name: proto.String("g"),
			Node: []*NodeProto{
				{
					Name: proto.String("trees"), OpType: proto.String("TreeEnsembleClassifier"), Domain: proto.String("ai.onnx.ml"),
					Input: []string{"X"}, Output: []string{"label", "probabilities"},
					Attribute: []*AttributeProto{
						attr("nodes_treeids", AttributeProto_INTS, func(a *AttributeProto) { a.Ints = []int64{0, 0, 0} }),
						attr("nodes_values", AttributeProto_FLOATS, func(a *AttributeProto) { a.Floats = []float32{0.5, 0, 0} }),
						attr("nodes_modes", AttributeProto_STRINGS, func(a *AttributeProto) {
							a.Strings = [][]byte{[]byte("BRANCH_LEQ"), []byte("LEAF"), []byte("LEAF")}
						}),
						attr("post_transform", AttributeProto_STRING, func(a *AttributeProto) { a.S = []byte("LOGISTIC") }),
						attr("n_targets", AttributeProto_INT, func(a *AttributeProto) { a.I = proto.Int64(2) }),
						attr("alpha", AttributeProto_FLOAT, func(a *AttributeProto) { a.F = proto.Float32(0.5) }),
						attr("base_values_as_tensor", AttributeProto_TENSOR, func(a *AttributeProto) { a.T = weights }),
						attr("empty_ints", AttributeProto_INTS, func(*AttributeProto) {}),
					},
				},
				{
					Name: proto.String("cond"), OpType: proto.String("If"), Input: []string{"c"}, Output: []string{"y"},
					Attribute: []*AttributeProto{
						attr("then_branch", AttributeProto_GRAPH, func(a *AttributeProto) { a.G = thenBranch }),
						attr("else_branch", AttributeProto_GRAPH, func(a *AttributeProto) { a.G = elseBranch }),
					},
				},
				{Name: proto.String("relu"), OpType: proto.String("Relu"), Input: []string{"y"}, Output: []string{"z"}},
			},
			Initializer: []*TensorProto{
				weights,
				{Name: proto.String("raw"), DataType: dt(TensorProto_FLOAT), Dims: []int64{2, 2}, RawData: rawFloat32s(1, -2, 3.5, 0)},
			},
			Input: []*ValueInfoProto{tensorValue("X", TensorProto_FLOAT, dimParam("N"), dimValue(3))},
			Output: []*ValueInfoProto{
				tensorValue("label", TensorProto_INT64, dimParam("N")),
				{Name: proto.String("probabilities"), Type: &TypeProto{Value: &TypeProto_SequenceType{SequenceType: &TypeProto_Sequence{
					ElemType: &TypeProto{Value: &TypeProto_MapType{MapType: &TypeProto_Map{
						KeyType:   dt(TensorProto_INT64),
						ValueType: &TypeProto{Value: &TypeProto_TensorType{TensorType: &TypeProto_Tensor{ElemType: dt(TensorProto_FLOAT)}}},
					}}},
				}}}},
			},
		},
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	want := testModel()
	data, err := proto.Marshal(want)
	require.NoError(t, err)

	got, err := Decode(data)
	require.NoError(t, err)
	assert.True(t, proto.Equal(want, got), "decoded model differs from the marshalled one")
	assert.Equal(t, "onnxpb-test", got.GetProducerName())
	assert.Equal(t, int64(8), got.GetIrVersion())

	path := filepath.Join(t.TempDir(), "m.onnx")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	loaded, err := Load(path)
	require.NoError(t, err)
	assert.True(t, proto.Equal(want, loaded))
}

func TestDecodeErrors(t *testing.T) {
	_, err := Decode(nil)
	assert.EqualError(t, err, "onnxpb: decode model: empty input, not an ONNX model")

	_, err = Decode([]byte{0xff, 0xff, 0xff})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "onnxpb: decode model: not an ONNX model: ")

	noGraph, err := proto.Marshal(&ModelProto{IrVersion: proto.Int64(8)})
	require.NoError(t, err)
	_, err = Decode(noGraph)
	assert.EqualError(t, err, "onnxpb: decode model: not an ONNX model: no graph")

	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.onnx")
	_, err = Load(missing)
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), missing)

	csv := filepath.Join(dir, "data.csv")
	require.NoError(t, os.WriteFile(csv, []byte("a,b,c\n1,2,3\n"), 0o644))
	_, err = Load(csv)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "onnxpb: load model "+csv+": not an ONNX model")

	empty := filepath.Join(dir, "empty.onnx")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	_, err = Load(empty)
	assert.EqualError(t, err, "onnxpb: load model "+empty+": empty input, not an ONNX model")
}

func TestOpset(t *testing.T) {
	m := testModel()
	assert.Equal(t, int64(17), Opset(m, ""))
	assert.Equal(t, int64(17), Opset(m, "ai.onnx"))
	assert.Equal(t, int64(3), Opset(m, "ai.onnx.ml"))
	assert.Zero(t, Opset(m, "com.microsoft"))
	assert.Zero(t, Opset(nil, ""))

	m.OpsetImport[0].Domain = proto.String("ai.onnx")
	assert.Equal(t, int64(17), Opset(m, ""))
	m.OpsetImport[0].Domain = nil // unset reads as ""
	assert.Equal(t, int64(17), Opset(m, "ai.onnx"))

	assert.Equal(t, "ai.onnx", CanonicalDomain(""))
	assert.Equal(t, "ai.onnx.ml", CanonicalDomain(MLDomain))
}

func TestOperators(t *testing.T) {
	assert.Equal(t, []Operator{
		{Domain: "ai.onnx.ml", OpType: "TreeEnsembleClassifier", Count: 1},
		{Domain: "ai.onnx", OpType: "If", Count: 1},
		{Domain: "ai.onnx", OpType: "Relu", Count: 3},
		{Domain: "ai.onnx", OpType: "Sigmoid", Count: 1},
	}, Operators(testModel().Graph))
	assert.Empty(t, Operators(nil))

	// GRAPHS attributes are walked too.
	g := &GraphProto{Node: []*NodeProto{{
		OpType: proto.String("Custom"), Domain: proto.String("com.example"),
		Attribute: []*AttributeProto{attr("bodies", AttributeProto_GRAPHS, func(a *AttributeProto) {
			a.Graphs = []*GraphProto{
				{Node: []*NodeProto{{OpType: proto.String("Tanh")}}},
				{Node: []*NodeProto{{OpType: proto.String("Tanh")}, {OpType: proto.String("Custom"), Domain: proto.String("com.example")}}},
			}
		})},
	}}}
	assert.Equal(t, []Operator{
		{Domain: "com.example", OpType: "Custom", Count: 2},
		{Domain: "ai.onnx", OpType: "Tanh", Count: 2},
	}, Operators(g))
}

func TestShapeOf(t *testing.T) {
	m := testModel()
	dims, params, elem, ok := ShapeOf(m.Graph.Input[0])
	require.True(t, ok)
	assert.Equal(t, []int64{-1, 3}, dims)
	assert.Equal(t, []string{"N", ""}, params)
	assert.Equal(t, TensorProto_FLOAT, elem)

	// A dimension with neither a value nor a name is dynamic and unnamed.
	dims, params, elem, ok = ShapeOf(tensorValue("y", TensorProto_INT64, &TensorShapeProto_Dimension{}, dimValue(0)))
	require.True(t, ok)
	assert.Equal(t, []int64{-1, 0}, dims)
	assert.Equal(t, []string{"", ""}, params)
	assert.Equal(t, TensorProto_INT64, elem)

	// Scalar: empty, non-nil dims.
	dims, params, _, ok = ShapeOf(tensorValue("s", TensorProto_DOUBLE))
	require.True(t, ok)
	assert.NotNil(t, dims)
	assert.Empty(t, dims)
	assert.NotNil(t, params)

	// Unknown rank: no shape at all.
	v := tensorValue("r", TensorProto_STRING)
	v.Type.GetTensorType().Shape = nil
	dims, params, elem, ok = ShapeOf(v)
	require.True(t, ok)
	assert.Nil(t, dims)
	assert.Nil(t, params)
	assert.Equal(t, TensorProto_STRING, elem)

	// Not a tensor.
	_, _, elem, ok = ShapeOf(m.Graph.Output[1])
	assert.False(t, ok)
	assert.Equal(t, TensorProto_UNDEFINED, elem)
	_, _, _, ok = ShapeOf(nil)
	assert.False(t, ok)
	_, _, _, ok = ShapeOf(&ValueInfoProto{Name: proto.String("untyped")})
	assert.False(t, ok)
}

func TestTypeString(t *testing.T) {
	m := testModel()
	assert.Equal(t, "tensor(float)", TypeString(m.Graph.Input[0].Type))
	assert.Equal(t, "seq(map(int64,tensor(float)))", TypeString(m.Graph.Output[1].Type))
	assert.Equal(t, "sparse_tensor(int64)", TypeString(&TypeProto{Value: &TypeProto_SparseTensorType{
		SparseTensorType: &TypeProto_SparseTensor{ElemType: dt(TensorProto_INT64)}}}))
	assert.Equal(t, "optional(tensor(string))", TypeString(&TypeProto{Value: &TypeProto_OptionalType{
		OptionalType: &TypeProto_Optional{ElemType: &TypeProto{Value: &TypeProto_TensorType{
			TensorType: &TypeProto_Tensor{ElemType: dt(TensorProto_STRING)}}}}}}))
	assert.Equal(t, "opaque(com.example,thing)", TypeString(&TypeProto{Value: &TypeProto_OpaqueType{
		OpaqueType: &TypeProto_Opaque{Domain: proto.String("com.example"), Name: proto.String("thing")}}}))
	assert.Equal(t, "opaque(thing)", TypeString(&TypeProto{Value: &TypeProto_OpaqueType{
		OpaqueType: &TypeProto_Opaque{Name: proto.String("thing")}}}))
	assert.Equal(t, "tensor(bfloat16)", TypeString(&TypeProto{Value: &TypeProto_TensorType{
		TensorType: &TypeProto_Tensor{ElemType: dt(TensorProto_BFLOAT16)}}}))
	assert.Equal(t, "unknown", TypeString(nil))
	assert.Equal(t, "unknown", TypeString(&TypeProto{}))
}

func TestAttributes(t *testing.T) {
	n := testModel().Graph.Node[0]

	require.NotNil(t, Attr(n, "post_transform"))
	assert.Nil(t, Attr(n, "nope"))
	assert.Nil(t, Attr(nil, "post_transform"))

	ints, ok := AttrInts(n, "nodes_treeids")
	assert.True(t, ok)
	assert.Equal(t, []int64{0, 0, 0}, ints)
	floats, ok := AttrFloats(n, "nodes_values")
	assert.True(t, ok)
	assert.Equal(t, []float32{0.5, 0, 0}, floats)
	strs, ok := AttrStrings(n, "nodes_modes")
	assert.True(t, ok)
	assert.Equal(t, []string{"BRANCH_LEQ", "LEAF", "LEAF"}, strs)
	s, ok := AttrString(n, "post_transform")
	assert.True(t, ok)
	assert.Equal(t, "LOGISTIC", s)
	i, ok := AttrInt(n, "n_targets")
	assert.True(t, ok)
	assert.Equal(t, int64(2), i)
	f, ok := AttrFloat(n, "alpha")
	assert.True(t, ok)
	assert.Equal(t, float32(0.5), f)
	tensor, ok := AttrTensor(n, "base_values_as_tensor")
	assert.True(t, ok)
	assert.Equal(t, "weights", tensor.GetName())

	// An empty list with its type set is present.
	ints, ok = AttrInts(n, "empty_ints")
	assert.True(t, ok)
	assert.Empty(t, ints)

	// Missing, and present with another type: ok is false.
	for _, name := range []string{"nope", "post_transform"} {
		_, ok = AttrInts(n, name)
		assert.False(t, ok, name)
		_, ok = AttrFloats(n, name)
		assert.False(t, ok, name)
		_, ok = AttrInt(n, name)
		assert.False(t, ok, name)
		_, ok = AttrFloat(n, name)
		assert.False(t, ok, name)
		_, ok = AttrTensor(n, name)
		assert.False(t, ok, name)
		_, ok = AttrGraph(n, name)
		assert.False(t, ok, name)
	}
	for _, name := range []string{"nope", "n_targets"} {
		_, ok = AttrString(n, name)
		assert.False(t, ok, name)
		_, ok = AttrStrings(n, name)
		assert.False(t, ok, name)
	}

	// Defaults.
	assert.Equal(t, int64(2), AttrIntOr(n, "n_targets", 1))
	assert.Equal(t, int64(1), AttrIntOr(n, "nope", 1))
	assert.Equal(t, float32(0.5), AttrFloatOr(n, "alpha", 1))
	assert.Equal(t, float32(1), AttrFloatOr(n, "nope", 1))
	assert.Equal(t, "LOGISTIC", AttrStringOr(n, "post_transform", "NONE"))
	assert.Equal(t, "NONE", AttrStringOr(n, "nope", "NONE"))
	assert.Equal(t, "NONE", AttrStringOr(n, "n_targets", "NONE")) // wrong type

	g, ok := AttrGraph(testModel().Graph.Node[1], "then_branch")
	assert.True(t, ok)
	assert.Equal(t, "then", g.GetName())
}

// Models from before IR version 0.0.2 leave AttributeProto.type unset.
func TestAttributesWithoutType(t *testing.T) {
	n := &NodeProto{Attribute: []*AttributeProto{
		{Name: proto.String("i"), I: proto.Int64(4)},
		{Name: proto.String("f"), F: proto.Float32(1.5)},
		{Name: proto.String("s"), S: []byte("x")},
		{Name: proto.String("t"), T: &TensorProto{Name: proto.String("tt")}},
		{Name: proto.String("g"), G: &GraphProto{}},
		{Name: proto.String("ints"), Ints: []int64{1, 2}},
		{Name: proto.String("floats"), Floats: []float32{1, 2}},
		{Name: proto.String("strings"), Strings: [][]byte{[]byte("a")}},
		{Name: proto.String("tensors"), Tensors: []*TensorProto{{}}},
		{Name: proto.String("graphs"), Graphs: []*GraphProto{{}}},
		{Name: proto.String("sparse"), SparseTensor: &SparseTensorProto{}},
		{Name: proto.String("sparses"), SparseTensors: []*SparseTensorProto{{}}},
		{Name: proto.String("tp"), Tp: &TypeProto{}},
		{Name: proto.String("tps"), TypeProtos: []*TypeProto{{}}},
		{Name: proto.String("nothing")},
	}}
	want := map[string]AttributeProto_AttributeType{
		"i": AttributeProto_INT, "f": AttributeProto_FLOAT, "s": AttributeProto_STRING,
		"t": AttributeProto_TENSOR, "g": AttributeProto_GRAPH, "ints": AttributeProto_INTS,
		"floats": AttributeProto_FLOATS, "strings": AttributeProto_STRINGS,
		"tensors": AttributeProto_TENSORS, "graphs": AttributeProto_GRAPHS,
		"sparse": AttributeProto_SPARSE_TENSOR, "sparses": AttributeProto_SPARSE_TENSORS,
		"tp": AttributeProto_TYPE_PROTO, "tps": AttributeProto_TYPE_PROTOS,
		"nothing": AttributeProto_UNDEFINED,
	}
	for name, typ := range want {
		assert.Equal(t, typ, AttrType(Attr(n, name)), name)
	}
	assert.Equal(t, AttributeProto_UNDEFINED, AttrType(nil))

	i, ok := AttrInt(n, "i")
	assert.True(t, ok)
	assert.Equal(t, int64(4), i)
	s, ok := AttrString(n, "s")
	assert.True(t, ok)
	assert.Equal(t, "x", s)
	fs, ok := AttrFloats(n, "floats")
	assert.True(t, ok)
	assert.Equal(t, []float32{1, 2}, fs)
}

func TestTensorReaders(t *testing.T) {
	le := binary.LittleEndian
	tensor := func(typ TensorProto_DataType, dims []int64, set func(*TensorProto)) *TensorProto {
		tp := &TensorProto{Name: proto.String("t"), DataType: dt(typ), Dims: dims}
		set(tp)
		return tp
	}

	t.Run("float32", func(t *testing.T) {
		for _, tp := range []*TensorProto{
			tensor(TensorProto_FLOAT, []int64{2, 2}, func(tp *TensorProto) { tp.FloatData = []float32{1, -2, 3.5, 0} }),
			tensor(TensorProto_FLOAT, []int64{2, 2}, func(tp *TensorProto) { tp.RawData = rawFloat32s(1, -2, 3.5, 0) }),
		} {
			got, err := TensorFloat32s(tp)
			require.NoError(t, err)
			assert.Equal(t, []float32{1, -2, 3.5, 0}, got)
		}
		// Scalar: no dims, one value.
		got, err := TensorFloat32s(tensor(TensorProto_FLOAT, nil, func(tp *TensorProto) { tp.FloatData = []float32{7} }))
		require.NoError(t, err)
		assert.Equal(t, []float32{7}, got)
		// Empty: a zero dimension, no data.
		got, err = TensorFloat32s(tensor(TensorProto_FLOAT, []int64{0, 3}, func(*TensorProto) {}))
		require.NoError(t, err)
		assert.Empty(t, got)
	})

	t.Run("float64", func(t *testing.T) {
		var raw []byte
		for _, v := range []float64{0.1, -1e300} {
			raw = le.AppendUint64(raw, math.Float64bits(v))
		}
		for _, tp := range []*TensorProto{
			tensor(TensorProto_DOUBLE, []int64{2}, func(tp *TensorProto) { tp.DoubleData = []float64{0.1, -1e300} }),
			tensor(TensorProto_DOUBLE, []int64{2}, func(tp *TensorProto) { tp.RawData = raw }),
		} {
			got, err := TensorFloat64s(tp)
			require.NoError(t, err)
			assert.Equal(t, []float64{0.1, -1e300}, got)
		}
		// FLOAT widens.
		for _, tp := range []*TensorProto{
			tensor(TensorProto_FLOAT, []int64{2}, func(tp *TensorProto) { tp.FloatData = []float32{0.5, -3} }),
			tensor(TensorProto_FLOAT, []int64{2}, func(tp *TensorProto) { tp.RawData = rawFloat32s(0.5, -3) }),
		} {
			got, err := TensorFloat64s(tp)
			require.NoError(t, err)
			assert.Equal(t, []float64{0.5, -3}, got)
		}
	})

	t.Run("int64", func(t *testing.T) {
		cases := []struct {
			name string
			tp   *TensorProto
			want []int64
		}{
			{"INT64 typed", tensor(TensorProto_INT64, []int64{3}, func(tp *TensorProto) { tp.Int64Data = []int64{-1, 0, 1 << 40} }), []int64{-1, 0, 1 << 40}},
			{"INT64 raw", tensor(TensorProto_INT64, []int64{3}, func(tp *TensorProto) {
				for _, v := range []int64{-1, 0, 1 << 40} {
					tp.RawData = le.AppendUint64(tp.RawData, uint64(v))
				}
			}), []int64{-1, 0, 1 << 40}},
			{"INT32 typed", tensor(TensorProto_INT32, []int64{2}, func(tp *TensorProto) { tp.Int32Data = []int32{-5, 6} }), []int64{-5, 6}},
			{"INT32 raw", tensor(TensorProto_INT32, []int64{2}, func(tp *TensorProto) {
				tp.RawData = le.AppendUint32(le.AppendUint32(nil, uint32(0xfffffffb)), 6)
			}), []int64{-5, 6}},
			{"INT16 typed", tensor(TensorProto_INT16, []int64{2}, func(tp *TensorProto) { tp.Int32Data = []int32{-300, 300} }), []int64{-300, 300}},
			{"INT16 raw", tensor(TensorProto_INT16, []int64{2}, func(tp *TensorProto) { tp.RawData = []byte{0xd4, 0xfe, 0x2c, 0x01} }), []int64{-300, 300}},
			{"UINT16 typed", tensor(TensorProto_UINT16, []int64{1}, func(tp *TensorProto) { tp.Int32Data = []int32{65535} }), []int64{65535}},
			{"UINT16 raw", tensor(TensorProto_UINT16, []int64{1}, func(tp *TensorProto) { tp.RawData = []byte{0xff, 0xff} }), []int64{65535}},
			{"INT8 typed", tensor(TensorProto_INT8, []int64{2}, func(tp *TensorProto) { tp.Int32Data = []int32{-128, 127} }), []int64{-128, 127}},
			{"INT8 raw", tensor(TensorProto_INT8, []int64{2}, func(tp *TensorProto) { tp.RawData = []byte{0x80, 0x7f} }), []int64{-128, 127}},
			{"UINT8 typed", tensor(TensorProto_UINT8, []int64{2}, func(tp *TensorProto) { tp.Int32Data = []int32{0, 255} }), []int64{0, 255}},
			{"UINT8 raw", tensor(TensorProto_UINT8, []int64{2}, func(tp *TensorProto) { tp.RawData = []byte{0, 255} }), []int64{0, 255}},
			{"UINT32 typed", tensor(TensorProto_UINT32, []int64{1}, func(tp *TensorProto) { tp.Uint64Data = []uint64{math.MaxUint32} }), []int64{math.MaxUint32}},
			{"UINT32 raw", tensor(TensorProto_UINT32, []int64{1}, func(tp *TensorProto) { tp.RawData = []byte{0xff, 0xff, 0xff, 0xff} }), []int64{math.MaxUint32}},
			{"UINT64 typed", tensor(TensorProto_UINT64, []int64{1}, func(tp *TensorProto) { tp.Uint64Data = []uint64{math.MaxInt64} }), []int64{math.MaxInt64}},
			{"UINT64 raw", tensor(TensorProto_UINT64, []int64{1}, func(tp *TensorProto) { tp.RawData = le.AppendUint64(nil, 42) }), []int64{42}},
			{"BOOL typed", tensor(TensorProto_BOOL, []int64{3}, func(tp *TensorProto) { tp.Int32Data = []int32{1, 0, 1} }), []int64{1, 0, 1}},
			{"BOOL raw", tensor(TensorProto_BOOL, []int64{3}, func(tp *TensorProto) { tp.RawData = []byte{1, 0, 1} }), []int64{1, 0, 1}},
		}
		for _, c := range cases {
			got, err := TensorInt64s(c.tp)
			if assert.NoError(t, err, c.name) {
				assert.Equal(t, c.want, got, c.name)
			}
		}
	})

	t.Run("strings", func(t *testing.T) {
		got, err := TensorStrings(tensor(TensorProto_STRING, []int64{2}, func(tp *TensorProto) {
			tp.StringData = [][]byte{[]byte("yes"), []byte("")}
		}))
		require.NoError(t, err)
		assert.Equal(t, []string{"yes", ""}, got)
	})

	t.Run("errors", func(t *testing.T) {
		cases := []struct {
			name string
			read func() error
			want string
		}{
			{"wrong type for float32", func() error {
				_, err := TensorFloat32s(tensor(TensorProto_DOUBLE, []int64{1}, func(tp *TensorProto) { tp.DoubleData = []float64{1} }))
				return err
			}, `onnxpb: tensor "t" has data type DOUBLE, want FLOAT`},
			{"wrong type for float64", func() error {
				_, err := TensorFloat64s(tensor(TensorProto_INT64, []int64{1}, func(tp *TensorProto) { tp.Int64Data = []int64{1} }))
				return err
			}, `onnxpb: tensor "t" has data type INT64, want DOUBLE or FLOAT`},
			{"wrong type for int64", func() error {
				_, err := TensorInt64s(tensor(TensorProto_FLOAT16, []int64{1}, func(tp *TensorProto) { tp.Int32Data = []int32{1} }))
				return err
			}, `onnxpb: tensor "t" has data type FLOAT16, want an integer type or BOOL`},
			{"wrong type for strings", func() error {
				_, err := TensorStrings(tensor(TensorProto_UNDEFINED, nil, func(*TensorProto) {}))
				return err
			}, `onnxpb: tensor "t" has data type UNDEFINED, want STRING`},
			{"unnamed tensor, unknown data type", func() error {
				_, err := TensorFloat32s(&TensorProto{DataType: proto.Int32(99)})
				return err
			}, `onnxpb: unnamed tensor has data type 99, want FLOAT`},
			{"raw data too short", func() error {
				_, err := TensorFloat32s(tensor(TensorProto_FLOAT, []int64{2, 3}, func(tp *TensorProto) { tp.RawData = make([]byte, 10) }))
				return err
			}, `onnxpb: tensor "t" (FLOAT) has 10 bytes of raw_data, dims [2 3] need 24`},
			{"typed data too long", func() error {
				_, err := TensorInt64s(tensor(TensorProto_INT64, []int64{2}, func(tp *TensorProto) { tp.Int64Data = []int64{1, 2, 3} }))
				return err
			}, `onnxpb: tensor "t" (INT64) has 3 values in int64_data, dims [2] need 2`},
			{"data in the wrong typed field", func() error {
				_, err := TensorFloat64s(tensor(TensorProto_DOUBLE, []int64{1}, func(tp *TensorProto) { tp.FloatData = []float32{1} }))
				return err
			}, `onnxpb: tensor "t" (DOUBLE) has 0 values in double_data, dims [1] need 1`},
			{"no data", func() error {
				_, err := TensorStrings(tensor(TensorProto_STRING, []int64{1}, func(*TensorProto) {}))
				return err
			}, `onnxpb: tensor "t" (STRING) has 0 values in string_data, dims [1] need 1`},
			{"strings in raw_data", func() error {
				_, err := TensorStrings(tensor(TensorProto_STRING, []int64{1}, func(tp *TensorProto) { tp.RawData = []byte("abc") }))
				return err
			}, `onnxpb: tensor "t" (STRING) has raw_data, which cannot hold strings`},
			{"UINT64 above MaxInt64", func() error {
				_, err := TensorInt64s(tensor(TensorProto_UINT64, []int64{2}, func(tp *TensorProto) { tp.Uint64Data = []uint64{1, math.MaxUint64} }))
				return err
			}, `onnxpb: tensor "t" (UINT64) has value 18446744073709551615 at index 1, which does not fit in int64`},
			{"negative dim", func() error {
				_, err := TensorFloat32s(tensor(TensorProto_FLOAT, []int64{2, -1}, func(*TensorProto) {}))
				return err
			}, `onnxpb: tensor "t" (FLOAT) has a negative dimension in dims [2 -1]`},
			{"overflowing dims", func() error {
				_, err := TensorFloat32s(tensor(TensorProto_FLOAT, []int64{1 << 40, 1 << 40}, func(*TensorProto) {}))
				return err
			}, `onnxpb: tensor "t" (FLOAT) has too many elements: dims [1099511627776 1099511627776]`},
			{"external data", func() error {
				_, err := TensorFloat32s(tensor(TensorProto_FLOAT, []int64{4}, func(tp *TensorProto) {
					tp.DataLocation = TensorProto_EXTERNAL.Enum()
					tp.ExternalData = []*StringStringEntryProto{
						{Key: proto.String("location"), Value: proto.String("weights.bin")},
						{Key: proto.String("offset"), Value: proto.String("0")},
					}
				}))
				return err
			}, `onnxpb: tensor "t" (FLOAT) keeps its data in the external file "weights.bin", which is not supported`},
			{"nil tensor", func() error {
				_, err := TensorInt64s(nil)
				return err
			}, `onnxpb: nil tensor`},
		}
		for _, c := range cases {
			assert.EqualError(t, c.read(), c.want, c.name)
		}
	})

	t.Run("after a round trip", func(t *testing.T) {
		data, err := proto.Marshal(testModel())
		require.NoError(t, err)
		m, err := Decode(data)
		require.NoError(t, err)
		typed, err := TensorFloat32s(m.Graph.Initializer[0])
		require.NoError(t, err)
		assert.Equal(t, []float32{0.25, 0.75}, typed)
		raw, err := TensorFloat32s(m.Graph.Initializer[1])
		require.NoError(t, err)
		assert.Equal(t, []float32{1, -2, 3.5, 0}, raw)
		n, err := NumElements(m.Graph.Initializer[1])
		require.NoError(t, err)
		assert.Equal(t, 4, n)
		assert.Equal(t, TensorProto_FLOAT, DataTypeOf(m.Graph.Initializer[1]))
	})
}
