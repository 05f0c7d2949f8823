//go:build !cuda

package onnx_test

import (
	"testing"

	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// The gorgonia fallback, which builds with the cuda tag leave out.

func TestPlanLeavesGraphsWithOtherOperatorsToGorgonia(t *testing.T) {
	data := denseModel(t, []*onnxpb.NodeProto{node("Square", []string{"x"}, []string{"y"})}, nil,
		[]*onnxpb.ValueInfoProto{valueInfo("x", onnxpb.TensorProto_FLOAT, 2)},
		[]*onnxpb.ValueInfoProto{valueInfo("y", onnxpb.TensorProto_FLOAT, 2)})
	l, err := onnx.New("square.onnx", data, onnx.Options{Features: names("x", 2)})
	require.NoError(t, err)
	assert.Equal(t, `gorgonia (not compiled: node "y": operator Square is not compiled)`, l.Path())
	got := predictRows(t, l, [][]float32{{3, -2}, {0.5, 4}}, "y_0", "y_1")
	assert.Equal(t, []float64{9, 0.25}, got["y_0"])
	assert.Equal(t, []float64{4, 16}, got["y_1"])
}

func TestPlanRefusesAnIntegerInputUsedWithoutACast(t *testing.T) {
	data := denseModel(t, []*onnxpb.NodeProto{node("Relu", []string{"x"}, []string{"y"})}, nil,
		[]*onnxpb.ValueInfoProto{valueInfo("x", onnxpb.TensorProto_INT64, 2)},
		[]*onnxpb.ValueInfoProto{valueInfo("y", onnxpb.TensorProto_FLOAT, 2)})
	_, err := onnx.New("int_relu.onnx", data, onnx.Options{Features: names("x", 2)})
	require.ErrorContains(t, err, `int_relu.onnx: input "x" is INT64, which only the compiled plan reads (through a Cast to float), and it cannot run this graph: node "y": reads the non-float input "x" other than through a Cast`)
}

func TestUnsupportedOperatorsFailAtLoadNamingNodeAndList(t *testing.T) {
	m := decodeFixture(t, "mlp")
	m.Graph.Node[1].OpType = proto.String("Celu")
	data, err := proto.Marshal(m)
	require.NoError(t, err)
	_, err = onnx.New("celu.onnx", data, onnx.Options{Features: names("x", 16)})
	require.Error(t, err)
	require.ErrorContains(t, err, "operator Celu (domain ai.onnx) of node")
	require.ErrorContains(t, err, "is not supported; supported: Abs, Add")
}
