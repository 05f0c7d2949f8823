package onnx

import "github.com/dfbatch/dfbatch/gpu"

// EmulateGPUs makes executors with GPUs run on gpu.Emulator streams, for
// tests on machines without a GPU; restore undoes it.
func EmulateGPUs() (restore func()) {
	old := openStream
	openStream = func(d gpu.Device) (gpu.Stream, error) { return gpu.NewEmulator(d), nil }
	return func() { openStream = old }
}
