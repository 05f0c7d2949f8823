// Package gpu finds the GPUs a process may use and shares them among
// executors. This build has no CUDA support: every entry point reports it,
// so that a run asking for GPUs fails before any task starts instead of
// silently scoring on the CPU.
package gpu

import (
	"errors"
	"fmt"
)

// ErrNoCUDA is returned by every entry point of a build without CUDA.
var ErrNoCUDA = errors.New("this binary was built without CUDA support; rebuild it with `go build -tags cuda` on a machine with the NVIDIA driver, or set GPUs to 0")

// Device is one GPU as the driver reports it.
type Device struct {
	// Ordinal is the device's index for the driver (CUDA_VISIBLE_DEVICES order).
	Ordinal int
	// Name is the marketing name, e.g. "NVIDIA H100 80GB HBM3".
	Name string
	// MemoryBytes is the device's total memory.
	MemoryBytes uint64
	// ComputeMajor and ComputeMinor are the compute capability, e.g. 9 and 0.
	ComputeMajor, ComputeMinor int
}

func (d Device) String() string {
	return fmt.Sprintf("GPU %d: %s (%d MiB, compute %d.%d)", d.Ordinal, d.Name, d.MemoryBytes>>20, d.ComputeMajor, d.ComputeMinor)
}

// Devices lists the GPUs present.
func Devices() ([]Device, error) {
	return nil, ErrNoCUDA
}

// Assign gives each of executors executors perExecutor devices of type
// gpuType ("" for any), or an error when that is impossible.
func Assign(executors, perExecutor int, gpuType string) ([][]Device, error) {
	return nil, ErrNoCUDA
}
