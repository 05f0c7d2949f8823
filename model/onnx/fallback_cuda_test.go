//go:build cuda

package onnx_test

import (
	"testing"

	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/stretchr/testify/require"
)

func TestCUDABuildsRefuseGraphsThePlanCannotTakeNamingTheWayOut(t *testing.T) {
	data := denseModel(t, []*onnxpb.NodeProto{node("Square", []string{"x"}, []string{"y"})}, nil,
		[]*onnxpb.ValueInfoProto{valueInfo("x", onnxpb.TensorProto_FLOAT, 2)},
		[]*onnxpb.ValueInfoProto{valueInfo("y", onnxpb.TensorProto_FLOAT, 2)})
	_, err := onnx.New("square.onnx", data, onnx.Options{Features: names("x", 2)})
	require.ErrorContains(t, err, `square.onnx: the compiled plan cannot run this graph (node "y": operator Square is not compiled), and builds with -tags cuda have no gorgonia fallback`)
	require.ErrorContains(t, err, "Options.Runtime = RuntimeORT")
}
