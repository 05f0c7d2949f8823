package onnx

import "github.com/dfbatch/dfbatch/model/onnx/internal/sgemm"

// Kernels names the SIMD kernels the pure-Go runner uses on this CPU, for
// benchmarks and bug reports: "GEMM AVX-512 6x32".
func Kernels() string {
	return "GEMM " + sgemm.Kernel()
}
