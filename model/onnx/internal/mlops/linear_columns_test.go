package mlops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomRows returns rows×features values, row-major, and the same values
// column by column, with a NaN, infinities and zero rows mixed in.
func randomRows(rng *rand.Rand, rows, features int) ([]float32, [][]float32) {
	x := make([]float32, rows*features)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i, v := range []float32{nan, float32(math.Inf(1)), float32(math.Inf(-1))} {
		if i*7 < len(x) {
			x[i*7] = v
		}
	}
	cols := make([][]float32, features)
	for f := range cols {
		cols[f] = make([]float32, rows)
		for r := range rows {
			cols[f][r] = x[r*features+f]
		}
	}
	return x, cols
}

// columnsOf splits a row-major rows×width matrix into its columns.
func columnsOf(data []float32, rows, width int) [][]float32 {
	cols := make([][]float32, width)
	for j := range cols {
		cols[j] = make([]float32, rows)
		for r := range rows {
			cols[j][r] = data[r*width+j]
		}
	}
	return cols
}

// assertSameBits checks that got and want hold the same float32 values bit
// for bit, any NaN matching any NaN.
func assertSameBits(t *testing.T, want, got [][]float32, what string) {
	t.Helper()
	for j := range want {
		for r, w := range want[j] {
			g := got[j][r]
			if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
				t.Fatalf("%s: column %d row %d = %g, Predict %g", what, j, r, g, w)
			}
		}
	}
}

// TestLinearClassifierColumnsMatchPredict checks PredictColumns against
// Predict, bit for bit, for one-row and several-row models under every
// transform, with features that fill four-feature passes or not and more
// rows than a chunk.
func TestLinearClassifierColumnsMatchPredict(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, classes := range []int{1, 2, 5} {
		for _, features := range []int{1, 4, 7} {
			for _, post := range transformNames {
				if classes == 1 && post == "PROBIT" {
					continue
				}
				coef, _ := randomRows(rng, classes, features)
				intercepts, _ := randomRows(rng, 1, classes)
				m, err := NewLinearClassifier(LinearClassifierAttrs{
					Coefficients: coef, Intercepts: intercepts,
					ClassLabelsInts: []int64{10, 11, 12, 13, 14}[:max(classes, 2)], PostTransform: post,
				})
				require.NoError(t, err)
				for _, rows := range []int{0, 3, columnChunk + 5} {
					x, cols := randomRows(rng, rows, features)
					k := m.NumClasses()
					labels, scores := make([]int64, rows), make([]float32, rows*k)
					require.NoError(t, m.Predict(x, rows, features, labels, scores))
					gotLabels, got := make([]int64, rows), columnsOf(make([]float32, rows*k), rows, k)
					require.NoError(t, m.PredictColumns(cols, rows, gotLabels, got))
					assert.Equal(t, labels, gotLabels, "%d classes %s", classes, post)
					assertSameBits(t, columnsOf(scores, rows, k), got, post)
					require.NoError(t, m.PredictColumns(cols, rows, nil, got), "no labels")
				}
			}
		}
	}
}

// TestLinearRegressorColumnsMatchPredict is
// TestLinearClassifierColumnsMatchPredict for LinearRegressor.
func TestLinearRegressorColumnsMatchPredict(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, targets := range []int{1, 3} {
		for _, post := range transformNames {
			coef, _ := randomRows(rng, targets, 6)
			intercepts, _ := randomRows(rng, 1, targets)
			m, err := NewLinearRegressor(LinearRegressorAttrs{Coefficients: coef, Intercepts: intercepts, Targets: int64(targets), PostTransform: post})
			require.NoError(t, err)
			rows := columnChunk + 5
			x, cols := randomRows(rng, rows, 6)
			out := make([]float32, rows*targets)
			require.NoError(t, m.Predict(x, rows, 6, out))
			got := columnsOf(make([]float32, rows*targets), rows, targets)
			require.NoError(t, m.PredictColumns(cols, rows, got))
			assertSameBits(t, columnsOf(out, rows, targets), got, post)
		}
	}
}

func TestLinearColumnsValidation(t *testing.T) {
	m, err := NewLinearClassifier(LinearClassifierAttrs{Coefficients: []float32{1, 2}, Intercepts: []float32{0}, ClassLabelsInts: []int64{0, 1}})
	require.NoError(t, err)
	two := [][]float32{make([]float32, 2), make([]float32, 2)}
	assert.ErrorContains(t, m.PredictColumns(two[:1], 2, nil, two), "input has 1 features, the coefficients have 2")
	assert.ErrorContains(t, m.PredictColumns(two, 3, nil, two), "feature 0 has 2 values, fewer than 3 rows")
	assert.ErrorContains(t, m.PredictColumns(two, 2, nil, two[:1]), "1 output columns, not 2")
	assert.ErrorContains(t, m.PredictColumns(two, 2, make([]int64, 1), two), "labels have room for 1 rows, not 2")
	r, err := NewLinearRegressor(LinearRegressorAttrs{Coefficients: []float32{1, 2}, Targets: 1})
	require.NoError(t, err)
	assert.ErrorContains(t, r.PredictColumns(two, 2, [][]float32{make([]float32, 1)}), "output column 0 has room for 1 values, not 2")
}
