package vecmath

import "fmt"

// DotColumns sets z[i] to b plus the dot product of w with row r0+i of a
// matrix held column by column: x[f][r0+i] is feature f of that row. The
// products are rounded to float32 and added in feature order to 0, then b
// is added, in float32: the arithmetic of a scalar loop over the row,
// whichever implementation runs, so results do not depend on it.
func DotColumns(z []float32, x [][]float32, r0 int, w []float32, b float32) {
	if len(x) != len(w) {
		panic(fmt.Sprintf("vecmath: %d feature columns for %d weights", len(x), len(w)))
	}
	for f, c := range x {
		if len(c) < r0+len(z) {
			panic(fmt.Sprintf("vecmath: feature column %d has %d values, rows %d to %d read past it", f, len(c), r0, r0+len(z)))
		}
	}
	done := dotVectorized(z, x, r0, w, b)
	dotColumnsGo(z[done:], x, r0+done, w, b)
}

// dotColumnsGo is DotColumns in Go, four features per pass over z.
func dotColumnsGo(z []float32, x [][]float32, r0 int, w []float32, b float32) {
	clear(z)
	n := len(z)
	f := 0
	for ; f+4 <= len(w); f += 4 {
		addProducts4(z, x[f][r0:r0+n], x[f+1][r0:r0+n], x[f+2][r0:r0+n], x[f+3][r0:r0+n], w[f:f+4])
	}
	for ; f < len(w); f++ {
		addProducts(z, x[f][r0:r0+n], w[f])
	}
	for i := range z {
		z[i] += b
	}
}

// addProducts4 adds w[0]·x0[i], then w[1]·x1[i], w[2]·x2[i] and w[3]·x3[i]
// to z[i], each product rounded to float32 (never fused).
func addProducts4(z, x0, x1, x2, x3 []float32, w []float32) {
	w0, w1, w2, w3 := w[0], w[1], w[2], w[3]
	x0, x1, x2, x3 = x0[:len(z)], x1[:len(z)], x2[:len(z)], x3[:len(z)]
	for i, s := range z {
		s += float32(w0 * x0[i])
		s += float32(w1 * x1[i])
		s += float32(w2 * x2[i])
		s += float32(w3 * x3[i])
		z[i] = s
	}
}

// addProducts adds w·x[i] to z[i], the product rounded to float32.
func addProducts(z, x []float32, w float32) {
	x = x[:len(z)]
	for i, v := range x {
		z[i] += float32(w * v)
	}
}
