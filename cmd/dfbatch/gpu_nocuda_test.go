//go:build !cuda

package main

// gpuRefusal is how a build without CUDA refuses --gpus.
const gpuRefusal = "--gpus 1: this binary was built without CUDA support; rebuild it with `go build -tags cuda`"
