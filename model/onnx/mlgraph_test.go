package onnx_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// valueInfo is a graph input or output of [N, width] elem elements.
func valueInfo(name string, elem onnxpb.TensorProto_DataType, width int64) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(elem)), Shape: &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{
			{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}},
			{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: width}},
		}}},
	}}}
}

func attrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func TestMLGraphImputesBinarizesAndCastsToStrings(t *testing.T) {
	ml := proto.String(onnxpb.MLDomain)
	m := &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}, {Domain: ml, Version: proto.Int64(3)}},
		Graph: &onnxpb.GraphProto{
			Name: proto.String("tabular"),
			Node: []*onnxpb.NodeProto{
				{Name: proto.String("impute"), OpType: proto.String("Imputer"), Domain: ml, Input: []string{"x"}, Output: []string{"imputed"},
					Attribute: []*onnxpb.AttributeProto{
						{Name: proto.String("imputed_value_floats"), Type: onnxpb.AttributeProto_FLOATS.Enum(), Floats: []float32{-1, -2}},
						attrFloat("replaced_value_float", float32(math.NaN())),
					}},
				{Name: proto.String("binarize"), OpType: proto.String("Binarizer"), Domain: ml, Input: []string{"imputed"}, Output: []string{"over"},
					Attribute: []*onnxpb.AttributeProto{attrFloat("threshold", 0.5)}},
				{Name: proto.String("text"), OpType: proto.String("Cast"), Input: []string{"imputed"}, Output: []string{"text"},
					Attribute: []*onnxpb.AttributeProto{{Name: proto.String("to"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(int64(onnxpb.TensorProto_STRING))}}},
			},
			Input:  []*onnxpb.ValueInfoProto{valueInfo("x", onnxpb.TensorProto_FLOAT, 2)},
			Output: []*onnxpb.ValueInfoProto{valueInfo("over", onnxpb.TensorProto_FLOAT, 2), valueInfo("text", onnxpb.TensorProto_STRING, 2)},
		},
	}
	data, err := proto.Marshal(m)
	require.NoError(t, err)
	_, err = onnx.New("tabular.onnx", data, onnx.Options{Features: []string{"a"}})
	assert.ErrorContains(t, err, `input "x" takes 2 features per row, but Options.Features names 1 column`)
	l, err := onnx.New("tabular.onnx", data, onnx.Options{Features: []string{"a", "b"}})
	require.NoError(t, err)

	in, err := frame.New(frame.Float32s("a", []float32{0.25, float32(math.NaN())}), frame.Float32s("b", []float32{float32(math.NaN()), 3}))
	require.NoError(t, err)
	inst, err := l.Load(context.Background(), model.Executor{})
	require.NoError(t, err)
	out, err := inst.Predict(context.Background(), in)
	require.NoError(t, err)
	assert.Equal(t, []string{"over_0", "over_1", "text_0", "text_1"}, out.ColumnNames())
	over0, err := out.Col("over_0")
	require.NoError(t, err)
	assert.Equal(t, "[0 0]", over0.String(), "0.25 and the imputed -1 are not over 0.5")
	over1, err := out.Col("over_1")
	require.NoError(t, err)
	assert.Equal(t, "[0 1]", over1.String(), "the imputed -2 is not, 3 is")
	text, err := out.StringCol("text_1")
	require.NoError(t, err)
	assert.Equal(t, []string{"-2", "3"}, []string{text.Value(0), text.Value(1)})
}

// TestMLGraphRunsOnlyTheOperatorsItLists changes one node of ml_chain
// (Cast, Scaler, Normalizer, LinearRegressor) into an operator the ML
// graph does not run: the load fails naming the node, its operator and
// domain, and the one list of what the ML graph runs.
func TestMLGraphRunsOnlyTheOperatorsItLists(t *testing.T) {
	const list = "supported: ai.onnx.ArgMax, ai.onnx.Cast, ai.onnx.Identity, ai.onnx.Reshape, " +
		"ai.onnx.ml.ArrayFeatureExtractor, ai.onnx.ml.Binarizer, ai.onnx.ml.Imputer, ai.onnx.ml.LinearClassifier, " +
		"ai.onnx.ml.LinearRegressor, ai.onnx.ml.Normalizer, ai.onnx.ml.Scaler, ai.onnx.ml.TreeEnsembleClassifier, " +
		"ai.onnx.ml.TreeEnsembleRegressor, ai.onnx.ml.ZipMap"
	for _, tc := range []struct {
		name         string
		node         int
		opType       string
		domain       string
		wantOperator string
	}{
		{"an ai.onnx.ml operator it lacks", 1, "SVMClassifier", onnxpb.MLDomain, "operator SVMClassifier (domain ai.onnx.ml)"},
		{"a standard operator's name in the ML domain", 0, "Cast", onnxpb.MLDomain, "operator Cast (domain ai.onnx.ml)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := decodeFixture(t, "ml_chain")
			n := m.Graph.Node[tc.node]
			n.OpType, n.Domain = proto.String(tc.opType), proto.String(tc.domain)
			data, err := proto.Marshal(m)
			require.NoError(t, err)
			_, err = onnx.New("ml_chain.onnx", data, onnx.Options{Features: names("f", 4)})
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.wantOperator+" of node "+fmt.Sprintf("%q", n.GetName())+" is not supported; "+list)
		})
	}
}
