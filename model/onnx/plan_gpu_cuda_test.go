//go:build cuda

package onnx_test

import (
	"context"
	"testing"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/gpu"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/stretchr/testify/require"
)

// TestGPUPathOnTheDeviceMatchesONNXRuntime runs the dense fixtures through
// the engine on this machine's GPU, two executors sharing it, in batches
// of 16 (so a short last batch too), against ONNX Runtime's CPU outputs
// within 1e-4 relative. It skips where there is no GPU.
func TestGPUPathOnTheDeviceMatchesONNXRuntime(t *testing.T) {
	devices, err := gpu.Devices()
	if err != nil || len(devices) == 0 {
		t.Skipf("no GPU here: %v", err)
	}
	t.Log(devices[0])
	for _, f := range denseFixtures {
		t.Run(f.name, func(t *testing.T) {
			l, in, want := f.open(t, onnx.Options{})
			out, err := engine.NewClient(l).RunFrame(context.Background(), inputFrame(t, in), engine.Options{BatchSize: 16, Executors: 2, GPUs: 1})
			require.NoError(t, err)
			assertOutputs(t, want, out, in.Rows, 1e-4)
		})
	}
}
