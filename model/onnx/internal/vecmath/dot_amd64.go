package vecmath

//go:generate go run gen_dot.go

// The kernels dotColumnsGAVX2 are DotColumns for G outputs (G <= 6) and n
// rows, a multiple of 8, of features columns: z and x point at the slice
// headers, w at the G×features weights and b at the G intercepts.

//go:noescape
func dotColumns1AVX2(z, x *[]float32, w, b *float32, features, n int)

//go:noescape
func dotColumns2AVX2(z, x *[]float32, w, b *float32, features, n int)

//go:noescape
func dotColumns3AVX2(z, x *[]float32, w, b *float32, features, n int)

//go:noescape
func dotColumns4AVX2(z, x *[]float32, w, b *float32, features, n int)

//go:noescape
func dotColumns5AVX2(z, x *[]float32, w, b *float32, features, n int)

//go:noescape
func dotColumns6AVX2(z, x *[]float32, w, b *float32, features, n int)

// dotKernels are the kernels by number of outputs less one.
var dotKernels = [...]func(z, x *[]float32, w, b *float32, features, n int){
	dotColumns1AVX2, dotColumns2AVX2, dotColumns3AVX2, dotColumns4AVX2, dotColumns5AVX2, dotColumns6AVX2,
}

// dotVectorized runs DotColumns over the whole vectors of 8 rows with the
// AVX2 kernels when they are active, up to 6 outputs per call, and
// returns how many rows it did.
func dotVectorized(z, x [][]float32, w, b []float32, rows int) int {
	n := rows &^ 7
	if active != levelAVX2 || n == 0 || len(x) == 0 {
		return 0
	}
	features := len(x)
	for c := 0; c < len(z); c += len(dotKernels) {
		g := min(len(dotKernels), len(z)-c)
		dotKernels[g-1](&z[c], &x[0], &w[c*features], &b[c], features, n)
	}
	return n
}
