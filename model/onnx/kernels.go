package onnx

import (
	"github.com/dfbatch/dfbatch/model/onnx/internal/sgemm"
	"github.com/dfbatch/dfbatch/model/onnx/internal/vecmath"
)

// Kernels names the SIMD kernels the pure-Go runner uses on this CPU, for
// benchmarks and bug reports: "GEMM AVX2+FMA 6x16, transcendentals avx2".
func Kernels() string {
	return "GEMM " + sgemm.Kernel() + ", transcendentals " + vecmath.Kernel()
}
