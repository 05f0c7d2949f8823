package vecmath

import "fmt"

// DotColumns scores rows of a matrix held column by column, x[f][i] being
// feature f of row i, with len(z) linear functions: z[c][i] is b[c] plus
// the dot product of row i with w[c*F:(c+1)*F], for the len(z[0]) rows,
// F = len(x). The products are rounded to float32 and added in feature
// order to 0, then b[c] is added, in float32: the arithmetic of a scalar
// loop over the row, whichever implementation runs, so results do not
// depend on it.
func DotColumns(z, x [][]float32, w, b []float32) {
	if len(z) == 0 {
		return
	}
	rows := len(z[0])
	checkDot(z, x, w, b, rows)
	done := dotVectorized(z, x, w, b, rows)
	features := len(x)
	for c, zc := range z {
		dotColumnsGo(zc[done:rows], x, done, w[c*features:(c+1)*features], b[c])
	}
}

// checkDot panics unless the arguments of DotColumns agree in size.
func checkDot(z, x [][]float32, w, b []float32, rows int) {
	switch {
	case len(w) != len(z)*len(x):
		panic(fmt.Sprintf("vecmath: %d weights for %d outputs of %d features", len(w), len(z), len(x)))
	case len(b) != len(z):
		panic(fmt.Sprintf("vecmath: %d intercepts for %d outputs", len(b), len(z)))
	}
	for c, zc := range z {
		if len(zc) != rows {
			panic(fmt.Sprintf("vecmath: output %d has %d rows, output 0 %d", c, len(zc), rows))
		}
	}
	for f, xf := range x {
		if len(xf) < rows {
			panic(fmt.Sprintf("vecmath: feature column %d has %d values, fewer than %d rows", f, len(xf), rows))
		}
	}
}

// dotColumnsGo sets z[i] to b plus w·(row r0+i of x) in Go, four features
// per pass over z.
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
