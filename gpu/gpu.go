// Package gpu is what dfbatch needs of a GPU: finding the devices a process
// may use, sharing them among executors as the batch platform's gpus and
// gpu_type options ask (BatchInferenceClient's), and a Stream per executor
// that runs the dense layers of a network on its device.
//
// Discovery (Devices), a device's Stream (Open) and its kernels go through
// the CUDA driver, cuBLAS and NVRTC, loaded at run time, in builds with the
// cuda tag (go build -tags cuda); such a build compiles without the CUDA
// toolkit and fails with a clear error where no driver or device is
// present. Other builds report ErrNoCUDA from every entry point that needs
// a device, so that a run asking for GPUs fails before any task starts
// instead of silently scoring on the CPU.
//
// Matching a gpu_type and assigning devices to executors (Select, Plan,
// Assign) are plain Go, the same in every build, and so is Emulator: a
// Stream on the CPU with the semantics the CUDA one must have, which its
// tests compare with and which code written against Stream (model/onnx's
// GPU plan) is tested on without a GPU. A Stream is used by one goroutine
// at a time; each executor opens its own on its share of a device.
package gpu

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ErrNoCUDA is returned where a device is needed in a build without CUDA.
var ErrNoCUDA = errors.New("this binary was built without CUDA support; rebuild it with `go build -tags cuda` on a machine with the NVIDIA driver, or ask for no GPUs")

// Device is one GPU as the driver reports it, and, in an assignment, the
// share of it one executor gets.
type Device struct {
	// Ordinal is the device's index for the driver (CUDA_VISIBLE_DEVICES order).
	Ordinal int
	// Name is the marketing name, e.g. "NVIDIA H100 80GB HBM3".
	Name string
	// MemoryBytes is the device's total memory.
	MemoryBytes uint64
	// ComputeMajor and ComputeMinor are the compute capability, e.g. 9 and 0.
	ComputeMajor, ComputeMinor int
	// Sharers is how many executors an assignment puts on this device
	// (0 outside an assignment). Each has its own stream and an equal share
	// of the memory: BudgetBytes.
	Sharers int
}

func (d Device) String() string {
	return fmt.Sprintf("GPU %d: %s (%d MiB, compute %d.%d)", d.Ordinal, d.Name, d.MemoryBytes>>20, d.ComputeMajor, d.ComputeMinor)
}

// BudgetBytes is the memory one executor may use on the device: all of
// it, or an equal share when executors share it.
func (d Device) BudgetBytes() uint64 {
	return d.MemoryBytes / uint64(max(d.Sharers, 1))
}

// Size writes a number of bytes for people: "512 B", "8.0 KiB", "40.0 MiB".
func Size(bytes uint64) string {
	const unit = 1024
	if bytes < unit {
		return fmt.Sprintf("%d B", bytes)
	}
	value, prefix := float64(bytes)/unit, 0
	for value >= unit && prefix < 4 {
		value /= unit
		prefix++
	}
	return fmt.Sprintf("%.1f %ciB", value, "KMGTP"[prefix])
}

// Assign gives each of executors executors perExecutor devices of type
// gpuType ("" for any), from the devices present (Devices); see Plan.
func Assign(executors, perExecutor int, gpuType string) ([][]Device, error) {
	present, err := Devices()
	if err != nil {
		return nil, err
	}
	return Plan(present, executors, perExecutor, gpuType)
}

// Plan assigns perExecutor of the devices of type gpuType among present to
// each of executors executors, round-robin: executor i gets the next
// perExecutor devices after executor i-1's, wrapping around, so that the
// devices are used evenly and one executor never gets a device twice.
// More executors than devices share them; each assigned Device says how
// many executors share it. Asking for more devices per executor than
// match is an error naming the devices present.
func Plan(present []Device, executors, perExecutor int, gpuType string) ([][]Device, error) {
	if perExecutor < 1 || executors < 1 {
		return nil, fmt.Errorf("gpu: %d executors of %d GPUs each: both must be at least 1", executors, perExecutor)
	}
	matched, err := Select(present, gpuType)
	if err != nil {
		return nil, err
	}
	if perExecutor > len(matched) {
		return nil, fmt.Errorf("gpu: each executor asks for %d GPUs, but %s: %s", perExecutor, countMatching(len(matched), gpuType), describe(present))
	}
	sharers := make([]int, len(matched))
	picks := make([][]int, executors)
	for i := range picks {
		for j := range perExecutor {
			k := (i*perExecutor + j) % len(matched)
			picks[i] = append(picks[i], k)
			sharers[k]++
		}
	}
	out := make([][]Device, executors)
	for i, ks := range picks {
		for _, k := range ks {
			d := matched[k]
			d.Sharers = sharers[k]
			out[i] = append(out[i], d)
		}
	}
	return out, nil
}

// Select returns the devices among present whose name matches gpuType
// (all of them for ""); none is an error naming the devices present.
func Select(present []Device, gpuType string) ([]Device, error) {
	if len(present) == 0 {
		return nil, errors.New("gpu: no GPU is present")
	}
	var out []Device
	for _, d := range present {
		if Matches(gpuType, d.Name) {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("gpu: gpu_type %q matches none of the GPUs present: %s", gpuType, describe(present))
	}
	return out, nil
}

// Matches says whether a device named name is of type gpuType. Case and
// punctuation are ignored: both are cut into words of letters and digits,
// and every word of gpuType but a leading vendor "nvidia" must be a word
// of the name. So "nvidia-h100", "H100" and "h100-80gb" match "NVIDIA H100
// 80GB HBM3", while "a10g" does not, nor does "a10" match "NVIDIA A10G" or
// "h100-sxm" an H100 whose name does not say SXM. An empty gpuType matches
// every device.
func Matches(gpuType, name string) bool {
	have := map[string]bool{}
	for _, w := range words(name) {
		have[w] = true
	}
	want := words(gpuType)
	if len(want) > 0 && want[0] == "nvidia" {
		want = want[1:]
	}
	for _, w := range want {
		if !have[w] {
			return false
		}
	}
	return true
}

// words cuts s into lower-case runs of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func countMatching(n int, gpuType string) string {
	if gpuType == "" {
		return fmt.Sprintf("%d are present", n)
	}
	return fmt.Sprintf("%d match gpu_type %q", n, gpuType)
}

// describe lists devices for an error message.
func describe(devices []Device) string {
	names := make([]string, len(devices))
	for i, d := range devices {
		names[i] = d.String()
	}
	return strings.Join(names, "; ")
}
