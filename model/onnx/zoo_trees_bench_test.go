//go:build cgo

package onnx_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/stretchr/testify/require"
	ort "github.com/yalue/onnxruntime_go"
)

// zooBatch is the rows per Predict call in BenchmarkZooTrees.
const zooBatch = 1024

// cpuTime is the process's user plus system CPU time so far.
func cpuTime(tb testing.TB) time.Duration {
	var u syscall.Rusage
	require.NoError(tb, syscall.Getrusage(syscall.RUSAGE_SELF, &u))
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// checkORTAgrees scores the batch f, the zoo model's first, on RuntimeORT
// and compares the outputs with scikit-learn's.
func checkORTAgrees(b *testing.B, dir string, m zooModel, f *frame.Frame) {
	b.Helper()
	l, err := onnx.Open(filepath.Join(dir, m.Model), onnx.Options{Features: zooFeatures(m), Runtime: onnx.RuntimeORT})
	require.NoError(b, err)
	loaded, err := l.Load(context.Background(), model.Executor{CPUs: 1})
	require.NoError(b, err)
	defer loaded.(interface{ Close() error }).Close()
	out, err := loaded.Predict(context.Background(), f)
	require.NoError(b, err)
	checkZooOutputs(b, dir, m, out, 0, zooBatch)
}

// zooORT is an ONNX Runtime session (one intra-op thread) bound to
// preallocated tensors of one zooBatch-row batch.
type zooORT struct {
	session *ort.AdvancedSession
	input   *ort.Tensor[float32]
	values  []ort.Value
}

func newZooORT(b *testing.B, dir string, m zooModel) *zooORT {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(dir, m.Model))
	require.NoError(b, err)
	z := &zooORT{}
	z.input, err = ort.NewEmptyTensor[float32](ort.NewShape(zooBatch, int64(m.Features)))
	require.NoError(b, err)
	var names []string
	var outs []ort.Value
	for _, o := range m.Outputs {
		names = append(names, o.Name)
		var v ort.Value
		if o.DType == "int64" {
			v, err = ort.NewEmptyTensor[int64](ort.NewShape(zooBatch))
		} else {
			v, err = ort.NewEmptyTensor[float32](ort.NewShape(zooBatch, int64(o.Width)))
		}
		require.NoError(b, err)
		outs = append(outs, v)
	}
	z.values = append([]ort.Value{z.input}, outs...)
	opts, err := ort.NewSessionOptions()
	require.NoError(b, err)
	defer opts.Destroy()
	require.NoError(b, opts.SetIntraOpNumThreads(1))
	require.NoError(b, opts.SetInterOpNumThreads(1))
	z.session, err = ort.NewAdvancedSessionWithONNXData(data, []string{"input"}, names, []ort.Value{z.input}, outs, opts)
	require.NoError(b, err)
	return z
}

// score runs rows [start, start+zooBatch) of x.
func (z *zooORT) score(b *testing.B, x []float32, start, features int) {
	copy(z.input.GetData(), x[start*features:(start+zooBatch)*features])
	if err := z.session.Run(); err != nil {
		b.Fatal(err)
	}
}

func (z *zooORT) close() {
	z.session.Destroy()
	for _, v := range z.values {
		v.Destroy()
	}
}

// BenchmarkZooTrees scores the zoo's tree ensembles in batches of 1024
// rows on one thread: dfbatch's Go runtime (Predict on a frame, as the
// engine calls it) and, when $DFBATCH_ORT_LIB names ONNX Runtime's
// library, ONNX Runtime on the same model and rows, called directly on
// preallocated tensors. Each iteration scores every batch on both, one
// after the other, and the metrics are rows per CPU-second of the process
// (getrusage around each pass) for each and their ratio, go/ort. The zoo
// comes from $DFBATCH_ZOO_DIR or is generated with 16,384 rows per model.
func BenchmarkZooTrees(b *testing.B) {
	dir, models := treeZoo(b, "--rows", "16384")
	withORT := os.Getenv(onnx.ORTLibraryEnv) != ""
	if withORT {
		requireORT(b)
	}
	for _, m := range models {
		b.Run(m.Name, func(b *testing.B) {
			x := zooRows(b, dir, m)
			batches := m.Rows / zooBatch
			frames := make([]*frame.Frame, batches)
			for i := range frames {
				frames[i] = zooFrame(b, m, x, i*zooBatch, (i+1)*zooBatch)
			}
			loaded := loadZooModel(b, dir, m)
			out, err := loaded.Predict(context.Background(), frames[0])
			require.NoError(b, err)
			checkZooOutputs(b, dir, m, out, 0, zooBatch)
			var session *zooORT
			if withORT {
				// ONNX Runtime must agree with scikit-learn too; loading
				// the model on RuntimeORT also initialises ONNX Runtime's
				// environment, once for the process.
				checkORTAgrees(b, dir, m, frames[0])
				session = newZooORT(b, dir, m)
				defer session.close()
			}
			var goCPU, ortCPU time.Duration
			for b.Loop() {
				start := cpuTime(b)
				for _, f := range frames {
					if _, err := loaded.Predict(context.Background(), f); err != nil {
						b.Fatal(err)
					}
				}
				mid := cpuTime(b)
				goCPU += mid - start
				if session != nil {
					for i := range batches {
						session.score(b, x, i*zooBatch, m.Features)
					}
					ortCPU += cpuTime(b) - mid
				}
			}
			rows := float64(b.N * batches * zooBatch)
			b.ReportMetric(rows/goCPU.Seconds(), "go-rows/cpu-s")
			if session != nil {
				b.ReportMetric(rows/ortCPU.Seconds(), "ort-rows/cpu-s")
				b.ReportMetric(ortCPU.Seconds()/goCPU.Seconds(), "go/ort")
			}
		})
	}
}
