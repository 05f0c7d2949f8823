package mlops

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Rows for the linear tests; the third is all zeros, the fourth has a NaN.
var linearRows = []float32{0.5, -1, 2, 1, 1, -3, 0, 0, 0, nan, 1, 1}

func TestLinearClassifierOneRowBinary(t *testing.T) {
	// s = 0.1*x0 - 0.2*x1 + 0.3*x2 + 0.05: 0.9, -0.95, 0.05, NaN.
	tests := []struct {
		post   string
		scores []float64
	}{
		{"NONE", []float64{0.1, 0.9, 1.95, -0.95, 0.95, 0.05}},
		{"LOGISTIC", []float64{sigmoid(-0.9), sigmoid(0.9), sigmoid(0.95), sigmoid(-0.95), sigmoid(-0.05), sigmoid(0.05)}},
		// ONNX Runtime applies no other transform to a one-row model.
		{"SOFTMAX", []float64{0.1, 0.9, 1.95, -0.95, 0.95, 0.05}},
	}
	for _, tt := range tests {
		m, err := NewLinearClassifier(LinearClassifierAttrs{
			Coefficients: []float32{0.1, -0.2, 0.3}, Intercepts: []float32{0.05},
			ClassLabelsInts: []int64{3, 7}, PostTransform: tt.post,
		})
		require.NoError(t, err)
		assert.Equal(t, 2, m.NumClasses())
		assert.Equal(t, 3, m.NumFeatures())
		labels, scores := make([]int64, 4), make([]float32, 8)
		require.NoError(t, m.Predict(linearRows, 4, 3, labels, scores))
		assert.Equal(t, []int64{7, 3, 7, 3}, labels, tt.post)
		assert.InDeltaSlice(t, tt.scores, toFloat64(scores[:6]), 1e-6, tt.post)
		assert.True(t, math.IsNaN(float64(scores[7])), "a NaN feature gives a NaN score")
	}
}

func TestLinearClassifierSeveralRows(t *testing.T) {
	// Rows of coefficients (0.1, -0.2, 0.3) and (-0.4, 0.5, -0.6),
	// intercepts 0.05 and 0.1: scores (0.9, -1.8), (-0.95, 2), (0.05, 0.1).
	raw := []float64{0.9, -1.8, -0.95, 2, 0.05, 0.1}
	soft := func(a, b float64) []float64 { return []float64{1 / (1 + math.Exp(b-a)), 1 / (1 + math.Exp(a-b))} }
	tests := []struct {
		post   string
		scores []float64
	}{
		{"NONE", raw},
		{"LOGISTIC", []float64{sigmoid(0.9), sigmoid(-1.8), sigmoid(-0.95), sigmoid(2), sigmoid(0.05), sigmoid(0.1)}},
		{"SOFTMAX", append(append(soft(0.9, -1.8), soft(-0.95, 2)...), soft(0.05, 0.1)...)},
		{"PROBIT", []float64{1.2817128896713257, math.NaN(), math.NaN(), math.NaN(), -1.6446696519851685, -1.2817128896713257}},
	}
	for _, tt := range tests {
		m, err := NewLinearClassifier(LinearClassifierAttrs{
			Coefficients: []float32{0.1, -0.2, 0.3, -0.4, 0.5, -0.6}, Intercepts: []float32{0.05, 0.1},
			ClassLabelsStrings: []string{"a", "b"}, PostTransform: tt.post,
		})
		require.NoError(t, err)
		labels, scores := make([]int64, 4), make([]float32, 8)
		require.NoError(t, m.Predict(linearRows, 4, 3, labels, scores))
		// The label comes from the raw scores; a NaN row picks the first.
		assert.Equal(t, []int64{0, 1, 1, 0}, labels, tt.post)
		assert.Equal(t, []string{"a", "b"}, m.LabelStrings())
		for i, w := range tt.scores {
			if math.IsNaN(w) {
				assert.True(t, math.IsNaN(float64(scores[i])), "%s score %d", tt.post, i)
				continue
			}
			assert.InDelta(t, w, scores[i], 1e-6, "%s score %d", tt.post, i)
		}
	}
}

func TestLinearClassifierDoubleInputIsRoundedToFloat(t *testing.T) {
	m, err := NewLinearClassifier(LinearClassifierAttrs{
		Coefficients: []float32{1, 1}, Intercepts: []float32{-0.1}, ClassLabelsInts: []int64{0, 1},
	})
	require.NoError(t, err)
	labels, scores := make([]int64, 1), make([]float32, 2)
	require.NoError(t, m.PredictFloat64([]float64{0.05, 0.05}, 1, 2, labels, scores))
	assert.InDelta(t, float32(0.05)+float32(0.05)-float32(0.1), scores[1], 1e-9)
}

func TestLinearClassifierValidation(t *testing.T) {
	tests := []struct {
		a    LinearClassifierAttrs
		want string
	}{
		{LinearClassifierAttrs{Coefficients: []float32{1, 2}, ClassLabelsInts: []int64{0, 1}},
			"intercepts is empty"},
		{LinearClassifierAttrs{Coefficients: []float32{1, 2, 3}, Intercepts: []float32{0, 0}, ClassLabelsInts: []int64{0, 1}},
			"coefficients has 3 values, not a whole number of rows for 2 classes"},
		{LinearClassifierAttrs{Coefficients: []float32{1, 2}, Intercepts: []float32{0}, ClassLabelsInts: []int64{0, 1, 2}},
			"one row of coefficients is a binary model, which needs exactly 2 class labels, not 3"},
		{LinearClassifierAttrs{Coefficients: []float32{1, 2}, Intercepts: []float32{0}, ClassLabelsInts: []int64{0, 1}, PostTransform: "PROBIT"},
			"ONNX Runtime writes PROBIT scores of a one-row (binary) model out of place"},
		{LinearClassifierAttrs{Coefficients: []float32{1, 2, 3}, Intercepts: []float32{0, 0, 0}, ClassLabelsInts: []int64{0, 1}},
			"3 rows of coefficients but only 2 class labels"},
		{LinearClassifierAttrs{Coefficients: []float32{1, 2}, Intercepts: []float32{0}},
			"neither classlabels_ints nor classlabels_strings is set"},
	}
	for _, tt := range tests {
		_, err := NewLinearClassifier(tt.a)
		assert.ErrorContains(t, err, "LinearClassifier: "+tt.want)
	}
	m, err := NewLinearClassifier(LinearClassifierAttrs{Coefficients: []float32{1, 2}, Intercepts: []float32{0}, ClassLabelsInts: []int64{0, 1}})
	require.NoError(t, err)
	assert.ErrorContains(t, m.Predict([]float32{1, 2, 3}, 1, 3, nil, make([]float32, 2)), "input has 3 features, the coefficients have 2")
	assert.ErrorContains(t, m.Predict([]float32{1, 2}, 1, 2, nil, make([]float32, 1)), "scores have room for 1 values")
}

func TestLinearRegressor(t *testing.T) {
	// Targets 0.1*x0 - 0.2*x1 + 0.3*x2 and -0.4*x0 + 0.5*x1 - 0.6*x2,
	// intercepts 0.5 and 1.
	tests := []struct {
		targets    int64
		intercepts []float32
		post       string
		want       []float64
	}{
		{1, nil, "NONE", []float64{0.85, -1, 0}},
		{1, []float32{0.5}, "NONE", []float64{1.35, -0.5, 0.5}},
		// One target ignores every transform but PROBIT.
		{1, nil, "LOGISTIC", []float64{0.85, -1, 0}},
		{1, nil, "PROBIT", []float64{1.0366131067276, math.NaN(), math.Inf(-1)}},
		{2, nil, "NONE", []float64{0.85, -1.9, -1, 1.9, 0, 0}},
		{2, []float32{0.5, 1}, "LOGISTIC", []float64{sigmoid(1.35), sigmoid(-0.9), sigmoid(-0.5), sigmoid(2.9), sigmoid(0.5), sigmoid(1)}},
		// An all-zero row has nothing to sum under SOFTMAX_ZERO: 0/0.
		{2, nil, "SOFTMAX_ZERO", []float64{1 / (1 + math.Exp(-2.75)), 1 / (1 + math.Exp(2.75)), 1 / (1 + math.Exp(2.9)), 1 / (1 + math.Exp(-2.9)), math.NaN(), math.NaN()}},
	}
	for _, tt := range tests {
		m, err := NewLinearRegressor(LinearRegressorAttrs{
			Coefficients: []float32{0.1, -0.2, 0.3, -0.4, 0.5, -0.6}[:3*tt.targets],
			Intercepts:   tt.intercepts, Targets: tt.targets, PostTransform: tt.post,
		})
		require.NoError(t, err)
		assert.Equal(t, int(tt.targets), m.NumTargets())
		assert.Equal(t, 3, m.NumFeatures())
		out := make([]float32, 3*tt.targets)
		require.NoError(t, m.Predict(linearRows[:9], 3, 3, out))
		for i, w := range tt.want {
			switch {
			case math.IsNaN(w):
				assert.True(t, math.IsNaN(float64(out[i])), "%s %d", tt.post, i)
			case math.IsInf(w, 0):
				assert.Equal(t, float32(w), out[i], "%s %d", tt.post, i)
			default:
				assert.InDelta(t, w, out[i], 1e-6, "%s %d", tt.post, i)
			}
		}
	}
	_, err := NewLinearRegressor(LinearRegressorAttrs{Coefficients: []float32{1, 2}, Targets: 1, Intercepts: []float32{1, 2}})
	assert.ErrorContains(t, err, "LinearRegressor: intercepts has 2 values for 1 targets")
	_, err = NewLinearRegressor(LinearRegressorAttrs{Coefficients: []float32{1, 2, 3}, Targets: 2})
	assert.ErrorContains(t, err, "LinearRegressor: coefficients has 3 values, not a whole number of rows for 2 targets")
	_, err = NewLinearRegressor(LinearRegressorAttrs{Coefficients: []float32{1}})
	assert.ErrorContains(t, err, "LinearRegressor: targets is 0")
}
