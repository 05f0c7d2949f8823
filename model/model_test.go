package model_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGetenvPrefersTheTaskParameterOverTheProcessEnvironment(t *testing.T) {
	t.Setenv("DFBATCH_MODEL_TEST", "process")
	ctx := context.Background()
	assert.Equal(t, "process", model.Getenv(ctx, "DFBATCH_MODEL_TEST"))

	ctx = model.WithParameters(ctx, map[string]string{"DFBATCH_MODEL_TEST": "task", "attribute": "customer_a"})
	assert.Equal(t, "task", model.Getenv(ctx, "DFBATCH_MODEL_TEST"))
	assert.Equal(t, "customer_a", model.Getenv(ctx, "attribute"))

	_, ok := model.LookupEnv(ctx, "DFBATCH_MODEL_TEST_UNSET")
	assert.False(t, ok)
	v, ok := model.LookupEnv(model.WithParameters(ctx, map[string]string{"empty": ""}), "empty")
	assert.True(t, ok, "a parameter set to the empty string is set")
	assert.Empty(t, v)
}

func TestWithParametersCopiesTheMap(t *testing.T) {
	params := map[string]string{"attribute": "a"}
	ctx := model.WithParameters(context.Background(), params)
	params["attribute"] = "changed"
	assert.Equal(t, "a", model.Getenv(ctx, "attribute"))
	got := model.Parameters(ctx)
	got["attribute"] = "changed again"
	assert.Equal(t, "a", model.Getenv(ctx, "attribute"))
}

func TestEnvironSetsParametersOverTheProcessEnvironment(t *testing.T) {
	t.Setenv("DFBATCH_MODEL_TEST", "process")
	ctx := model.WithParameters(context.Background(), map[string]string{"DFBATCH_MODEL_TEST": "task", "attribute": "b"})
	env := model.Environ(ctx)
	assert.Contains(t, env, "DFBATCH_MODEL_TEST=task")
	assert.Contains(t, env, "attribute=b")
	assert.NotContains(t, env, "DFBATCH_MODEL_TEST=process")
	assert.Equal(t, 1, len(slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return kv != "DFBATCH_MODEL_TEST=task" })))
}

func TestTaskFromReturnsTheTaskSetByWithTask(t *testing.T) {
	_, ok := model.TaskFrom(context.Background())
	assert.False(t, ok)
	want := model.Task{Index: 3, Start: 150, End: 200, Attempt: 2, Executor: 1}
	got, ok := model.TaskFrom(model.WithTask(context.Background(), want))
	assert.True(t, ok)
	assert.Equal(t, want, got)
}

func TestDataFrameFuncConvertsEachWay(t *testing.T) {
	double := model.DataFrameFunc(func(ctx context.Context, df dataframe.DataFrame) (dataframe.DataFrame, error) {
		xs := df.Col("x").Float()
		for i := range xs {
			xs[i] *= 2
		}
		return dataframe.New(series.New(xs, series.Float, "double")), nil
	})
	in, err := frame.New(frame.Float64s("x", []float64{1, 2, 3}))
	require.NoError(t, err)
	m, err := double.Load(context.Background(), model.Executor{})
	require.NoError(t, err)
	out, err := m.Predict(context.Background(), in)
	require.NoError(t, err)
	col, err := out.Float64Col("double")
	require.NoError(t, err)
	assert.Equal(t, []float64{2, 4, 6}, col.Float64Values())
}

func TestDataFrameFuncReportsAnErroredResult(t *testing.T) {
	broken := model.DataFrameFunc(func(ctx context.Context, df dataframe.DataFrame) (dataframe.DataFrame, error) {
		return dataframe.DataFrame{Err: errors.New("column mismatch")}, nil
	})
	in, err := frame.New(frame.Float64s("x", []float64{1}))
	require.NoError(t, err)
	_, err = broken.Predict(context.Background(), in)
	assert.ErrorContains(t, err, "column mismatch")
}

func TestFuncIsItsOwnLoader(t *testing.T) {
	calls := 0
	f := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		calls++
		return in, nil
	})
	m, err := f.Load(context.Background(), model.Executor{Index: 3})
	require.NoError(t, err)
	in, err := frame.New(frame.Float64s("x", []float64{1}))
	require.NoError(t, err)
	_, err = m.Predict(context.Background(), in)
	require.NoError(t, err)
	assert.Equal(t, 1, calls)
}

func TestWithOutputSchemaDeclaresTheColumns(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "score", Type: arrow.PrimitiveTypes.Float64}}, nil)
	l := model.WithOutputSchema(model.LoaderFunc(func(ctx context.Context, e model.Executor) (model.Model, error) {
		return nil, errors.New("not loaded in this test")
	}), schema)
	s, ok := l.(model.OutputSchemer)
	require.True(t, ok)
	got, err := s.OutputSchema(nil)
	require.NoError(t, err)
	assert.True(t, got.Equal(schema))
	_, err = l.Load(context.Background(), model.Executor{})
	assert.ErrorContains(t, err, "not loaded in this test", "the wrapped loader still loads")
}

func TestExecutorThreadsRoundsTheCPUBudgetUp(t *testing.T) {
	for cpus, want := range map[float64]int{0: 1, 0.5: 1, 1: 1, 1.5: 2, 4: 4} {
		assert.Equal(t, want, model.Executor{CPUs: cpus}.Threads(), "cpus %v", cpus)
	}
}

func TestWithInputColumnsCarriesInputColumnsBeforeThePredictions(t *testing.T) {
	score := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		return frame.New(frame.Float64s("score", make([]float64, in.NumRows())))
	})
	in, err := frame.New(frame.Strings("customer_id", []string{"a", "b"}), frame.Float64s("x", []float64{1, 2}))
	require.NoError(t, err)
	m, err := model.WithInputColumns(score, "customer_id").Load(context.Background(), model.Executor{})
	require.NoError(t, err)
	out, err := m.Predict(context.Background(), in)
	require.NoError(t, err)
	assert.Equal(t, []string{"customer_id", "score"}, out.ColumnNames())
	ids, err := out.StringCol("customer_id")
	require.NoError(t, err)
	assert.Equal(t, "b", ids.Value(1))

	m, err = model.WithInputColumns(score, "nope").Load(context.Background(), model.Executor{})
	require.NoError(t, err)
	_, err = m.Predict(context.Background(), in)
	assert.ErrorContains(t, err, `column "nope"`)

	m, err = model.WithInputColumns(score, "score").Load(context.Background(), model.Executor{})
	require.NoError(t, err)
	clash, err := frame.New(frame.Float64s("score", []float64{1, 2}))
	require.NoError(t, err)
	_, err = m.Predict(context.Background(), clash)
	assert.ErrorContains(t, err, `column "score": is both a kept input column and a model output`)
}

func TestWithInputColumnsKeepsADeclaredOutputSchema(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "score", Type: arrow.PrimitiveTypes.Float64}}, nil)
	l := model.WithInputColumns(model.WithOutputSchema(model.Func(nil), schema), "id")
	s, ok := l.(model.OutputSchemer)
	require.True(t, ok)
	input := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "x", Type: arrow.PrimitiveTypes.Float64}}, nil)
	got, err := s.OutputSchema(input)
	require.NoError(t, err)
	assert.Equal(t, "id", got.Field(0).Name)
	assert.Equal(t, "score", got.Field(1).Name)
	_, ok = model.WithInputColumns(model.Func(nil), "id").(model.OutputSchemer)
	assert.False(t, ok, "a loader without a schema gains none")
}

// calls counts what a wrapper forwards to the model it wraps; err is what
// each forwarded call returns.
type calls struct {
	closes, prepares int
	err              error
}

type closingModel struct {
	model.Func
	calls *calls
}

func (m closingModel) Close() error { m.calls.closes++; return m.calls.err }

type preparingModel struct {
	model.Func
	calls *calls
}

func (m preparingModel) Prepare(context.Context) error { m.calls.prepares++; return m.calls.err }

type closingPreparingModel struct{ closingModel }

func (m closingPreparingModel) Prepare(context.Context) error {
	m.calls.prepares++
	return m.calls.err
}

func TestWithInputColumnsForwardsCloseAndPrepareToTheModel(t *testing.T) {
	broken := errors.New("broken")
	for _, tc := range []struct {
		name                     string
		inner                    func(*calls) model.Model
		err                      error
		wantCloses, wantPrepares int
	}{
		{name: "closer and preparer", inner: func(c *calls) model.Model { return closingPreparingModel{closingModel{calls: c}} }, wantCloses: 1, wantPrepares: 1},
		{name: "closer only", inner: func(c *calls) model.Model { return closingModel{calls: c} }, wantCloses: 1},
		{name: "preparer only", inner: func(c *calls) model.Model { return preparingModel{calls: c} }, wantPrepares: 1},
		{name: "neither: both are no-ops", inner: func(*calls) model.Model { return model.Func(nil) }},
		{name: "errors come back", inner: func(c *calls) model.Model { return closingPreparingModel{closingModel{calls: c}} }, err: broken, wantCloses: 1, wantPrepares: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &calls{err: tc.err}
			l := model.LoaderFunc(func(context.Context, model.Executor) (model.Model, error) { return tc.inner(c), nil })
			m, err := model.WithInputColumns(l, "id").Load(context.Background(), model.Executor{})
			require.NoError(t, err)

			preparer, ok := m.(model.Preparer)
			require.True(t, ok, "the wrapper is a Preparer")
			assert.ErrorIs(t, preparer.Prepare(context.Background()), tc.err)
			closer, ok := m.(io.Closer)
			require.True(t, ok, "the wrapper is an io.Closer")
			assert.ErrorIs(t, closer.Close(), tc.err)

			assert.Equal(t, tc.wantPrepares, c.prepares, "Prepare calls that reached the model")
			assert.Equal(t, tc.wantCloses, c.closes, "Close calls that reached the model")
		})
	}
}
