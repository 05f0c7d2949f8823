//go:build cuda

package onnx_test

import (
	"context"
	"path/filepath"
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
	for _, tc := range []struct {
		fixture  string
		features bool // bind the single [N,F] input by the feature list
	}{{"mlp", true}, {"mlp_ops", true}, {"logreg_gemm", true}, {"multi_input", false}, {"multi_input_mixed", false}} {
		t.Run(tc.fixture, func(t *testing.T) {
			var in fixtureInput
			readJSON(t, tc.fixture+".input.json", &in)
			var want fixtureOutputs
			readJSON(t, tc.fixture+".expected.json", &want)
			opts := onnx.Options{}
			if tc.features {
				opts.Features = in.Features
			}
			l, err := onnx.Open(filepath.Join(fixtures, tc.fixture+".onnx"), opts)
			require.NoError(t, err)
			out, err := engine.NewClient(l).RunFrame(context.Background(), inputFrame(t, in), engine.Options{BatchSize: 16, Executors: 2, GPUs: 1})
			require.NoError(t, err)
			assertOutputs(t, want, out, in.Rows, 1e-4)
		})
	}
}
