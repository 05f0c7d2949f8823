package vecmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestArgMaxRowsMatchesTheScalarLoop runs ArgMaxRows with every
// implementation on rows of every width up to 20 (the kernels take up to
// 16), drawn from few distinct values so that ties are common, with NaN,
// ±Inf and ±0 among them, and both tie rules, against the scalar loop.
func TestArgMaxRowsMatchesTheScalarLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	values := []float32{-inf, -2, -1, negZero, 0, 1, 2, inf, nan, 0.5}
	for width := 1; width <= 20; width++ {
		const rows = 500
		data := make([]float32, rows*width)
		for i := range data {
			data[i] = values[rng.IntN(len(values))]
		}
		// Rows of only -Inf, only NaN, and a NaN first.
		for j := range width {
			data[j], data[width+j] = -inf, nan
		}
		data[2*width] = nan
		for _, last := range []bool{false, true} {
			want := make([]int64, rows)
			argMaxRowsGo(data, width, last, want)
			for _, level := range levels() {
				withLevel(level, func() {
					got := make([]int64, rows)
					ArgMaxRows(data, width, last, got)
					for r := range rows {
						require.Equal(t, want[r], got[r], "%s, width %d, last %v, row %d: %v", levelNames[level], width, last, r, data[r*width:(r+1)*width])
					}
				})
			}
		}
	}
}

// TestArgMaxRowsReadsOnlyItsRows gives the kernels a last row that ends
// the slice, and rows followed by larger values, which must not count.
func TestArgMaxRowsReadsOnlyItsRows(t *testing.T) {
	for _, width := range []int{3, 8, 10, 16} {
		data := make([]float32, 2*width+4)
		for i := range data {
			data[i] = float32(i % width)
		}
		for i := 2 * width; i < len(data); i++ {
			data[i] = 1000 // past the rows
		}
		out := make([]int64, 2)
		ArgMaxRows(data[:2*width], width, false, out)
		require.Equal(t, []int64{int64(width - 1), int64(width - 1)}, out, "width %d", width)
	}
}

// BenchmarkArgMaxRows times ArgMaxRows over 1024 rows of 3 and 10 values
// like a classifier's probabilities, one large value at a random place,
// cycling through 64 batches so that the branch predictor cannot learn
// the answers, with every implementation.
func BenchmarkArgMaxRows(b *testing.B) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, width := range []int{3, 10} {
		const rows, batches = 1024, 64
		data := make([]float32, batches*rows*width)
		for r := range batches * rows {
			for j := range width {
				data[r*width+j] = rng.Float32() * 0.1
			}
			data[r*width+rng.IntN(width)] = 0.5 + rng.Float32()/2
		}
		out := make([]int64, rows)
		for _, level := range levels() {
			b.Run(fmt.Sprintf("width=%d/%s", width, levelNames[level]), func(b *testing.B) {
				withLevel(level, func() {
					i := 0
					for b.Loop() {
						ArgMaxRows(data[i*rows*width:(i+1)*rows*width], width, false, out)
						i = (i + 1) % batches
					}
				})
			})
		}
	}
}
