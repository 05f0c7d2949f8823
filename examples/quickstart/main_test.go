package main

import (
	"context"
	"testing"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstartIsTheReferenceExample(t *testing.T) {
	s, err := run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 20, s.report.Tasks, "1000 rows in batches of 50")
	assert.LessOrEqual(t, s.mostRunning, 5, "5 executors")
	assert.Equal(t, 1000, s.out.Nrow())
	assert.Equal(t, []string{"Churn_Probability"}, s.out.Names(), "the attribute's column is dropped, the rest scored")
	assert.True(t, s.inOrder, "output rows in input order")
}

func TestPredictDropsTheColumnItsParameterNames(t *testing.T) {
	in, err := frame.New(frame.Int64s("customer_a", []int64{9, 0}), frame.Int64s("customer_b", []int64{0, 9}))
	require.NoError(t, err)

	ctx := model.WithParameters(context.Background(), map[string]string{"attribute": "customer_b"})
	out, err := predict(ctx, in)
	require.NoError(t, err)
	p, err := out.Float64Col("Churn_Probability")
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 0}, p.Float64Values(), "scored on customer_a alone")

	ctx = model.WithParameters(context.Background(), map[string]string{"attribute": "customer_c"})
	_, err = predict(ctx, in)
	assert.ErrorContains(t, err, `the parameter attribute: column "customer_c": no such column`)
}
