package gpu_test

import (
	"testing"

	"github.com/dfbatch/dfbatch/gpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuildWithoutCUDASaysHowToRebuild(t *testing.T) {
	_, err := gpu.Devices()
	require.ErrorIs(t, err, gpu.ErrNoCUDA)
	assert.Contains(t, err.Error(), "-tags cuda")
	_, err = gpu.Assign(2, 1, "h100")
	assert.ErrorIs(t, err, gpu.ErrNoCUDA)
}

func TestDeviceStringNamesTheDevice(t *testing.T) {
	d := gpu.Device{Ordinal: 1, Name: "NVIDIA H100 80GB HBM3", MemoryBytes: 80 << 30, ComputeMajor: 9}
	assert.Equal(t, "GPU 1: NVIDIA H100 80GB HBM3 (81920 MiB, compute 9.0)", d.String())
}
