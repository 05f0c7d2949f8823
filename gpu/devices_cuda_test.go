//go:build cuda

package gpu_test

import (
	"testing"

	"github.com/dfbatch/dfbatch/gpu"
	"github.com/stretchr/testify/require"
)

// TestDevicesListsWhatTheDriverReports needs the NVIDIA driver and a GPU;
// it skips without them, saying why.
func TestDevicesListsWhatTheDriverReports(t *testing.T) {
	devices, err := gpu.Devices()
	if err != nil {
		t.Skipf("no GPU here: %v", err)
	}
	require.NotEmpty(t, devices)
	for i, d := range devices {
		t.Log(d)
		require.Equal(t, i, d.Ordinal)
		require.NotEmpty(t, d.Name)
		require.NotZero(t, d.MemoryBytes)
		require.NotZero(t, d.ComputeMajor)
	}
}
