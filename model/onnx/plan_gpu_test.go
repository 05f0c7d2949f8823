package onnx_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/gpu"
	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var h100 = gpu.Device{Name: "NVIDIA H100 80GB HBM3", MemoryBytes: 80 << 30, ComputeMajor: 9, Sharers: 1}

// onEmulatedGPU is an executor with one (emulated) H100.
func onEmulatedGPU(t *testing.T, d gpu.Device) model.Executor {
	t.Cleanup(onnx.EmulateGPUs())
	return model.Executor{CPUs: 1, Devices: []gpu.Device{d}}
}

func TestGPUPathOnAnEmulatedDeviceMatchesONNXRuntime(t *testing.T) {
	exec := onEmulatedGPU(t, h100)
	for _, f := range denseFixtures {
		t.Run(f.name, func(t *testing.T) {
			l, in, want := f.open(t, onnx.Options{})
			m, err := l.Load(context.Background(), exec)
			require.NoError(t, err)
			defer m.(interface{ Close() error }).Close()
			all := inputFrame(t, in)
			// Two batches, the second shorter, on the buffers the first made.
			var parts []*frame.Frame
			for _, r := range [][2]int{{0, 32}, {32, in.Rows}} {
				out, err := m.Predict(context.Background(), all.Slice(r[0], r[1]))
				require.NoError(t, err)
				parts = append(parts, out)
			}
			out, err := frame.Concat(parts...)
			require.NoError(t, err)
			assertOutputs(t, want, out, in.Rows, 1e-5)
		})
	}
}

func TestGPUPathFailsAtLoadNamingWhatItLacksUnlessCPUFallback(t *testing.T) {
	exec := onEmulatedGPU(t, h100)
	for _, tc := range []struct {
		fixture, lacks string
		features       bool
	}{
		{"trees_binary", "the ai.onnx.ml operators (TreeEnsembleClassifier)", true},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			var in fixtureInput
			readJSON(t, tc.fixture+".input.json", &in)
			opts := onnx.Options{}
			if tc.features {
				opts.Features = in.Features
			}
			path := filepath.Join(fixtures, tc.fixture+".onnx")
			l, err := onnx.Open(path, opts)
			require.NoError(t, err)
			_, err = l.Load(context.Background(), exec)
			require.ErrorContains(t, err, "executor 0 has GPU 0: NVIDIA H100 80GB HBM3 (81920 MiB, compute 9.0), but the GPU path lacks "+tc.lacks+"; set Options.CPUFallback")

			opts.CPUFallback = true
			l, err = onnx.Open(path, opts)
			require.NoError(t, err)
			m, err := l.Load(context.Background(), exec)
			require.NoError(t, err, "with CPUFallback the executor scores on the CPU")
			out, err := m.Predict(context.Background(), inputFrame(t, in))
			require.NoError(t, err)
			assert.Equal(t, in.Rows, out.NumRows())
		})
	}
}

func TestGPUPathKeepsToTheExecutorsShareOfTheDevice(t *testing.T) {
	small := h100
	small.MemoryBytes, small.Sharers = 32<<10, 2 // 16 KiB each: less than the weights (21 KiB)
	exec := onEmulatedGPU(t, small)
	var in fixtureInput
	readJSON(t, "mlp.input.json", &in)
	l, err := onnx.Open(filepath.Join(fixtures, "mlp.onnx"), onnx.Options{Features: in.Features})
	require.NoError(t, err)
	_, err = l.Load(context.Background(), exec)
	require.ErrorContains(t, err, "uploading the weights to GPU 0")
	require.ErrorContains(t, err, "would exceed this executor's share of it, 16.0 KiB")
}

func TestGPUPathNamesAnOperatorWithoutAGPUKernel(t *testing.T) {
	exec := onEmulatedGPU(t, h100)
	data := denseModel(t,
		[]*onnxpb.NodeProto{node("MatMul", []string{"x", "w"}, []string{"mm"}), node("Erf", []string{"mm"}, []string{"y"})},
		[]*onnxpb.TensorProto{weights("w", []float32{1, 0, 0, 1}, 2, 2)},
		[]*onnxpb.ValueInfoProto{valueInfo("x", onnxpb.TensorProto_FLOAT, 2)},
		[]*onnxpb.ValueInfoProto{valueInfo("y", onnxpb.TensorProto_FLOAT, 2)})
	l, err := onnx.New("erf.onnx", data, onnx.Options{Features: names("x", 2)})
	require.NoError(t, err)
	_, err = l.Load(context.Background(), exec)
	require.ErrorContains(t, err, "the GPU path lacks the operator Erf, which has no GPU kernel; set Options.CPUFallback")

	l, err = onnx.New("erf.onnx", data, onnx.Options{Features: names("x", 2), CPUFallback: true})
	require.NoError(t, err)
	m, err := l.Load(context.Background(), exec)
	require.NoError(t, err, "with CPUFallback the executor scores on the CPU")
	in, err := frame.New(frame.Float32s("x0", []float32{0.5}), frame.Float32s("x1", []float32{-1}))
	require.NoError(t, err)
	out, err := m.Predict(context.Background(), in)
	require.NoError(t, err)
	y, err := out.Col("y_0")
	require.NoError(t, err)
	assert.InDelta(t, math.Erf(0.5), y.(*array.Float32).Value(0), 1e-6)
}
