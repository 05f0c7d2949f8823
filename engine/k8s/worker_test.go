package k8s

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
)

// stagedRun stages in, cut into tasks of batch rows, as the backend does,
// and returns the stage and the environment a pod of task index would get.
func stagedRun(t *testing.T, in *frame.Frame, batch, index int) (*Stage, map[string]string) {
	t.Helper()
	bucket := fileBucketURL(t)
	s := openStage(t, bucket, "dfb-worker", frame.Parquet)
	tasks := engine.Plan(in.NumRows(), batch)
	ctx := context.Background()
	for _, task := range tasks {
		require.NoError(t, s.WriteInput(ctx, task.Index, task, in.Slice(task.Start, task.End)))
	}
	require.NoError(t, s.WriteJob(ctx, tasks))
	return s, map[string]string{
		EnvExecutionID: "dfb-worker", EnvStage: bucket, EnvFormat: "parquet",
		EnvTasks: strconv.Itoa(len(tasks)), EnvBatchSize: strconv.Itoa(batch),
		EnvIndex: strconv.Itoa(index), EnvIndexFailures: "",
	}
}

func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestWorkerScoresItsIndexAsALocalExecutorWould(t *testing.T) {
	in := stageFrame(t)
	s, env := stagedRun(t, in, 10, 2)
	env[EnvIndexFailures] = "1"
	env[EnvParameters] = "attribute"
	env["attribute"] = "plan"
	env["UNRELATED"] = "x"
	env[EnvCPUs] = "1.5"

	var seen model.Task
	var params map[string]string
	var cpus float64
	loader := model.LoaderFunc(func(_ context.Context, e model.Executor) (model.Model, error) {
		cpus = e.CPUs
		return model.Func(func(ctx context.Context, rows *frame.Frame) (*frame.Frame, error) {
			seen, _ = model.TaskFrom(ctx)
			params = model.Parameters(ctx)
			return rows, nil
		}), nil
	})
	var log bytes.Buffer
	require.NoError(t, Worker{Loader: loader, LookupEnv: lookupIn(env), Log: &log}.Run(context.Background()))

	assert.Equal(t, model.Task{Index: 2, Start: 20, End: 30, Attempt: 2}, seen)
	assert.Equal(t, map[string]string{"attribute": "plan"}, params)
	assert.Equal(t, 1.5, cpus)
	out, err := s.ReadOutput(context.Background(), 2, engine.Task{Index: 2, Start: 20, End: 30})
	require.NoError(t, err)
	requireSameFrame(t, in.Slice(20, 30), out)
	assert.Contains(t, log.String(), "task 2 (rows 20-29)")
}

func TestWorkerFailureNamesTheTaskAndIsLogged(t *testing.T) {
	s, env := stagedRun(t, stageFrame(t), 10, 3)
	broken := model.Func(func(context.Context, *frame.Frame) (*frame.Frame, error) {
		return nil, errors.New("column churn_score is all NaN")
	})
	var log bytes.Buffer
	err := Worker{Loader: broken, LookupEnv: lookupIn(env), Log: &log}.Run(context.Background())
	require.Error(t, err)
	assert.ErrorContains(t, err, "task 3 (rows 30-36)")
	assert.Contains(t, log.String(), "column churn_score is all NaN")
	has, herr := s.HasOutput(context.Background(), 3)
	require.NoError(t, herr)
	assert.False(t, has, "a failed task writes no output")
}

func TestWorkerNamesEveryBadVariable(t *testing.T) {
	_, env := stagedRun(t, stageFrame(t), 10, 0)
	delete(env, EnvStage)
	env[EnvIndex] = "-1"
	env[EnvTaskTimeout] = "soon"
	env[EnvParameters] = "attribute"
	err := Worker{Loader: model.Func(nil), LookupEnv: lookupIn(env), Log: &bytes.Buffer{}}.Run(context.Background())
	for _, want := range []string{EnvStage + " not set", EnvIndex + `="-1": must be >= 0`, EnvTaskTimeout + `="soon"`, "parameter attribute, which is not in the environment"} {
		assert.ErrorContains(t, err, want)
	}
}

func TestWorkerRejectsAnIndexBeyondTheTasks(t *testing.T) {
	_, env := stagedRun(t, stageFrame(t), 10, 4)
	err := Worker{Loader: model.Func(nil), LookupEnv: lookupIn(env), Log: &bytes.Buffer{}}.Run(context.Background())
	assert.ErrorContains(t, err, "JOB_COMPLETION_INDEX = 4, but execution dfb-worker has 4 tasks")
}

func TestWorkerOutsideAPodNamesEveryMissingVariableOnce(t *testing.T) {
	err := Worker{Loader: model.Func(nil), LookupEnv: lookupIn(nil), Log: &bytes.Buffer{}}.Run(context.Background())
	require.Error(t, err)
	assert.Equal(t, 1, strings.Count(err.Error(), "the worker runs in the pods of a Job"))
	assert.ErrorContains(t, err, EnvExecutionID+", "+EnvStage+", "+EnvIndex+", "+EnvBatchSize+" not set")
}
