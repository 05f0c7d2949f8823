package onnx_test

import (
	"context"
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

func node(op string, ins, outs []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{Name: proto.String(outs[0]), OpType: proto.String(op), Input: ins, Output: outs, Attribute: attrs}
}

func attrInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func weights(name string, values []float32, dims ...int64) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: dims, FloatData: values}
}

func denseModel(t testing.TB, nodes []*onnxpb.NodeProto, inits []*onnxpb.TensorProto, inputs, outputs []*onnxpb.ValueInfoProto) []byte {
	t.Helper()
	data, err := proto.Marshal(&onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
		Graph:       &onnxpb.GraphProto{Name: proto.String("dense"), Node: nodes, Initializer: inits, Input: inputs, Output: outputs},
	})
	require.NoError(t, err)
	return data
}

// predictRows runs one executor's instance on rows of x, one column per
// feature, and returns the named output columns.
func predictRows(t *testing.T, l *onnx.Loader, x [][]float32, outputs ...string) map[string][]float64 {
	t.Helper()
	cols := make([]frame.Column, len(x[0]))
	for j := range cols {
		v := make([]float32, len(x))
		for r := range x {
			v[r] = x[r][j]
		}
		cols[j] = frame.Float32s(names("x", len(cols))[j], v)
	}
	in, err := frame.New(cols...)
	require.NoError(t, err)
	m, err := l.Load(context.Background(), model.Executor{})
	require.NoError(t, err)
	got := map[string][]float64{}
	// Twice, so that the second batch runs on the buffers the first left.
	for range 2 {
		out, err := m.Predict(context.Background(), in)
		require.NoError(t, err)
		for _, name := range outputs {
			got[name] = floats(t, out, name)
		}
	}
	return got
}

func TestPlanMatchesAReferenceOnEveryCompiledOperator(t *testing.T) {
	w1 := []float32{0.5, -1, 0.25, 1, 2, -0.5, -0.75, 0.1, 0.3, 0.2, -0.2, 0.6} // [4, 3], used transposed
	b1 := []float32{0.1, -0.2, 0.3, -0.4}
	w2 := []float32{1, -1, 0.5, 0.25, -0.5, 2, 0.75, -0.25} // [4, 2]
	b2 := []float32{0.05, -0.05}
	c := []float32{1, 2}
	nodes := []*onnxpb.NodeProto{
		node("Gemm", []string{"x", "w1", "b1"}, []string{"g"}, attrInt("transB", 1), attrFloat("alpha", 2), attrFloat("beta", 0.5)),
		node("Relu", []string{"g"}, []string{"r"}),
		node("MatMul", []string{"r", "w2"}, []string{"m"}),
		node("Add", []string{"m", "b2"}, []string{"hidden"}),
		node("Sub", []string{"c", "hidden"}, []string{"s"}),
		node("Div", []string{"s", "two"}, []string{"d"}),
		node("Mul", []string{"d", "hidden"}, []string{"p"}),
		node("LeakyRelu", []string{"p"}, []string{"l"}, attrFloat("alpha", 0.1)),
		node("Concat", []string{"l", "x"}, []string{"cat"}, attrInt("axis", 1)),
		node("Dropout", []string{"cat"}, []string{"dropped"}),
		node("Flatten", []string{"dropped"}, []string{"flat"}),
		node("Softmax", []string{"flat"}, []string{"probs"}, attrInt("axis", -1)),
		node("Identity", []string{"hidden"}, []string{"same"}),
		node("Tanh", []string{"same"}, []string{"squashed"}),
	}
	inits := []*onnxpb.TensorProto{
		weights("w1", w1, 4, 3), weights("b1", b1, 4), weights("w2", w2, 4, 2), weights("b2", b2, 1, 2),
		weights("c", c, 2), weights("two", []float32{2}),
	}
	data := denseModel(t, nodes, inits,
		[]*onnxpb.ValueInfoProto{valueInfo("x", onnxpb.TensorProto_FLOAT, 3)},
		[]*onnxpb.ValueInfoProto{valueInfo("hidden", onnxpb.TensorProto_FLOAT, 2), valueInfo("probs", onnxpb.TensorProto_FLOAT, 5), valueInfo("squashed", onnxpb.TensorProto_FLOAT, 2)})
	l, err := onnx.New("every_op.onnx", data, onnx.Options{Features: names("x", 3)})
	require.NoError(t, err)
	assert.Equal(t, "compiled plan", l.Path())

	x := make([][]float32, 13) // more than two row tiles, and a short one
	for r := range x {
		x[r] = []float32{float32(r)/4 - 1, float32(r%3) - 1, float32(r) / 13}
	}
	got := predictRows(t, l, x, "hidden_0", "hidden_1", "probs_0", "probs_4", "squashed_1")
	for r, row := range x {
		var h [2]float64
		var g [4]float64
		for j := range 4 {
			s := 0.5 * float64(b1[j])
			for k := range 3 {
				s += 2 * float64(row[k]) * float64(w1[j*3+k])
			}
			g[j] = math.Max(s, 0)
		}
		for j := range 2 {
			h[j] = float64(b2[j])
			for k := range 4 {
				h[j] += g[k] * float64(w2[k*2+j])
			}
		}
		var flat [5]float64
		for j := range 2 {
			p := (float64(c[j]) - h[j]) / 2 * h[j]
			if p < 0 {
				p *= 0.1
			}
			flat[j] = p
		}
		for k := range 3 {
			flat[2+k] = float64(row[k])
		}
		sum := 0.0
		for _, v := range flat {
			sum += math.Exp(v)
		}
		for name, want := range map[string]float64{
			"hidden_0": h[0], "hidden_1": h[1], "probs_0": math.Exp(flat[0]) / sum, "probs_4": math.Exp(flat[4]) / sum, "squashed_1": math.Tanh(h[1]),
		} {
			assert.InDelta(t, want, got[name][r], 1e-5*math.Max(1, math.Abs(want)), "%s of row %d", name, r)
		}
	}
}

// TestPlanRunsTranscendentals checks the vectorized functions in a plan:
// GELU as PyTorch exports it (x/sqrt2, Erf, +1, *x, *0.5), Sigmoid, Exp,
// the Log of Exp, and Tanh in place over a layer's padded rows.
func TestPlanRunsTranscendentals(t *testing.T) {
	w := []float32{0.5, -1, 0.25, 1, 2, -0.5, -0.75, 0.1, 0.3} // [3, 3]
	nodes := []*onnxpb.NodeProto{
		node("MatMul", []string{"x", "w"}, []string{"mm"}),
		node("Tanh", []string{"mm"}, []string{"th"}),
		node("Div", []string{"x", "sqrt2"}, []string{"scaled"}),
		node("Erf", []string{"scaled"}, []string{"erf"}),
		node("Add", []string{"erf", "one"}, []string{"erf1"}),
		node("Mul", []string{"x", "erf1"}, []string{"xerf1"}),
		node("Mul", []string{"xerf1", "half"}, []string{"gelu"}),
		node("Sigmoid", []string{"x"}, []string{"sig"}),
		node("Exp", []string{"x"}, []string{"ex"}),
		node("Log", []string{"ex"}, []string{"logex"}),
	}
	inits := []*onnxpb.TensorProto{
		weights("sqrt2", []float32{math.Sqrt2}), weights("one", []float32{1}), weights("half", []float32{0.5}), weights("w", w, 3, 3),
	}
	outputs := []*onnxpb.ValueInfoProto{}
	for _, name := range []string{"gelu", "sig", "ex", "logex", "th"} {
		outputs = append(outputs, valueInfo(name, onnxpb.TensorProto_FLOAT, 3))
	}
	data := denseModel(t, nodes, inits, []*onnxpb.ValueInfoProto{valueInfo("x", onnxpb.TensorProto_FLOAT, 3)}, outputs)
	l, err := onnx.New("transcendentals.onnx", data, onnx.Options{Features: names("x", 3)})
	require.NoError(t, err)
	assert.Equal(t, "compiled plan", l.Path())

	x := make([][]float32, 21)
	for r := range x {
		x[r] = []float32{float32(r)/2 - 5, float32(r%5) - 2, float32(r) / 7}
	}
	var cols []string
	for _, name := range []string{"gelu", "sig", "ex", "logex", "th"} {
		cols = append(cols, names(name+"_", 3)...)
	}
	got := predictRows(t, l, x, cols...)
	for r, row := range x {
		for j, v32 := range row {
			v := float64(v32)
			mm := 0.0
			for k := range 3 {
				mm += float64(row[k]) * float64(w[k*3+j])
			}
			for name, want := range map[string]float64{
				"gelu": v * 0.5 * (1 + math.Erf(v/math.Sqrt2)), "sig": 1 / (1 + math.Exp(-v)), "ex": math.Exp(v), "logex": v,
				"th": math.Tanh(mm),
			} {
				col := names(name+"_", 3)[j]
				assert.InDelta(t, want, got[col][r], 2e-6*math.Max(1, math.Abs(want)), "%s of row %d", col, r)
			}
		}
	}
}
