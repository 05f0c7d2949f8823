package onnx_test

import (
	"context"
	"testing"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// mlNode is node in the ai.onnx.ml domain.
func mlNode(op string, ins, outs []string) *onnxpb.NodeProto {
	n := node(op, ins, outs)
	n.Domain = proto.String(onnxpb.MLDomain)
	return n
}

func int64Tensor(name string, v ...int64) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: []int64{int64(len(v))}, Int64Data: v}
}

// classifierGraph is a network classifier laid out as skl2onnx writes
// one: x [N,2] -> MatMul(w) + Add(b) -> Softmax -> probabilities [N,3];
// ArgMax -> ArrayFeatureExtractor over the class names a, b, c ->
// Reshape(shape) -> label. argmax and shape vary it.
func classifierGraph(t *testing.T, argmax []*onnxpb.AttributeProto, shape int64, dense ...*onnxpb.NodeProto) []byte {
	t.Helper()
	ml := onnxpb.MLDomain
	classes := &onnxpb.TensorProto{Name: proto.String("classes"), DataType: proto.Int32(int32(onnxpb.TensorProto_STRING)), Dims: []int64{3},
		StringData: [][]byte{[]byte("a"), []byte("b"), []byte("c")}}
	nodes := []*onnxpb.NodeProto{
		node("MatMul", []string{"x", "w"}, []string{"xw"}),
		node("Add", []string{"xw", "b"}, []string{"logits"}),
		node("Softmax", []string{"logits"}, []string{"probabilities"}, attrInt("axis", 1)),
		node("ArgMax", []string{"probabilities"}, []string{"index"}, argmax...),
		mlNode("ArrayFeatureExtractor", []string{"classes", "index"}, []string{"picked"}),
		node("Reshape", []string{"picked", "shape"}, []string{"label"}),
	}
	m := &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}, {Domain: proto.String(ml), Version: proto.Int64(3)}},
		Graph: &onnxpb.GraphProto{
			Name: proto.String("classifier"),
			Node: append(nodes, dense...),
			Initializer: []*onnxpb.TensorProto{
				weights("w", []float32{1, 0, 0, 0, 1, 0}, 2, 3), weights("b", []float32{0, 0, 0}, 1, 3),
				classes, int64Tensor("shape", shape),
			},
			Input:  []*onnxpb.ValueInfoProto{valueInfo("x", onnxpb.TensorProto_FLOAT, 2)},
			Output: []*onnxpb.ValueInfoProto{valueInfo("label", onnxpb.TensorProto_STRING, 1), valueInfo("probabilities", onnxpb.TensorProto_FLOAT, 3)},
		},
	}
	data, err := proto.Marshal(m)
	require.NoError(t, err)
	return data
}

func TestMixedGraphRunsItsLayersOnThePlanAndItsLabelsOnTheMLGraph(t *testing.T) {
	data := classifierGraph(t, []*onnxpb.AttributeProto{attrInt("axis", 1), attrInt("select_last_index", 1)}, -1)
	l, err := onnx.New("classifier.onnx", data, onnx.Options{Features: []string{"u", "v"}})
	require.NoError(t, err)
	assert.Equal(t, "compiled plan and ML operators", l.Path())

	// (0, 0) ties all three classes: select_last_index picks c.
	in, err := frame.New(frame.Float32s("u", []float32{5, 0, 0}), frame.Float32s("v", []float32{0, 5, 0}))
	require.NoError(t, err)
	inst, err := l.Load(context.Background(), model.Executor{})
	require.NoError(t, err)
	out, err := inst.Predict(context.Background(), in)
	require.NoError(t, err)
	assert.Equal(t, []string{"label", "probabilities_0", "probabilities_1", "probabilities_2"}, out.ColumnNames())
	label, err := out.StringCol("label")
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, []string{label.Value(0), label.Value(1), label.Value(2)})
	p := floats(t, out, "probabilities_2")
	assert.InDelta(t, 1.0/3, p[2], 1e-7)
}

func TestMixedGraphRefusesWhatNeitherPartRuns(t *testing.T) {
	scaled := []*onnxpb.NodeProto{
		mlNode("Normalizer", []string{"probabilities"}, []string{"scaled"}),
		node("Relu", []string{"scaled"}, []string{"unused"}),
	}
	wide := mlNode("Scaler", []string{"x"}, []string{"xs"})
	wide.Attribute = []*onnxpb.AttributeProto{
		{Name: proto.String("offset"), Type: onnxpb.AttributeProto_FLOATS.Enum(), Floats: []float32{0, 0, 0}},
		{Name: proto.String("scale"), Type: onnxpb.AttributeProto_FLOATS.Enum(), Floats: []float32{1, 1, 1}},
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"a scaler of other columns", classifierGraph(t, []*onnxpb.AttributeProto{attrInt("axis", 1)}, -1, wide),
			`the dense layers before the ML operators run on the compiled plan, which cannot take them: node "xs": has 3 offsets and 3 scales for 2 columns`},
		{"argmax over the batch", classifierGraph(t, []*onnxpb.AttributeProto{attrInt("axis", 0)}, -1),
			`node "index" (ArgMax): takes the largest value along axis 0; supported: axis 1`},
		{"reshape across rows", classifierGraph(t, []*onnxpb.AttributeProto{attrInt("axis", 1)}, 3),
			`node "label" (Reshape): reshapes to [3]; supported: shapes whose first dimension is -1 or 0`},
		{"a layer after an ML operator", classifierGraph(t, []*onnxpb.AttributeProto{attrInt("axis", 1)}, -1, scaled...),
			`operator Relu of node "unused" reads a value computed by an ML operator`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := onnx.New("classifier.onnx", tc.data, onnx.Options{Features: []string{"u", "v"}})
			require.ErrorContains(t, err, tc.want)
		})
	}
}
