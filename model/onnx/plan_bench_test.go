package onnx_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/dfbatch/dfbatch/frame"
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
