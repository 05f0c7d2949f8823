//go:build !amd64

package sgemm

// panelWidth is the portable kernel's column tile.
var panelWidth = 16

func kernel(width, k int, a []float32, lda int, panel []float32, c []float32, ldc int, init []float32, relu bool) {
	kernelGo(width, k, a, lda, panel, c, ldc, init, relu)
}

func dotTile(a []float32, lda int, w []float32, k int, out []float32, ldo int) {
	dotTileGo(a, lda, w, k, out, ldo)
}

// Kernel names the micro-kernel this CPU runs: the portable Go one.
func Kernel() string { return "Go" }
