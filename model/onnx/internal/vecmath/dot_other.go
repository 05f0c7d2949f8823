//go:build !amd64

package vecmath

// dotVectorized does no rows: there is no kernel for this architecture.
func dotVectorized(z, x [][]float32, w, b []float32, rows int) int { return 0 }
