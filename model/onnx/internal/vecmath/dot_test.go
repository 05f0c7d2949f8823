package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDotColumns checks every implementation of DotColumns, bit for bit,
// against the scalar dot product of each row, for output counts around
// the kernels' groups of 6, row counts around their blocks of 8 and 16,
// feature counts around the Go code's four, and NaN and infinite values.
func TestDotColumns(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, level := range levels() {
		withLevel(level, func() {
			for _, outputs := range []int{1, 2, 5, 6, 7, 13} {
				for _, features := range []int{1, 3, 4, 9, 30} {
					for _, rows := range []int{0, 1, 7, 8, 15, 16, 45, 100} {
						checkDotColumns(t, rng, outputs, features, rows)
					}
				}
			}
		})
	}
}

func checkDotColumns(t *testing.T, rng *rand.Rand, outputs, features, rows int) {
	t.Helper()
	random := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	x := make([][]float32, features)
	for f := range x {
		x[f] = random(rows + 3)
	}
	if rows > 2 {
		x[0][1] = float32(math.NaN())
		x[features-1][2] = float32(math.Inf(1))
	}
	w, b := random(outputs*features), random(outputs)
	z := make([][]float32, outputs)
	for c := range z {
		z[c] = make([]float32, rows+1)
		z[c][rows] = 42
		z[c] = z[c][:rows]
	}
	DotColumns(z, x, w, b)
	for c := range z {
		for i := range rows {
			var s float32
			for f := range x {
				s += float32(w[c*features+f] * x[f][i])
			}
			s += b[c]
			if got := z[c][i]; math.Float32bits(got) != math.Float32bits(s) && !(s != s && got != got) {
				t.Fatalf("%s, %d outputs, %d features, %d rows: z[%d][%d] = %g, want %g", levelNames[active], outputs, features, rows, c, i, got, s)
			}
		}
		if z[c][:rows+1][rows] != 42 {
			t.Fatalf("%s wrote past output %d", levelNames[active], c)
		}
	}
}

func TestDotColumnsPanics(t *testing.T) {
	two := func() []float32 { return make([]float32, 2) }
	for _, f := range []func(){
		func() { DotColumns([][]float32{two()}, [][]float32{two()}, two(), []float32{0}) },
		func() { DotColumns([][]float32{two()}, [][]float32{two()}, []float32{1}, two()) },
		func() { DotColumns([][]float32{two(), {0}}, [][]float32{two()}, two(), two()) },
		func() { DotColumns([][]float32{two()}, [][]float32{{1}}, []float32{1}, []float32{0}) },
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
