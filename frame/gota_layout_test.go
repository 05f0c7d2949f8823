package frame

import (
	"math"
	"testing"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGotaNumbersMatchThePinnedGotaLayout(t *testing.T) {
	assert.True(t, gotaNumbers, "gota's numeric element layout changed: FromDataFrame fell back to its slow path")
}

func TestFromDataFrameReadsNumbersTheSameOnBothPaths(t *testing.T) {
	ints := series.New([]int{1, -2, 3, 0, math.MaxInt}, series.Int, "i")
	ints.Elem(3).Set(nil) // NA
	df := dataframe.New(
		series.New([]float64{1.5, math.NaN(), -0, math.Inf(1), 7}, series.Float, "f"),
		ints,
	)
	require.NoError(t, df.Err)

	fast, err := FromDataFrame(df)
	require.NoError(t, err)
	gotaNumbers = false
	t.Cleanup(func() { gotaNumbers = true })
	slow, err := FromDataFrame(df)
	require.NoError(t, err)

	for _, f := range []*Frame{fast, slow} {
		fc, err := f.Float64Col("f")
		require.NoError(t, err)
		assert.Equal(t, []bool{true, false, true, true, true}, validMaskOf(fc.Len(), fc.IsValid))
		assert.Equal(t, 1.5, fc.Value(0))
		assert.True(t, math.IsInf(fc.Value(3), 1))
		ic, err := f.Int64Col("i")
		require.NoError(t, err)
		assert.Equal(t, []bool{true, true, true, false, true}, validMaskOf(ic.Len(), ic.IsValid))
		assert.Equal(t, []int64{1, -2, 3}, ic.Int64Values()[:3])
		assert.Equal(t, int64(math.MaxInt), ic.Value(4))
	}

	empty, err := FromDataFrame(dataframe.New(series.New([]float64{}, series.Float, "f"), series.New([]int{}, series.Int, "i")))
	require.NoError(t, err)
	assert.Equal(t, 0, empty.NumRows())
}

func validMaskOf(n int, valid func(int) bool) []bool {
	m := make([]bool, n)
	for i := range m {
		m[i] = valid(i)
	}
	return m
}
