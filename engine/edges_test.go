package engine_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
)

func TestStartDataFrameWaitDataFrameAndRerunDataFrameAreTheGotaEdge(t *testing.T) {
	df := dataframe.New(
		series.New([]int{0, 1, 2, 3, 4, 5, 6, 7}, series.Int, "id"),
		series.New([]float64{0, 1, 2, 3, 4, 5, 6, 7}, series.Float, "x"),
	)
	failSecond := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		if task, _ := model.TaskFrom(ctx); task.Index == 1 {
			return nil, errors.New("broken batch")
		}
		return echoID(ctx, in)
	})
	e, err := engine.NewClient(failSecond).StartDataFrame(context.Background(), df, engine.Options{BatchSize: 3, MaxFailedTasks: 1})
	require.NoError(t, err)
	out, err := e.WaitDataFrame()
	require.ErrorIs(t, err, engine.ErrPartial)
	require.NoError(t, out.Err)
	ids, err := out.Col("id").Int()
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 2, 6, 7}, ids, "the rows of the tasks that finished, in order")

	rerun, err := e.Report().RerunDataFrame(df)
	require.NoError(t, err)
	again, err := engine.NewClient(echoID).Run(context.Background(), rerun, engine.Options{BatchSize: 3})
	require.NoError(t, err)
	ids, err = again.Col("id").Int()
	require.NoError(t, err)
	assert.Equal(t, []int{3, 4, 5}, ids)
}

func TestStartDataFrameRejectsBadDataFramesBeforeAnyTask(t *testing.T) {
	client := engine.NewClient(echoID)
	_, err := client.StartDataFrame(context.Background(), dataframe.DataFrame{}, engine.Options{BatchSize: 1})
	assert.ErrorContains(t, err, "has no columns")
	_, err = client.StartDataFrame(context.Background(), dataframe.New(), engine.Options{BatchSize: 1})
	assert.ErrorContains(t, err, "carries an error")
}

func TestWaitDataFrameOfARunWithoutOutputCarriesTheError(t *testing.T) {
	broken := model.Func(func(context.Context, *frame.Frame) (*frame.Frame, error) { return nil, errors.New("no") })
	e, err := engine.NewClient(broken).Start(context.Background(), idFrame(t, 4), engine.Options{BatchSize: 2})
	require.NoError(t, err)
	out, err := e.WaitDataFrame()
	require.Error(t, err)
	assert.Equal(t, err, out.Err)
	assert.Zero(t, out.Nrow())
}

func TestStreamOfAFrameReaderScoresTheFrameInOrder(t *testing.T) {
	r, err := frame.NewFrameReader(idFrame(t, 1000), frame.WithBatchRows(64))
	require.NoError(t, err)
	var ids []int64
	e, err := engine.NewClient(echoID).Stream(context.Background(), r, engine.Options{BatchSize: 100, Executors: 3}, func(b engine.Batch) error {
		ids = append(ids, outputIDs(t, b.Frame)...)
		return nil
	})
	require.NoError(t, err)
	_, err = e.Wait()
	require.NoError(t, err)
	assert.Equal(t, seq(1000), ids)
	assert.Equal(t, 10, e.Report().Tasks, "tasks follow BatchSize, not the reader's batches")
}

// gate is a model whose calls wait until the gate opens.
type gate struct{ open chan struct{} }

func (g gate) predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	select {
	case <-g.open:
		return echoID(ctx, in)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestEventsFollowALiveRunAndEndWithIt(t *testing.T) {
	g := gate{open: make(chan struct{})}
	e, err := engine.NewClient(model.Func(g.predict)).Start(context.Background(), idFrame(t, 40), engine.Options{BatchSize: 10, Executors: 2})
	require.NoError(t, err)

	var wg sync.WaitGroup
	counts := make([]map[engine.EventKind]int, 3)
	for i := range counts {
		counts[i] = map[engine.EventKind]int{}
		wg.Go(func() {
			for ev := range e.Events() {
				counts[i][ev.Kind]++
			}
		})
	}
	// The loops wait on the live run: nothing has finished yet.
	require.Eventually(t, func() bool { return e.Status().Running == 2 }, 5*time.Second, time.Millisecond)
	close(g.open)
	wg.Wait() // every loop ends once the run has ended
	for _, c := range counts {
		assert.Equal(t, map[engine.EventKind]int{engine.TaskStarted: 4, engine.TaskFinished: 4}, c)
	}
	_, err = e.Wait()
	require.NoError(t, err)
}

func TestBreakingOutOfEventsNeitherBlocksTheRunNorLeaks(t *testing.T) {
	defer goleak.VerifyNone(t)
	e, err := engine.NewClient(echoID).Start(context.Background(), idFrame(t, 500), engine.Options{BatchSize: 1, Executors: 2})
	require.NoError(t, err)
	for ev := range e.Events() {
		assert.Equal(t, engine.TaskStarted, ev.Kind)
		break
	}
	out, err := e.Wait() // the run does not wait for a reader of its events
	require.NoError(t, err)
	assert.Equal(t, 500, out.NumRows())
	n := 0
	for range e.Events() {
		n++
	}
	assert.Equal(t, 1000, n, "a loop started after the run replays its events")
}
