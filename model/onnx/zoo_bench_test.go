package onnx_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/stretchr/testify/require"
)

// zooEnv names a folder that bench/zoo/zoo.py wrote, for BenchmarkZoo.
const zooEnv = "DFBATCH_ZOO"

// BenchmarkZoo scores each model of the zoo in $DFBATCH_ZOO with one
// executor's instance on one CPU, a Predict per batch of 1024 rows, on the
// Go runtime ("go") and, where its library is installed, ONNX Runtime
// ("ort"), side by side.
func BenchmarkZoo(b *testing.B) {
	dir := os.Getenv(zooEnv)
	if dir == "" {
		b.Skipf("set %s to a folder bench/zoo/zoo.py wrote", zooEnv)
	}
	const rows = 1024
	for _, m := range readZoo(b, dir).Models {
		m.Rows = min(m.Rows, rows)
		in, features := zooFrame(b, dir, m)
		runtimes := []onnx.Runtime{onnx.RuntimeGo}
		if onnx.CgoEnabled && os.Getenv(onnx.ORTLibraryEnv) != "" {
			runtimes = append(runtimes, onnx.RuntimeORT)
		}
		for _, rt := range runtimes {
			b.Run(m.Name+"/"+string(rt), func(b *testing.B) {
				benchPredict(b, filepath.Join(dir, m.Model), onnx.Options{Features: features, Runtime: rt}, in)
			})
		}
	}
}

// benchPredict runs one executor's instance of the model at path on in.
func benchPredict(b *testing.B, path string, opts onnx.Options, in *frame.Frame) {
	l, err := onnx.Open(path, opts)
	if err != nil && opts.Runtime == onnx.RuntimeORT {
		b.Skip(err) // a ZipMap's sequence of maps, which RuntimeORT does not return
	}
	require.NoError(b, err)
	m, err := l.Load(context.Background(), model.Executor{CPUs: 1})
	require.NoError(b, err)
	if c, ok := m.(interface{ Close() error }); ok {
		defer c.Close()
	}
	for b.Loop() {
		if _, err := m.Predict(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(in.NumRows()*b.N)/b.Elapsed().Seconds(), "rows/s")
}
