//go:build cgo

package onnx_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"
)

// mlpRows is n rows of the mlp fixture's input, its 37 rows repeated.
func mlpRows(b *testing.B, n int) (*frame.Frame, []float32) {
	var in fixtureInput
	data, err := os.ReadFile(filepath.Join(fixtures, "mlp.input.json"))
	require.NoError(b, err)
	require.NoError(b, json.Unmarshal(data, &in))
	cols := make([]frame.Column, len(in.Features))
	flat := make([]float32, n*len(in.Features))
	for j, name := range in.Features {
		v := make([]float32, n)
		for r := range v {
			v[r] = in.Columns[name][r%in.Rows]
			flat[r*len(in.Features)+j] = v[r]
		}
		cols[j] = frame.Float32s(name, v)
	}
	f, err := frame.New(cols...)
	require.NoError(b, err)
	return f, flat
}

// BenchmarkMLPOnONNXRuntime compares RuntimeORT with ONNX Runtime called
// directly on preallocated tensors: the mlp fixture, batches of 1024 rows,
// one thread.
func BenchmarkMLPOnONNXRuntime(b *testing.B) {
	requireORT(b)
	const rows = 1024
	in, flat := mlpRows(b, rows)
	features := in.ColumnNames()
	path := filepath.Join(fixtures, "mlp.onnx")
	l, err := onnx.Open(path, onnx.Options{Features: features, Runtime: onnx.RuntimeORT})
	require.NoError(b, err)

	b.Run("Predict", func(b *testing.B) {
		m, err := l.Load(context.Background(), model.Executor{CPUs: 1})
		require.NoError(b, err)
		defer m.(interface{ Close() error }).Close()
		for b.Loop() {
			if _, err := m.Predict(context.Background(), in); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("engine", func(b *testing.B) {
		big, _ := mlpRows(b, 64*rows)
		client := engine.NewClient(l)
		defer client.Close()
		opts := engine.Options{BatchSize: rows, Executors: 1, CPUs: 1}
		// Runs reuse the warm session, as a service's would.
		require.NoError(b, client.WarmUp(context.Background(), opts))
		for b.Loop() {
			if _, err := client.RunFrame(context.Background(), big, opts); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(64*rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("direct", func(b *testing.B) {
		data, err := os.ReadFile(path)
		require.NoError(b, err)
		benchORTDirect(b, data, flat, rows, 16, "output", 1)
	})
}

// benchORTDirect runs the model data on ONNX Runtime called directly, one
// thread, on preallocated tensors: input "input" of rows x features from
// flat, output of rows x width.
func benchORTDirect(b *testing.B, data []byte, flat []float32, rows, features int64, output string, width int64) {
	x, err := ort.NewTensor(ort.NewShape(rows, features), flat)
	require.NoError(b, err)
	defer x.Destroy()
	y, err := ort.NewEmptyTensor[float32](ort.NewShape(rows, width))
	require.NoError(b, err)
	defer y.Destroy()
	opts, err := ort.NewSessionOptions()
	require.NoError(b, err)
	defer opts.Destroy()
	require.NoError(b, opts.SetIntraOpNumThreads(1))
	require.NoError(b, opts.SetInterOpNumThreads(1))
	s, err := ort.NewAdvancedSessionWithONNXData(data, []string{"input"}, []string{output}, []ort.Value{x}, []ort.Value{y}, opts)
	require.NoError(b, err)
	defer s.Destroy()
	for b.Loop() {
		if err := s.Run(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*int64(b.N))/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkTanhMLPOnONNXRuntime runs tanhMLP's model on the compiled plan
// and on ONNX Runtime called directly on preallocated tensors, side by
// side: batches of 1024 rows, one thread.
func BenchmarkTanhMLPOnONNXRuntime(b *testing.B) {
	requireORT(b)
	const rows = 1024
	data, in, flat := tanhMLP(b, rows)
	b.Run("plan", func(b *testing.B) {
		l, err := onnx.New("tanh_mlp.onnx", data, onnx.Options{Features: in.ColumnNames()})
		require.NoError(b, err)
		m, err := l.Load(context.Background(), model.Executor{CPUs: 1})
		require.NoError(b, err)
		for b.Loop() {
			if _, err := m.Predict(context.Background(), in); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("direct", func(b *testing.B) {
		// Loading a RuntimeORT model initializes ONNX Runtime's library.
		_, err := onnx.New("tanh_mlp.onnx", data, onnx.Options{Features: in.ColumnNames(), Runtime: onnx.RuntimeORT})
		require.NoError(b, err)
		benchORTDirect(b, data, flat, rows, 20, "probabilities", 3)
	})
}
