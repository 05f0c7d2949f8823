package onnx_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/stretchr/testify/require"
)

// BenchmarkDensePredict scores the mlp fixture (16-64-64-1) with one
// executor's model instance, one Predict per batch.
func BenchmarkDensePredict(b *testing.B) {
	features := names("x", 16)
	l, err := onnx.Open(filepath.Join(fixtures, "mlp.onnx"), onnx.Options{Features: features})
	require.NoError(b, err)
	for _, rows := range []int{1024, 8192} {
		b.Run(fmt.Sprintf("batch-%d", rows), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			cols := make([]frame.Column, len(features))
			for i, name := range features {
				v := make([]float32, rows)
				for r := range v {
					v[r] = rng.Float32()
				}
				cols[i] = frame.Float32s(name, v)
			}
			in, err := frame.New(cols...)
			require.NoError(b, err)
			m, err := l.Load(context.Background(), model.Executor{CPUs: 1})
			require.NoError(b, err)
			for b.Loop() {
				if _, err := m.Predict(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// tanhMLP is a classifier as skl2onnx exports scikit-learn's
// MLPClassifier with tanh hidden layers: 20-100-100-3, MatMul, Add and
// Tanh per hidden layer, then MatMul, Add and Softmax, random weights.
// It returns the model and rows rows of inputs, also row-major.
func tanhMLP(tb testing.TB, rows int) ([]byte, *frame.Frame, []float32) {
	sizes := []int{20, 100, 100, 3}
	rng := rand.New(rand.NewPCG(11, 12))
	var nodes []*onnxpb.NodeProto
	var inits []*onnxpb.TensorProto
	in := "input"
	for i := range len(sizes) - 1 {
		w, b := make([]float32, sizes[i]*sizes[i+1]), make([]float32, sizes[i+1])
		for j := range w {
			w[j] = float32(rng.NormFloat64() / math.Sqrt(float64(sizes[i])))
		}
		for j := range b {
			b[j] = float32(rng.NormFloat64() * 0.1)
		}
		wn, bn, mm, z, act := fmt.Sprint("w", i), fmt.Sprint("b", i), fmt.Sprint("mm", i), fmt.Sprint("z", i), fmt.Sprint("a", i)
		inits = append(inits, weights(wn, w, int64(sizes[i]), int64(sizes[i+1])), weights(bn, b, int64(sizes[i+1])))
		nodes = append(nodes, node("MatMul", []string{in, wn}, []string{mm}), node("Add", []string{mm, bn}, []string{z}))
		if i < len(sizes)-2 {
			nodes = append(nodes, node("Tanh", []string{z}, []string{act}))
		} else {
			act = "probabilities"
			nodes = append(nodes, node("Softmax", []string{z}, []string{act}, attrInt("axis", 1)))
		}
		in = act
	}
	data := denseModel(tb, nodes, inits,
		[]*onnxpb.ValueInfoProto{valueInfo("input", onnxpb.TensorProto_FLOAT, int64(sizes[0]))},
		[]*onnxpb.ValueInfoProto{valueInfo("probabilities", onnxpb.TensorProto_FLOAT, 3)})
	flat := make([]float32, rows*sizes[0])
	cols := make([]frame.Column, sizes[0])
	for j, name := range names("x", sizes[0]) {
		v := make([]float32, rows)
		for r := range v {
			v[r] = float32(rng.NormFloat64())
			flat[r*sizes[0]+j] = v[r]
		}
		cols[j] = frame.Float32s(name, v)
	}
	f, err := frame.New(cols...)
	require.NoError(tb, err)
	return data, f, flat
}

// BenchmarkTanhMLPPredict scores tanhMLP's model with the compiled plan,
// one executor of one CPU, batches of 1024 rows.
func BenchmarkTanhMLPPredict(b *testing.B) {
	const rows = 1024
	data, in, _ := tanhMLP(b, rows)
	l, err := onnx.New("tanh_mlp.onnx", data, onnx.Options{Features: in.ColumnNames()})
	require.NoError(b, err)
	require.Equal(b, "compiled plan", l.Path())
	m, err := l.Load(context.Background(), model.Executor{CPUs: 1})
	require.NoError(b, err)
	for b.Loop() {
		if _, err := m.Predict(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
