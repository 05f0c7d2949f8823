//go:build !cuda

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
