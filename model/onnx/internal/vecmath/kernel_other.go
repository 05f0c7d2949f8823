//go:build !amd64

package vecmath

// bestLevel is the Go implementation: there are no kernels for this
// architecture.
var bestLevel = levelGo

// vectorized says the functions run in Go.
func vectorized(function, []float32, []float32) bool { return false }

// softmaxRowsVectorized does nothing: there is no kernel for this
// architecture.
func softmaxRowsVectorized([]float32, int, []float32, int, int, int) bool { return false }
