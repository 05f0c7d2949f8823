package engine_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunTaskShowsTheModelItsTaskParametersAndExecutor(t *testing.T) {
	in := idFrame(t, 100)
	task := engine.Task{Index: 3, Start: 30, End: 40}
	var seen model.Task
	var attribute string
	var exec model.Executor
	loader := model.LoaderFunc(func(_ context.Context, e model.Executor) (model.Model, error) {
		exec = e
		return model.Func(func(ctx context.Context, rows *frame.Frame) (*frame.Frame, error) {
			seen, _ = model.TaskFrom(ctx)
			attribute = model.Getenv(ctx, "attribute")
			return echoID(ctx, rows)
		}), nil
	})
	out, err := engine.NewClient(loader).RunTask(context.Background(), task, 2, in.Slice(30, 40),
		engine.Options{BatchSize: 10, CPUs: 2, Memory: 512, Parameters: map[string]string{"attribute": "plan"}})
	require.NoError(t, err)
	assert.Equal(t, seq(100)[30:40], outputIDs(t, out))
	assert.Equal(t, model.Task{Index: 3, Start: 30, End: 40, Attempt: 2}, seen)
	assert.Equal(t, "plan", attribute)
	assert.Equal(t, 2.0, exec.CPUs)
	assert.Equal(t, 512, exec.MemoryMiB)
}

func TestRunTaskFailureIsATaskErrorNamingTheRowsAndAttempt(t *testing.T) {
	broken := model.Func(func(context.Context, *frame.Frame) (*frame.Frame, error) {
		return nil, errors.New("feature f3 is NaN")
	})
	task := engine.Task{Index: 7, Start: 70, End: 80}
	_, err := engine.NewClient(broken).RunTask(context.Background(), task, 3, idFrame(t, 10), engine.Options{BatchSize: 10})
	var te *engine.TaskError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, task, te.Task)
	assert.Equal(t, 3, te.Attempts)
	assert.ErrorContains(t, err, "task 7 (rows 70-79)")
	assert.ErrorContains(t, err, "feature f3 is NaN")
}

func TestRunTaskEnforcesTaskTimeoutAndMemory(t *testing.T) {
	slow := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	task := engine.Task{Index: 0, Start: 0, End: 10}
	_, err := engine.NewClient(slow).RunTask(context.Background(), task, 1, idFrame(t, 10),
		engine.Options{BatchSize: 10, TaskTimeout: 20 * time.Millisecond})
	assert.ErrorIs(t, err, engine.ErrTaskTimeout)

	big := idFrame(t, 100_000) // 1.6 MB
	task = engine.Task{Index: 0, Start: 0, End: 100_000}
	_, err = engine.NewClient(echoID).RunTask(context.Background(), task, 1, big, engine.Options{BatchSize: 100_000, Memory: 1})
	assert.ErrorContains(t, err, "over the executor memory budget of 1 MiB")
}

func TestRunTaskRejectsRowsThatDoNotMatchTheTask(t *testing.T) {
	_, err := engine.NewClient(echoID).RunTask(context.Background(), engine.Task{Index: 1, Start: 10, End: 20}, 1, idFrame(t, 5), engine.Options{BatchSize: 10})
	assert.ErrorContains(t, err, "task 1 (rows 10-19) has 10 rows but 5 were given")
}

func TestModelLogLinesAreKeptPerTaskAttemptInTheReport(t *testing.T) {
	chatty := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		task, _ := model.TaskFrom(ctx)
		lines := 1
		if task.Index == 1 {
			lines = 1005 // more than an attempt keeps
		}
		for i := range lines {
			model.Log(ctx, fmt.Sprintf("task %d attempt %d line %d", task.Index, task.Attempt, i))
		}
		if task.Index == 2 && task.Attempt == 1 {
			return nil, errors.New("flaky")
		}
		return echoID(ctx, in)
	})
	e, err := engine.NewClient(chatty).Start(context.Background(), idFrame(t, 30), engine.Options{BatchSize: 10, Retries: 1, RetryBackoff: time.Millisecond})
	require.NoError(t, err)
	_, err = e.Wait()
	require.NoError(t, err)
	byKey := map[string]engine.ModelLog{}
	for _, l := range e.Report().ModelLogs {
		byKey[fmt.Sprintf("%d/%d", l.Task.Index, l.Attempt)] = l
	}
	require.Len(t, byKey, 4, "tasks 0 and 1, and both attempts of task 2")
	assert.Equal(t, []string{"task 0 attempt 1 line 0"}, byKey["0/1"].Lines)
	assert.Equal(t, []string{"task 2 attempt 1 line 0"}, byKey["2/1"].Lines)
	assert.Equal(t, []string{"task 2 attempt 2 line 0"}, byKey["2/2"].Lines)
	long := byKey["1/1"]
	assert.Len(t, long.Lines, 1000)
	assert.Equal(t, 5, long.Dropped)
	assert.Equal(t, "task 1 attempt 1 line 1004", long.Lines[999])
}
