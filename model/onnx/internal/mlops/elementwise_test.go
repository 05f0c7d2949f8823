package mlops

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Rows for the element-wise operators: mixed signs, all zeros, all
// negative, and a NaN. The expected values are ONNX Runtime 1.30's.
var elementRows = []float32{1, -2, 0.5, 0, 0, 0, -3, -1, -2, nan, 1, 2}

func assertFloats(t *testing.T, want []float64, got []float32, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	for i, w := range want {
		if math.IsNaN(w) {
			assert.True(t, math.IsNaN(float64(got[i])), "%s: value %d is %v, want NaN", msg, i, got[i])
			continue
		}
		assert.InDelta(t, w, got[i], 1e-6, "%s: value %d", msg, i)
	}
}

func TestNormalizer(t *testing.T) {
	n := math.NaN()
	tests := []struct {
		norm string
		want []float64
	}{
		// MAX divides by a negative maximum too, and skips NaN.
		{"", []float64{1, -2, 0.5, 0, 0, 0, 3, 1, 2, n, 0.5, 1}},
		{"MAX", []float64{1, -2, 0.5, 0, 0, 0, 3, 1, 2, n, 0.5, 1}},
		{"L1", []float64{0.2857142984867096, -0.5714285969734192, 0.1428571492433548, 0, 0, 0, -0.5, -0.1666666716337204, -0.3333333432674408, n, n, n}},
		{"L2", []float64{0.4364357888698578, -0.8728715777397156, 0.2182178944349289, 0, 0, 0, -0.8017837405204773, -0.26726123690605164, -0.5345224738121033, n, n, n}},
	}
	for _, tt := range tests {
		m, err := NewNormalizer(tt.norm)
		require.NoError(t, err)
		out := make([]float32, 12)
		require.NoError(t, m.Predict(elementRows, 4, 3, out))
		assertFloats(t, tt.want, out, "norm "+tt.norm)
		x64 := make([]float64, 12)
		for i, v := range elementRows {
			x64[i] = float64(v)
		}
		require.NoError(t, m.PredictFloat64(x64, 4, 3, out))
		assertFloats(t, tt.want, out, "double, norm "+tt.norm)
	}
	in := append([]float32(nil), elementRows...)
	m, _ := NewNormalizer("L2")
	require.NoError(t, m.Predict(in, 4, 3, in), "in place")
	assert.InDelta(t, 0.4364357888698578, in[0], 1e-6)
	_, err := NewNormalizer("L3")
	assert.ErrorContains(t, err, `Normalizer: norm "L3"`)
	assert.ErrorContains(t, m.Predict(elementRows, 4, 3, make([]float32, 11)), "output has room for 11 values")
}

func TestScaler(t *testing.T) {
	s, err := NewScaler([]float32{1, 2, 3}, []float32{0.5, 2, -1})
	require.NoError(t, err)
	out := make([]float32, 12)
	require.NoError(t, s.Predict(elementRows, 4, 3, out))
	assertFloats(t, []float64{0, -8, 2.5, -0.5, -4, 3, -2, -6, 5, math.NaN(), -2, 1}, out, "per feature")

	one, err := NewScaler([]float32{1}, []float32{0.5})
	require.NoError(t, err)
	x64 := make([]float64, 12)
	for i, v := range elementRows {
		x64[i] = float64(v)
	}
	require.NoError(t, one.PredictFloat64(x64, 4, 3, out))
	assertFloats(t, []float64{0, -1.5, -0.25, -0.5, -0.5, -0.5, -2, -1, -1.5, math.NaN(), 0, 0.5}, out, "broadcast")

	two, err := NewScaler([]float32{1, 2}, []float32{0.5, 1})
	require.NoError(t, err)
	assert.ErrorContains(t, two.Predict(elementRows, 4, 3, out), "Scaler: scale and offset have 2 values, the input 3 features")
	_, err = NewScaler([]float32{1}, []float32{1, 2})
	assert.ErrorContains(t, err, "Scaler: scale has 2 values, offset 1")
	_, err = NewScaler(nil, nil)
	assert.ErrorContains(t, err, "Scaler: scale is empty")
}

func TestImputer(t *testing.T) {
	m, err := NewImputer(ImputerAttrs{ImputedValueFloats: []float32{9, 8, 7}, ReplacedValueFloat: nan})
	require.NoError(t, err)
	out := make([]float32, 12)
	require.NoError(t, m.Predict(elementRows, 4, 3, out))
	assertFloats(t, []float64{1, -2, 0.5, 0, 0, 0, -3, -1, -2, 9, 1, 2}, out, "NaN replaced per feature")

	// Two imputed values for three features: the first serves them all.
	m, err = NewImputer(ImputerAttrs{ImputedValueFloats: []float32{9, 8}})
	require.NoError(t, err)
	require.NoError(t, m.Predict(elementRows, 4, 3, out))
	assertFloats(t, []float64{1, -2, 0.5, 9, 9, 9, -3, -1, -2, math.NaN(), 1, 2}, out, "zeros replaced")
	assert.ErrorContains(t, m.PredictInt64([]int64{1}, 1, 1, make([]int64, 1)), "int64 input, but the imputed values are floats")

	mi, err := NewImputer(ImputerAttrs{ImputedValueInt64s: []int64{-1}, ReplacedValueInt64: 5})
	require.NoError(t, err)
	outi := make([]int64, 3)
	require.NoError(t, mi.PredictInt64([]int64{5, 6, 5}, 1, 3, outi))
	assert.Equal(t, []int64{-1, 6, -1}, outi)
	assert.ErrorContains(t, mi.Predict(elementRows, 4, 3, out), "float input, but the imputed values are int64s")

	_, err = NewImputer(ImputerAttrs{})
	assert.ErrorContains(t, err, "exactly one of imputed_value_floats and imputed_value_int64s")
}

func TestBinarize(t *testing.T) {
	out := make([]float32, 4)
	require.NoError(t, Binarize([]float32{0.5, 1, 1.5, -1}, 0, out))
	assert.Equal(t, []float32{1, 1, 1, 0}, out)
	require.NoError(t, Binarize([]float32{0.5, 1, 1.5, -1}, 1, out))
	assert.Equal(t, []float32{0, 0, 1, 0}, out)
	assert.ErrorContains(t, Binarize([]float32{1, nan}, 0, out), "input value 1 is NaN, which a Binarizer cannot compare with its threshold")
	assert.ErrorContains(t, Binarize([]float32{1, 2}, 0, out[:1]), "output has room for 1 values")
}

func TestZipMapColumns(t *testing.T) {
	z, err := NewZipMap([]int64{0, 1, -1}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"0", "1", "-1"}, z.Keys())
	assert.Equal(t, []string{"probabilities_0", "probabilities_1", "probabilities_-1"}, z.ColumnNames("probabilities"))
	assert.NoError(t, z.CheckWidth(3))
	assert.ErrorContains(t, z.CheckWidth(2), "ZipMap: the input has 2 columns for 3 class labels")

	s, err := NewZipMap(nil, []string{"stays", "churns"})
	require.NoError(t, err)
	assert.Equal(t, []string{"Churn_stays", "Churn_churns"}, s.ColumnNames("Churn"))

	_, err = NewZipMap([]int64{1}, []string{"a"})
	assert.ErrorContains(t, err, "ZipMap: both classlabels_int64s and classlabels_strings are set")
}

func TestCastMatchesOnnxRuntime(t *testing.T) {
	negZero := math.Copysign(0, -1)
	for _, tt := range []struct {
		in   float64
		want string
	}{
		{float64(float32(0.1)), "0.1"},
		{float64(float32(1e-5)), "9.9999997e-06"},
		{1e-5, "1e-05"},
		{123456789, "1.2345679e+08"},
		{12345678, "12345678"},
		{1.5, "1.5"},
		{3, "3"},
		{1e20, "1e+20"},
		{float64(float32(65504.1)), "65504.102"},
		{negZero, "-0"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "INF"},
		{math.Inf(-1), "-INF"},
	} {
		assert.Equal(t, tt.want, CastFloatToString(tt.in), "%v", tt.in)
	}
	for in, want := range map[float64]int64{
		2.7: 2, -2.7: -2, 0.5: 0, math.NaN(): math.MinInt64, 1e20: math.MinInt64, -1e20: math.MinInt64,
		float64(float32(9007199254740993)): 9007199254740992,
	} {
		assert.Equal(t, want, CastFloatToInt64(in), "%v", in)
	}
}

func TestPostTransformNames(t *testing.T) {
	for _, name := range []string{"NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT"} {
		p, err := ParsePostTransform(name)
		require.NoError(t, err)
		assert.Equal(t, name, p.String())
	}
	p, err := ParsePostTransform("")
	require.NoError(t, err)
	assert.Equal(t, TransformNone, p)
	assert.Equal(t, "PostTransform(9)", PostTransform(9).String())
}

func TestLogisticStaysFiniteForLargeScores(t *testing.T) {
	assert.Equal(t, float32(1), logistic(1000))
	assert.Equal(t, float32(0), logistic(-1000))
	assert.InDelta(t, 0.5, logistic(0), 0)
}
