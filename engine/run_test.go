package engine_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/gpu"
	"github.com/dfbatch/dfbatch/model"
	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunReturnsRowsInInputOrder(t *testing.T) {
	jitter := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
		return echoID(ctx, in)
	})
	in := idFrame(t, 1003)
	out, err := engine.NewClient(jitter).RunFrame(context.Background(), in, engine.Options{BatchSize: 10, Executors: 8})
	require.NoError(t, err)
	assert.Equal(t, seq(1003), outputIDs(t, out))
	assert.Equal(t, []string{"id", "score"}, out.ColumnNames())
}

func TestRunOnGotaDataFrameKeepsColumnsAndOrder(t *testing.T) {
	df := dataframe.New(
		series.New([]int{5, 6, 7, 8, 9}, series.Int, "id"),
		series.New([]float64{1, 2, 3, 4, 5}, series.Float, "x"),
	)
	out, err := engine.NewClient(echoID).Run(context.Background(), df, engine.Options{BatchSize: 2, Executors: 2})
	require.NoError(t, err)
	require.NoError(t, out.Err)
	assert.Equal(t, []string{"id", "score"}, out.Names())
	ids, err := out.Col("id").Int()
	require.NoError(t, err)
	assert.Equal(t, []int{5, 6, 7, 8, 9}, ids)
	assert.Equal(t, []float64{2, 4, 6, 8, 10}, out.Col("score").Float())
}

func TestRunNeverHasMoreTasksInFlightThanExecutors(t *testing.T) {
	const executors = 5
	var inFlight, most atomic.Int64
	m := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			old := most.Load()
			if n <= old || most.CompareAndSwap(old, n) {
				break
			}
		}
		// Hold the task until all executors are busy (or a while passed),
		// so the bound is reached, not just respected.
		deadline := time.Now().Add(2 * time.Second)
		for inFlight.Load() < executors && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		return echoID(ctx, in)
	})
	_, err := engine.NewClient(m).RunFrame(context.Background(), idFrame(t, 1000), engine.Options{BatchSize: 50, Executors: executors})
	require.NoError(t, err)
	assert.Equal(t, int64(executors), most.Load())
}

// countingLoader counts model loads and the executors they were for.
type countingLoader struct {
	mu        sync.Mutex
	loads     int
	executors []model.Executor
	closed    atomic.Int64
}

type closingModel struct {
	model.Func
	l *countingLoader
}

func (c closingModel) Close() error { c.l.closed.Add(1); return nil }

func (l *countingLoader) Load(_ context.Context, exec model.Executor) (model.Model, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.loads++
	l.executors = append(l.executors, exec)
	return closingModel{Func: echoID, l: l}, nil
}

func TestRunLoadsOneModelPerExecutorAndClosesIt(t *testing.T) {
	l := &countingLoader{}
	_, err := engine.NewClient(l).RunFrame(context.Background(), idFrame(t, 1000), engine.Options{BatchSize: 50, Executors: 5, CPUs: 2, Memory: 512, BuildID: "b7"})
	require.NoError(t, err)
	assert.Equal(t, 5, l.loads, "20 tasks on 5 executors load 5 models, not 20")
	assert.Equal(t, int64(5), l.closed.Load())
	seen := map[int]bool{}
	for _, e := range l.executors {
		seen[e.Index] = true
		assert.Equal(t, 2.0, e.CPUs)
		assert.Equal(t, 2, e.Threads())
		assert.Equal(t, 512, e.MemoryMiB)
		assert.Equal(t, "b7", e.BuildID)
		assert.NotNil(t, e.Logger)
	}
	assert.Len(t, seen, 5)
}

func TestRunUsesNoMoreExecutorsThanTasks(t *testing.T) {
	l := &countingLoader{}
	_, err := engine.NewClient(l).RunFrame(context.Background(), idFrame(t, 30), engine.Options{BatchSize: 10, Executors: 8})
	require.NoError(t, err)
	assert.Equal(t, 3, l.loads)
}

func TestParametersAreIsolatedBetweenConcurrentRuns(t *testing.T) {
	m := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		time.Sleep(time.Millisecond) // let the runs interleave
		v := model.Getenv(ctx, "attribute")
		vals := make([]string, in.NumRows())
		for i := range vals {
			vals[i] = v
		}
		return frame.New(frame.Strings("attribute", vals))
	})
	client := engine.NewClient(m)
	var wg sync.WaitGroup
	results := make([]*frame.Frame, 2)
	errs := make([]error, 2)
	for i, customer := range []string{"customer_a", "customer_b"} {
		wg.Go(func() {
			results[i], errs[i] = client.RunFrame(context.Background(), idFrame(t, 500), engine.Options{
				BatchSize: 10, Executors: 4, Parameters: map[string]string{"attribute": customer},
			})
		})
	}
	wg.Wait()
	for i, customer := range []string{"customer_a", "customer_b"} {
		require.NoError(t, errs[i])
		col, err := results[i].StringCol("attribute")
		require.NoError(t, err)
		for r := 0; r < col.Len(); r++ {
			require.Equal(t, customer, col.Value(r), "run %d row %d", i, r)
		}
	}
}

func TestGetenvFallsBackToTheProcessEnvironment(t *testing.T) {
	t.Setenv("DFBATCH_TEST_ONLY_IN_ENV", "from-env")
	var got, overridden atomic.Value
	m := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		got.Store(model.Getenv(ctx, "DFBATCH_TEST_ONLY_IN_ENV"))
		overridden.Store(model.Getenv(ctx, "HOME"))
		return echoID(ctx, in)
	})
	_, err := engine.NewClient(m).RunFrame(context.Background(), idFrame(t, 5), engine.Options{BatchSize: 5, Parameters: map[string]string{"HOME": "param"}})
	require.NoError(t, err)
	assert.Equal(t, "from-env", got.Load())
	assert.Equal(t, "param", overridden.Load())
}

func TestModelSeesItsTaskInTheContext(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]model.Task{}
	m := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		task, ok := model.TaskFrom(ctx)
		if !ok {
			return nil, errors.New("no task in context")
		}
		mu.Lock()
		seen[task.Index] = task
		mu.Unlock()
		return echoID(ctx, in)
	})
	_, err := engine.NewClient(m).RunFrame(context.Background(), idFrame(t, 25), engine.Options{BatchSize: 10, Executors: 2})
	require.NoError(t, err)
	require.Len(t, seen, 3)
	assert.Equal(t, 20, seen[2].Start)
	assert.Equal(t, 25, seen[2].End)
	assert.Equal(t, 1, seen[2].Attempt)
}

// flaky fails the first `failures` attempts of the tasks whose index is in
// tasks, then succeeds.
func flaky(failures int, tasks ...int) model.Func {
	var mu sync.Mutex
	attempts := map[int]int{}
	return func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		task, _ := model.TaskFrom(ctx)
		mu.Lock()
		attempts[task.Index]++
		n := attempts[task.Index]
		mu.Unlock()
		for _, i := range tasks {
			if i == task.Index && n <= failures {
				return nil, fmt.Errorf("transient failure %d", n)
			}
		}
		return echoID(ctx, in)
	}
}

func TestRetriesRecoverATransientFailure(t *testing.T) {
	e, err := engine.NewClient(flaky(2, 3)).Start(context.Background(), idFrame(t, 100), engine.Options{BatchSize: 10, Executors: 3, Retries: 2, RetryBackoff: time.Millisecond})
	require.NoError(t, err)
	out, err := e.Wait()
	require.NoError(t, err)
	assert.Equal(t, seq(100), outputIDs(t, out))
	kinds := map[engine.EventKind]int{}
	for ev := range e.Events() {
		kinds[ev.Kind]++
		if ev.Kind == engine.TaskRetried {
			assert.Equal(t, 3, ev.Task.Index)
			assert.Error(t, ev.Err)
		}
	}
	assert.Equal(t, 2, kinds[engine.TaskRetried])
	assert.Equal(t, 10, kinds[engine.TaskFinished])
	assert.Equal(t, 12, kinds[engine.TaskStarted])
	assert.Zero(t, kinds[engine.TaskFailed])
	st := e.Status()
	assert.Equal(t, engine.Succeeded, st.State)
	assert.Equal(t, 10, st.Finished)
	assert.Equal(t, 100, st.Rows)
	assert.Zero(t, st.Running)
}

func TestFailurePastRetriesNamesTaskRowsAndAttempts(t *testing.T) {
	e, err := engine.NewClient(flaky(10, 4)).Start(context.Background(), idFrame(t, 100), engine.Options{BatchSize: 10, Executors: 1, Retries: 1, RetryBackoff: time.Millisecond})
	require.NoError(t, err)
	out, err := e.Wait()
	require.Error(t, err)
	var te *engine.TaskError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, engine.Task{Index: 4, Start: 40, End: 50}, te.Task)
	assert.Equal(t, 2, te.Attempts)
	assert.Contains(t, err.Error(), "task 4 (rows 40-49)")
	assert.Contains(t, err.Error(), "transient failure 2")

	r := e.Report()
	assert.Equal(t, engine.Failed, r.State)
	require.Len(t, r.Failed, 1)
	// Every row is in the output or in a task to re-run, never both.
	rerun, err := r.RerunFrame(idFrame(t, 100))
	require.NoError(t, err)
	got := append(outputIDs(t, out), outputIDs(t, rerun)...)
	assert.ElementsMatch(t, seq(100), got)
	assert.Equal(t, r.RowsOut, out.NumRows())
}

func TestMaxFailedTasksToleratesFailuresAndReportsTheirRows(t *testing.T) {
	e, err := engine.NewClient(flaky(10, 2, 7)).Start(context.Background(), idFrame(t, 100), engine.Options{BatchSize: 10, Executors: 3, MaxFailedTasks: 2})
	require.NoError(t, err)
	out, err := e.Wait()
	// Never a nil error with rows missing: the scored rows come back with
	// an error that says which are not there.
	require.ErrorIs(t, err, engine.ErrPartial)
	assert.Equal(t, 80, out.NumRows())
	var inc *engine.IncompleteError
	require.ErrorAs(t, err, &inc)
	r := e.Report()
	assert.Equal(t, engine.Partial, r.State)
	assert.Equal(t, []engine.Task{{2, 20, 30, ""}, {7, 70, 80, ""}}, r.Rerun())
	assert.Equal(t, r.Rerun(), inc.Report.Rerun())
	assert.Empty(t, r.Incomplete)
}

func TestErrorThresholdStopsTheRunOnceExceeded(t *testing.T) {
	_, err := engine.NewClient(flaky(10, 1, 2, 3)).RunFrame(context.Background(), idFrame(t, 100), engine.Options{BatchSize: 10, Executors: 1, MaxFailedTasks: 2})
	var re *engine.RunError
	require.ErrorAs(t, err, &re)
	assert.Len(t, re.Failed, 3)
	assert.Contains(t, err.Error(), "3 of 10 tasks failed (at most 2 tolerated)")
}

func TestModelPanicBecomesTheTaskError(t *testing.T) {
	m := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		if task, _ := model.TaskFrom(ctx); task.Index == 1 {
			var nilMap map[string]int
			//lint:ignore SA5000 the panic is what this test needs
			nilMap["boom"]++
		}
		return echoID(ctx, in)
	})
	_, err := engine.NewClient(m).RunFrame(context.Background(), idFrame(t, 30), engine.Options{BatchSize: 10})
	var pe *engine.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, err.Error(), "task 1 (rows 10-19)")
	assert.Contains(t, err.Error(), "model panicked")
	assert.Contains(t, string(pe.Stack), "run_test.go")
}

func TestModelReturningWrongRowCountFailsItsTask(t *testing.T) {
	m := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		return echoID(ctx, in.Slice(0, in.NumRows()-1))
	})
	_, err := engine.NewClient(m).RunFrame(context.Background(), idFrame(t, 30), engine.Options{BatchSize: 10})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the model returned 9 rows for 10 input rows")
}

func TestBatchesWithDisagreeingOutputSchemasFailNamingTheColumn(t *testing.T) {
	m := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		task, _ := model.TaskFrom(ctx)
		if task.Index == 2 {
			ids := make([]string, in.NumRows())
			return frame.New(frame.Strings("id", ids), frame.Float64s("score", make([]float64, in.NumRows())))
		}
		return echoID(ctx, in)
	})
	_, err := engine.NewClient(m).RunFrame(context.Background(), idFrame(t, 40), engine.Options{BatchSize: 10, Retries: 3, RetryBackoff: time.Millisecond})
	var te *engine.TaskError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 2, te.Task.Index)
	assert.Equal(t, 1, te.Attempts, "a schema mismatch is not retried")
	assert.Contains(t, err.Error(), `column "id"`)
	assert.Contains(t, err.Error(), "differ from those of task")
}

func TestMissingFeatureColumnErrorNamesColumnAndAbsoluteRow(t *testing.T) {
	ids := []int64{0, 1, 2, 3, 4, 5}
	b := frame.Float64s("x", []float64{0, 1, 2, 3, 4, 5})
	withNull, err := frame.New(frame.Int64s("id", ids), b)
	require.NoError(t, err)
	// Replace x with a column whose row 4 is missing.
	df := withNull.ToDataFrame()
	xs := df.Col("x").Float()
	xs[4] = math.NaN()
	df = df.Mutate(series.New(xs, series.Float, "x"))
	in, err := frame.FromDataFrame(df)
	require.NoError(t, err)

	features := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		m, err := in.Float64Matrix(nil, "id", "x")
		if err != nil {
			return nil, err
		}
		return frame.New(frame.Float64s("sum", m[:in.NumRows()]))
	})
	_, err = engine.NewClient(features).RunFrame(context.Background(), in, engine.Options{BatchSize: 3})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `column "x", row 4`)
	assert.Contains(t, err.Error(), "task 1 (rows 3-5)")

	missing := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		_, err := in.Float64Matrix(nil, "id", "income")
		return nil, err
	})
	_, err = engine.NewClient(missing).RunFrame(context.Background(), in, engine.Options{BatchSize: 3})
	assert.ErrorContains(t, err, `column "income"`)
}

func TestTaskTimeoutFailsTheAttempt(t *testing.T) {
	slow := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		if task, _ := model.TaskFrom(ctx); task.Index == 1 {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return echoID(ctx, in)
	})
	_, err := engine.NewClient(slow).RunFrame(context.Background(), idFrame(t, 30), engine.Options{BatchSize: 10, TaskTimeout: 20 * time.Millisecond, Retries: 1, RetryBackoff: time.Millisecond})
	require.ErrorIs(t, err, engine.ErrTaskTimeout)
	var te *engine.TaskError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 1, te.Task.Index)
	assert.Equal(t, 2, te.Attempts)
}

func TestTaskTimeoutAppliesToAModelThatIgnoresItsContext(t *testing.T) {
	stubborn := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		time.Sleep(30 * time.Millisecond)
		return echoID(ctx, in)
	})
	_, err := engine.NewClient(stubborn).RunFrame(context.Background(), idFrame(t, 10), engine.Options{BatchSize: 10, TaskTimeout: 5 * time.Millisecond})
	assert.ErrorIs(t, err, engine.ErrTaskTimeout)
}

func blockUntilCancelled(started chan<- struct{}) model.Func {
	var once sync.Once
	return func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		if task, _ := model.TaskFrom(ctx); task.Index >= 2 {
			once.Do(func() { close(started) })
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return echoID(ctx, in)
	}
}

func TestJobTimeoutStopsTheRun(t *testing.T) {
	started := make(chan struct{})
	e, err := engine.NewClient(blockUntilCancelled(started)).Start(context.Background(), idFrame(t, 100), engine.Options{BatchSize: 10, Executors: 2, JobTimeout: 300 * time.Millisecond})
	require.NoError(t, err)
	out, err := e.Wait()
	require.ErrorIs(t, err, engine.ErrJobTimeout)
	assert.Contains(t, err.Error(), "job timeout exceeded (Options.JobTimeout = 300ms) after 2 of 10 tasks finished")
	r := e.Report()
	assert.Equal(t, engine.TimedOut, r.State)
	assert.Empty(t, r.Failed, "interrupted tasks are incomplete, not failed")
	assert.Equal(t, 2, r.Finished)
	assert.Equal(t, seq(20), outputIDs(t, out))
	assert.Len(t, r.Rerun(), 8)
	assert.Equal(t, 20, r.Rerun()[0].Start)
}

func TestCancelStopsTheRunAndLeavesNothingRunning(t *testing.T) {
	started := make(chan struct{})
	e, err := engine.NewClient(blockUntilCancelled(started)).Start(context.Background(), idFrame(t, 100), engine.Options{BatchSize: 10, Executors: 3})
	require.NoError(t, err)
	<-started
	e.Cancel()
	out, err := e.Wait()
	require.ErrorIs(t, err, engine.ErrCancelled)
	if out != nil {
		assert.Equal(t, e.Report().RowsOut, out.NumRows())
	}
	assert.Equal(t, engine.Cancelled, e.Status().State)
	assert.Zero(t, e.Status().Running)
	r := e.Report()
	rerun := r.Rerun()
	assert.GreaterOrEqual(t, len(rerun), 8, "tasks 2-9 never finished")
	assert.Equal(t, 9, rerun[len(rerun)-1].Index)
	assert.Equal(t, 100, r.RowsOut+rowsOf(rerun), "every row is in the output or to re-run")
	// goleak in TestMain checks that no goroutine of the run outlives it.
}

func TestCancellingTheContextCancelsTheRun(t *testing.T) {
	started := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	e, err := engine.NewClient(blockUntilCancelled(started)).Start(ctx, idFrame(t, 100), engine.Options{BatchSize: 10, Executors: 3})
	require.NoError(t, err)
	<-started
	cancel()
	_, err = e.Wait()
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, engine.Cancelled, e.Status().State)
}

func TestUnorderedDeliversInCompletionOrder(t *testing.T) {
	// Task 0 finishes last, so an unordered output cannot start with it.
	gate := make(chan struct{})
	var done atomic.Int64
	m := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		if task, _ := model.TaskFrom(ctx); task.Index == 0 {
			<-gate
		} else if done.Add(1) == 9 {
			close(gate)
		}
		return echoID(ctx, in)
	})
	out, err := engine.NewClient(m).RunFrame(context.Background(), idFrame(t, 100), engine.Options{BatchSize: 10, Executors: 2, Unordered: true})
	require.NoError(t, err)
	ids := outputIDs(t, out)
	assert.ElementsMatch(t, seq(100), ids)
	// Task 0 finished after at least eight others were delivered (the
	// ninth may race it to the result).
	assert.GreaterOrEqual(t, slices.Index(ids, 0), 80, "task 0 finished last or next to last")
}

func TestZeroRowsReturnTheDeclaredColumnsAndRunNoTask(t *testing.T) {
	l := &countingLoader{}
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "score", Type: arrow.PrimitiveTypes.Float64}}, nil)
	e, err := engine.NewClient(model.WithOutputSchema(l, schema)).Start(context.Background(), idFrame(t, 0), engine.Options{BatchSize: 10})
	require.NoError(t, err)
	out, err := e.Wait()
	require.NoError(t, err)
	assert.Equal(t, 0, out.NumRows())
	assert.Equal(t, []string{"id", "score"}, out.ColumnNames())
	assert.Zero(t, l.loads)
	assert.Equal(t, 0, e.Report().Tasks)

	out, err = engine.NewClient(echoID).RunFrame(context.Background(), idFrame(t, 0), engine.Options{BatchSize: 10})
	require.NoError(t, err)
	assert.Equal(t, 0, out.NumRows())
}

func TestBadInputIsRejectedBeforeAnyTaskStarts(t *testing.T) {
	l := &countingLoader{}
	client := engine.NewClient(l)
	in := idFrame(t, 10)
	for _, tc := range []struct {
		name string
		in   *frame.Frame
		opts engine.Options
		want string
	}{
		{"nil frame", nil, engine.Options{BatchSize: 1}, "input frame is nil"},
		{"no columns", mustEmptyFrame(t), engine.Options{BatchSize: 1}, "has no columns"},
		{"batch size zero", in, engine.Options{}, "Options.BatchSize must be > 0, got 0"},
		{"batch size negative", in, engine.Options{BatchSize: -5}, "Options.BatchSize must be > 0, got -5"},
		{"negative executors", in, engine.Options{BatchSize: 1, Executors: -1}, "Options.Executors must not be negative"},
		{"negative cpus", in, engine.Options{BatchSize: 1, CPUs: -0.5}, "Options.CPUs must not be negative"},
		{"negative memory", in, engine.Options{BatchSize: 1, Memory: -1}, "Options.Memory must not be negative"},
		{"negative retries", in, engine.Options{BatchSize: 1, Retries: -1}, "Options.Retries must not be negative"},
		{"unknown instance", in, engine.Options{BatchSize: 1, Instance: "humongous"}, `Options.Instance "humongous" is not a known preset; known: gpu.a10.xl`},
		{"instance and cpus", in, engine.Options{BatchSize: 1, Instance: "small", CPUs: 2}, "both set"},
		{"gpu type without gpus", in, engine.Options{BatchSize: 1, GPUType: "h100"}, "Options.GPUs is 0"},
		{"gpus without cuda", in, engine.Options{BatchSize: 1, GPUs: 1}, "built without CUDA"},
		{"cloud without backend", in, engine.Options{BatchSize: 1, Cloud: true}, "no remote backend"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.Start(context.Background(), tc.in, tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.Zero(t, l.loads)
	_, err := client.Start(context.Background(), in, engine.Options{BatchSize: 1, GPUs: 1})
	assert.ErrorIs(t, err, gpu.ErrNoCUDA)
	_, err = client.Start(context.Background(), in, engine.Options{BatchSize: 1, Cloud: true})
	assert.ErrorIs(t, err, engine.ErrNoBackend)
}

func mustEmptyFrame(t *testing.T) *frame.Frame {
	f, err := frame.New()
	require.NoError(t, err)
	return f
}

func TestRunRejectsBadDataFrames(t *testing.T) {
	client := engine.NewClient(echoID)
	_, err := client.Run(context.Background(), dataframe.DataFrame{}, engine.Options{BatchSize: 1})
	assert.ErrorContains(t, err, "has no columns")
	_, err = client.Run(context.Background(), dataframe.New(), engine.Options{BatchSize: 1})
	assert.ErrorContains(t, err, "carries an error")
}

func TestMemoryBudgetFailsAnOversizedBatchBeforeItRuns(t *testing.T) {
	var calls atomic.Int64
	m := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		calls.Add(1)
		return echoID(ctx, in)
	})
	// 16 bytes a row: a batch of 100k rows is about 1.5 MiB, over a 1 MiB budget.
	_, err := engine.NewClient(m).RunFrame(context.Background(), idFrame(t, 200_000), engine.Options{BatchSize: 100_000, Memory: 1, Retries: 3})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "over the executor memory budget of 1 MiB (1048576 bytes, Options.Memory)")
	assert.Contains(t, err.Error(), "lower Options.BatchSize to at most 65536 rows")
	assert.Zero(t, calls.Load())
}

func TestDefaultsFillUnsetOptionsAndRunOptionsOverride(t *testing.T) {
	client := engine.NewClient(echoID, engine.WithDefaults(engine.Options{
		BatchSize: 25, Executors: 3, Instance: "small", Retries: 2,
		Parameters: map[string]string{"attribute": "deployed", "region": "eu"},
	}))
	e, err := client.Start(context.Background(), idFrame(t, 100), engine.Options{Executors: 2, Parameters: map[string]string{"attribute": "run"}})
	require.NoError(t, err)
	_, err = e.Wait()
	require.NoError(t, err)
	o := e.Options()
	assert.Equal(t, 25, o.BatchSize)
	assert.Equal(t, 2, o.Executors)
	assert.Equal(t, 2.0, o.CPUs, "from the deployed instance preset")
	assert.Equal(t, 8192, o.Memory)
	assert.Equal(t, 2, o.Retries)
	assert.Equal(t, map[string]string{"attribute": "run", "region": "eu"}, o.Parameters)
	assert.Equal(t, 4, e.Report().Tasks)

	e, err = client.Start(context.Background(), idFrame(t, 10), engine.Options{CPUs: 1})
	require.NoError(t, err)
	_, err = e.Wait()
	require.NoError(t, err)
	assert.Equal(t, 1.0, e.Options().CPUs)
	assert.Equal(t, 8192, e.Options().Memory, "unset memory still comes from the deployed preset")

	e, err = client.Start(context.Background(), idFrame(t, 10), engine.Options{Instance: "tiny"})
	require.NoError(t, err)
	_, err = e.Wait()
	require.NoError(t, err)
	assert.Equal(t, 2048, e.Options().Memory)
}

func TestWithInstancesAddsPresets(t *testing.T) {
	client := engine.NewClient(echoID, engine.WithInstances(map[string]engine.Instance{"mine": {CPUs: 3, Memory: 100}}))
	e, err := client.Start(context.Background(), idFrame(t, 10), engine.Options{BatchSize: 5, Instance: "mine"})
	require.NoError(t, err)
	_, err = e.Wait()
	require.NoError(t, err)
	assert.Equal(t, 3.0, e.Options().CPUs)
}

func TestLookupInstanceReadsTheBuiltInPresets(t *testing.T) {
	small, ok := engine.LookupInstance("small")
	require.True(t, ok)
	assert.Equal(t, engine.Instance{CPUs: 2, Memory: 8192}, small)
	_, ok = engine.LookupInstance("mine")
	assert.False(t, ok, "a client's own presets are not built in")
	names := engine.InstanceNames()
	assert.Contains(t, names, "gpu.h100.xl")
	assert.True(t, slices.IsSorted(names))
	names[0] = "changed"
	assert.NotContains(t, engine.InstanceNames(), "changed", "a copy")
}

// TestOptionErrorNamesFieldsAsTheCallerDoes: option errors name Go fields,
// and Describe lets a command line name its flags instead.
func TestOptionErrorNamesFieldsAsTheCallerDoes(t *testing.T) {
	flags := func(field string) string {
		return map[string]string{"Options.GPUType": "--gpu-type", "Options.GPUs": "--gpus"}[field]
	}
	client := engine.NewClient(echoID)
	_, err := client.Start(context.Background(), idFrame(t, 10), engine.Options{BatchSize: 5, GPUType: "a10g"})
	var oe *engine.OptionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "Options.GPUType", oe.Option)
	assert.Equal(t, `Options.GPUType is "a10g" but Options.GPUs is 0; set Options.GPUs to the number of GPUs per executor`, oe.Error())
	assert.Equal(t, `--gpu-type is "a10g" but --gpus is 0; set --gpus to the number of GPUs per executor`, oe.Describe(flags))

	_, err = engine.NewClient(echoID, engine.WithDefaults(engine.Options{Instance: "smal"})).Start(context.Background(), idFrame(t, 10), engine.Options{BatchSize: 5})
	require.ErrorAs(t, err, &oe)
	assert.True(t, oe.Deployed)
	assert.Contains(t, err.Error(), `deployed defaults: Options.Instance "smal" is not a known preset`)

	_, err = client.RunFiles(context.Background(), engine.FileJob{Source: filepath.Join(t.TempDir(), "nope.csv"), Destination: t.TempDir()}, engine.Options{BatchSize: 5})
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "FileJob.Source", oe.Option)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestLoadErrorFailsTheRunNamingTheExecutor(t *testing.T) {
	l := model.LoaderFunc(func(ctx context.Context, exec model.Executor) (model.Model, error) {
		if exec.Index == 1 {
			return nil, errors.New("weights file is corrupt")
		}
		return echoID, nil
	})
	e, err := engine.NewClient(l).Start(context.Background(), idFrame(t, 100), engine.Options{BatchSize: 10, Executors: 2})
	require.NoError(t, err)
	_, err = e.Wait()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "executor 1: loading the model: weights file is corrupt")
	r := e.Report()
	assert.Equal(t, 100, r.RowsOut+rowsOf(r.Rerun()))
}

func rowsOf(tasks []engine.Task) int {
	n := 0
	for _, t := range tasks {
		n += t.Rows()
	}
	return n
}
