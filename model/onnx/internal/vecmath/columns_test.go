package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSoftmaxColumns compares SoftmaxColumns with Softmax row by row, bit
// for bit, over more rows than a chunk and with NaN and infinite values.
func TestSoftmaxColumns(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, level := range levels() {
		withLevel(level, func() {
			for _, width := range []int{1, 2, 5, 17} {
				for _, rows := range []int{0, 1, 7, softmaxChunk + 3} {
					checkSoftmaxColumns(t, rng, width, rows)
				}
			}
		})
	}
}

func checkSoftmaxColumns(t *testing.T, rng *rand.Rand, width, rows int) {
	t.Helper()
	cols := make([][]float32, width)
	for j := range cols {
		cols[j] = make([]float32, rows)
		for r := range cols[j] {
			cols[j][r] = float32(rng.NormFloat64() * 10)
		}
	}
	specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 100}
	for i, v := range specials {
		if i < rows {
			cols[i%width][i] = v
		}
	}
	want := make([][]float32, rows)
	for r := range want {
		row := make([]float32, width)
		for j, c := range cols {
			row[j] = c[r]
		}
		Softmax(row, row)
		want[r] = row
	}
	SoftmaxColumns(cols)
	for r, row := range want {
		for j, w := range row {
			got := cols[j][r]
			if math.Float32bits(got) != math.Float32bits(w) && !(got != got && w != w) {
				t.Fatalf("%s width %d row %d [%d] = %g, Softmax %g", levelNames[active], width, r, j, got, w)
			}
		}
	}
}
