package vecmath

//go:generate go run gen_dot.go

// dotColumnsAVX2 is DotColumns for n rows, a multiple of 8, of the
// features columns whose slices start at x, z[i] for row r0+i.
//
//go:noescape
func dotColumnsAVX2(z *float32, x *[]float32, w *float32, features, r0, n int, b float32)

// dotVectorized runs DotColumns over the whole vectors of 8 rows of z with
// the AVX2 kernel when it is active, and returns how many rows it did.
func dotVectorized(z []float32, x [][]float32, r0 int, w []float32, b float32) int {
	n := len(z) &^ 7
	if active != levelAVX2 || n == 0 || len(w) == 0 {
		return 0
	}
	dotColumnsAVX2(&z[0], &x[0], &w[0], len(w), r0, n, b)
	return n
}
