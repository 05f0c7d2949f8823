package engine_test

import (
	"context"
	"testing"

	"github.com/dfbatch/dfbatch/frame"
	_ "github.com/dfbatch/dfbatch/frame/parquet" // file runs are tested with Parquet outputs
	"github.com/dfbatch/dfbatch/model"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// idFrame makes a frame of n rows with an int64 "id" column 0..n-1 and a
// float64 "x" column id/2.
func idFrame(t testing.TB, n int) *frame.Frame {
	t.Helper()
	ids := make([]int64, n)
	xs := make([]float64, n)
	for i := range ids {
		ids[i] = int64(i)
		xs[i] = float64(i) / 2
	}
	f, err := frame.New(frame.Int64s("id", ids), frame.Float64s("x", xs))
	require.NoError(t, err)
	return f
}

// echoID is a model that returns the input's id column as "id" and x*2 as
// "score".
var echoID = model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	ids, err := in.Int64Col("id")
	if err != nil {
		return nil, err
	}
	xs, err := in.Float64Col("x")
	if err != nil {
		return nil, err
	}
	score := make([]float64, xs.Len())
	for i, v := range xs.Float64Values() {
		score[i] = 2 * v
	}
	return frame.New(frame.Column{Name: "id", Values: ids}, frame.Float64s("score", score))
})

// outputIDs returns the "id" column of out.
func outputIDs(t testing.TB, out *frame.Frame) []int64 {
	t.Helper()
	ids, err := out.Int64Col("id")
	require.NoError(t, err)
	return ids.Int64Values()
}

func seq(n int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = int64(i)
	}
	return s
}
