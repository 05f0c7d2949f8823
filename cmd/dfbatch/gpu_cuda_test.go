//go:build cuda

package main

// gpuRefusal is how a cuda build refuses --gpus where there is no GPU, or
// none of the type asked for.
const gpuRefusal = "--gpus 1: gpu: "
