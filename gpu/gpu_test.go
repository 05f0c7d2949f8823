package gpu_test

import (
	"testing"

	"github.com/dfbatch/dfbatch/gpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeviceStringNamesTheDevice(t *testing.T) {
	d := gpu.Device{Ordinal: 1, Name: "NVIDIA H100 80GB HBM3", MemoryBytes: 80 << 30, ComputeMajor: 9}
	assert.Equal(t, "GPU 1: NVIDIA H100 80GB HBM3 (81920 MiB, compute 9.0)", d.String())
}

func TestGPUTypeMatchingIgnoresCaseAndPunctuationButNotWords(t *testing.T) {
	for _, tc := range []struct {
		gpuType, name string
		want          bool
	}{
		{"nvidia-h100", "NVIDIA H100 80GB HBM3", true},
		{"H100", "NVIDIA H100 80GB HBM3", true},
		{"h100-80gb", "NVIDIA H100 80GB HBM3", true},
		{"NVIDIA_H100", "NVIDIA H100 80GB HBM3", true},
		{"", "NVIDIA H100 80GB HBM3", true},
		{"a10g", "NVIDIA H100 80GB HBM3", false},
		{"h100-sxm", "NVIDIA H100 80GB HBM3", false},
		{"h1", "NVIDIA H100 80GB HBM3", false},
		{"a10g", "NVIDIA A10G", true},
		{"a10", "NVIDIA A10G", false},
		{"a100", "NVIDIA A100-SXM4-40GB", true},
		{"a10", "NVIDIA A100-SXM4-40GB", false},
		{"nvidia-t4", "Tesla T4", true},
		{"t4", "Tesla T4", true},
		{"h200", "NVIDIA H200", true},
		{"h100", "NVIDIA H200", false},
	} {
		assert.Equal(t, tc.want, gpu.Matches(tc.gpuType, tc.name), "%q against %q", tc.gpuType, tc.name)
	}
}

var (
	h100a = gpu.Device{Ordinal: 0, Name: "NVIDIA H100 80GB HBM3", MemoryBytes: 80 << 30, ComputeMajor: 9}
	h100b = gpu.Device{Ordinal: 1, Name: "NVIDIA H100 80GB HBM3", MemoryBytes: 80 << 30, ComputeMajor: 9}
	t4    = gpu.Device{Ordinal: 2, Name: "Tesla T4", MemoryBytes: 16 << 30, ComputeMajor: 7, ComputeMinor: 5}
)

// ordinals lists each executor's devices by ordinal.
func ordinals(plan [][]gpu.Device) [][]int {
	out := make([][]int, len(plan))
	for i, ds := range plan {
		for _, d := range ds {
			out[i] = append(out[i], d.Ordinal)
		}
	}
	return out
}

func TestPlanHandsDevicesOutRoundRobin(t *testing.T) {
	present := []gpu.Device{h100a, h100b, t4}
	plan, err := gpu.Plan(present, 3, 1, "h100")
	require.NoError(t, err)
	assert.Equal(t, [][]int{{0}, {1}, {0}}, ordinals(plan), "the T4 is not an H100; the third executor shares GPU 0")
	assert.Equal(t, 2, plan[0][0].Sharers)
	assert.Equal(t, 1, plan[1][0].Sharers)
	assert.Equal(t, uint64(40<<30), plan[0][0].BudgetBytes(), "two executors on one GPU get half its memory each")
	assert.Equal(t, uint64(80<<30), plan[1][0].BudgetBytes())

	plan, err = gpu.Plan(present, 3, 2, "")
	require.NoError(t, err)
	assert.Equal(t, [][]int{{0, 1}, {2, 0}, {1, 2}}, ordinals(plan), "no executor gets one device twice, and each device is used twice")
	for _, ds := range plan {
		for _, d := range ds {
			assert.Equal(t, 2, d.Sharers)
		}
	}
}

func TestPlanRefusesWhatThePresentDevicesCannotGive(t *testing.T) {
	present := []gpu.Device{h100a, t4}
	_, err := gpu.Plan(present, 1, 2, "h100")
	require.ErrorContains(t, err, `each executor asks for 2 GPUs, but 1 match gpu_type "h100": GPU 0: NVIDIA H100 80GB HBM3 (81920 MiB, compute 9.0); GPU 2: Tesla T4 (16384 MiB, compute 7.5)`)

	_, err = gpu.Plan(present, 2, 1, "a10g")
	require.ErrorContains(t, err, `gpu_type "a10g" matches none of the GPUs present: GPU 0: NVIDIA H100 80GB HBM3`)

	_, err = gpu.Plan(nil, 1, 1, "")
	require.ErrorContains(t, err, "no GPU is present")

	_, err = gpu.Plan(present, 1, 0, "")
	require.ErrorContains(t, err, "1 executors of 0 GPUs each")
}

func TestSizeIsReadable(t *testing.T) {
	assert.Equal(t, "512 B", gpu.Size(512))
	assert.Equal(t, "16.0 KiB", gpu.Size(16<<10))
	assert.Equal(t, "80.0 GiB", gpu.Size(80<<30))
}

func TestEmulatorIsAStream(t *testing.T) {
	var s gpu.Stream = gpu.NewEmulator(gpu.Device{MemoryBytes: 1 << 20, Sharers: 4})
	_, err := s.Alloc(64 << 10) // 256 KiB: the whole share
	require.NoError(t, err)
	_, err = s.Alloc(1)
	require.ErrorContains(t, err, "would exceed this executor's share of it, 256.0 KiB (256.0 KiB in use)")
}

func TestEmulatorCopiesIntoAViewOfABuffer(t *testing.T) {
	e := gpu.NewEmulator(gpu.Device{})
	src, err := e.Alloc(4)
	require.NoError(t, err)
	require.NoError(t, e.CopyIn(src, []float32{1, 2, 3, 4}))
	dst, err := e.Alloc(6)
	require.NoError(t, err)
	// Two rows of two values into columns 1 and 2 of a 2 x 3 matrix.
	require.NoError(t, e.Copy(dst.From(1), 3, src, 2, 2, 2))
	out := make([]float32, 6)
	require.NoError(t, e.CopyOut(out, dst, 3, 2, 3))
	assert.Equal(t, []float32{0, 1, 2, 0, 3, 4}, out)
}
