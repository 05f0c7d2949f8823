package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDotColumns checks every implementation of DotColumns, bit for bit,
// against the scalar dot product of each row, for row counts around the
// kernels' blocks, feature counts around the Go code's four, an offset
// first row and NaN and infinite values.
func TestDotColumns(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, level := range levels() {
		withLevel(level, func() {
			for _, features := range []int{1, 3, 4, 9, 30} {
				for _, rows := range []int{0, 1, 7, 8, 31, 32, 45, 100} {
					checkDotColumns(t, rng, features, rows, 5)
				}
			}
		})
	}
}

func checkDotColumns(t *testing.T, rng *rand.Rand, features, rows, r0 int) {
	t.Helper()
	x := make([][]float32, features)
	for f := range x {
		x[f] = make([]float32, r0+rows+3)
		for r := range x[f] {
			x[f][r] = float32(rng.NormFloat64())
		}
	}
	if rows > 2 {
		x[0][r0+1] = float32(math.NaN())
		x[features-1][r0+2] = float32(math.Inf(1))
	}
	w := make([]float32, features)
	for f := range w {
		w[f] = float32(rng.NormFloat64())
	}
	b := float32(rng.NormFloat64())
	z := make([]float32, rows+1)
	z[rows] = 42
	DotColumns(z[:rows], x, r0, w, b)
	for i := range rows {
		var s float32
		for f := range w {
			s += float32(w[f] * x[f][r0+i])
		}
		s += b
		if math.Float32bits(z[i]) != math.Float32bits(s) && !(s != s && z[i] != z[i]) {
			t.Fatalf("%s, %d features, %d rows: z[%d] = %g, want %g", levelNames[active], features, rows, i, z[i], s)
		}
	}
	if z[rows] != 42 {
		t.Fatalf("%s wrote past z", levelNames[active])
	}
}

func TestDotColumnsPanics(t *testing.T) {
	for _, f := range []func(){
		func() { DotColumns(make([]float32, 2), [][]float32{{1, 2}}, 0, []float32{1, 2}, 0) },
		func() { DotColumns(make([]float32, 2), [][]float32{{1, 2}}, 1, []float32{1}, 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}
