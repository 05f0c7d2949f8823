package subprocess_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/subprocess"
)

// The test binary is also the model process: with DFBATCH_TEST_MODEL set it
// serves the model of that name (testModels) instead of running tests.
func TestMain(m *testing.M) {
	if name := os.Getenv("DFBATCH_TEST_MODEL"); name != "" {
		if dir := os.Getenv("DFBATCH_TEST_PIDS"); dir != "" {
			earlier, _ := os.ReadDir(dir)
			_ = os.WriteFile(filepath.Join(dir, strconv.Itoa(os.Getpid())), nil, 0o644)
			// A model slow to start again: every process after the first
			// waits this long before its hello.
			if delay, err := time.ParseDuration(os.Getenv("DFBATCH_TEST_RESTART_DELAY")); err == nil && len(earlier) > 0 {
				time.Sleep(delay)
			}
		}
		subprocess.Main(testModels[name])
	}
	os.Exit(m.Run())
}

// echoEnv returns the input's id column, the attribute and extra
// environment variables as the process sees them, and its pid.
var echoEnv = model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	ids, err := in.Int64Col("id")
	if err != nil {
		return nil, err
	}
	n := in.NumRows()
	attr, extra, pids := make([]string, n), make([]string, n), make([]int64, n)
	for i := range n {
		attr[i], extra[i], pids[i] = os.Getenv("attribute"), os.Getenv("EXTRA"), int64(os.Getpid())
	}
	return frame.New(frame.Column{Name: "id", Values: ids}, frame.Strings("attribute", attr), frame.Strings("extra", extra), frame.Int64s("pid", pids))
})

var testModels = map[string]model.Model{
	"echo": echoEnv,
	// crash exits mid-batch on task 1's first attempt.
	"crash": model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		if t, _ := model.TaskFrom(ctx); t.Index == 1 && t.Attempt == 1 {
			fmt.Fprintln(os.Stderr, "about to crash on task 1")
			os.Exit(3)
		}
		return echoEnv(ctx, in)
	}),
	// garbage writes text to stdout instead of a frame on task 2.
	"garbage": model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		if t, _ := model.TaskFrom(ctx); t.Index == 2 {
			fmt.Fprint(os.Stdout, "hello from a stray print\n")
			os.Stdout.Sync()
			time.Sleep(time.Hour)
		}
		return echoEnv(ctx, in)
	}),
	// hang never answers a batch whose parameters set "hang", and echoes
	// the others.
	"hang": model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		if model.Getenv(ctx, "hang") != "" {
			time.Sleep(time.Hour)
		}
		return echoEnv(ctx, in)
	}),
	// sleep never answers.
	"sleep": model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		time.Sleep(time.Hour)
		return nil, nil
	}),
	// chatty logs two lines on stderr per batch, one through model.Log.
	"chatty": model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		t, _ := model.TaskFrom(ctx)
		fmt.Fprintf(os.Stderr, "scoring task %d\n", t.Index)
		model.Log(ctx, fmt.Sprintf("task %d done", t.Index))
		return echoEnv(ctx, in)
	}),
	// types returns its input as it got it.
	"types": model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) { return in, nil }),
}

// testCommand runs the test binary as the named model, recording the pids
// of the processes it starts in a directory.
func testCommand(t *testing.T, name string) (subprocess.Command, string) {
	t.Helper()
	pids := t.TempDir()
	return subprocess.Command{Args: []string{os.Args[0]}, Env: []string{"DFBATCH_TEST_MODEL=" + name, "DFBATCH_TEST_PIDS=" + pids}}, pids
}

// startedPIDs lists the processes a testCommand started.
func startedPIDs(t *testing.T, dir string) []int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		require.NoError(t, err)
		pids = append(pids, pid)
	}
	return pids
}

// requireGone checks that no process is left: not running, not a zombie
// (kill(pid, 0) succeeds on a zombie until it is reaped).
func requireGone(t *testing.T, pids []int) {
	t.Helper()
	require.NotEmpty(t, pids)
	for _, pid := range pids {
		assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "process %d is still there", pid)
	}
}

func ids(n int) *frame.Frame {
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(i)
	}
	f, _ := frame.New(frame.Int64s("id", v))
	return f
}

func TestParametersAreRealEnvironmentVariablesAndDoNotLeakAcrossRuns(t *testing.T) {
	cmd, pids := testCommand(t, "echo")
	client := engine.NewClient(cmd)
	ctx := context.Background()
	require.NoError(t, client.WarmUp(ctx, engine.Options{BatchSize: 10, Executors: 2}))
	defer client.Close()

	out, err := client.RunFrame(ctx, ids(40), engine.Options{BatchSize: 10, Executors: 2, Parameters: map[string]string{"attribute": "plan", "EXTRA": "x"}})
	require.NoError(t, err)
	attr, _ := out.StringCol("attribute")
	extra, _ := out.StringCol("extra")
	assert.Equal(t, "plan", attr.Value(39))
	assert.Equal(t, "x", extra.Value(0))

	out, err = client.RunFrame(ctx, ids(40), engine.Options{BatchSize: 10, Executors: 2, Parameters: map[string]string{"attribute": "tenure"}})
	require.NoError(t, err)
	attr, _ = out.StringCol("attribute")
	extra, _ = out.StringCol("extra")
	for i := range 40 {
		require.Equal(t, "tenure", attr.Value(i))
		require.Equal(t, "", extra.Value(i), "EXTRA came from the earlier run")
	}
	assert.Len(t, startedPIDs(t, pids), 2, "the warmed-up processes served both runs")
}

func TestACrashFailsTheAttemptAndTheProcessIsStartedAgain(t *testing.T) {
	cmd, pids := testCommand(t, "crash")
	e, err := engine.NewClient(cmd).Start(context.Background(), ids(30), engine.Options{BatchSize: 10, Retries: 1, RetryBackoff: time.Millisecond})
	require.NoError(t, err)
	out, err := e.Wait()
	require.NoError(t, err)
	assert.Equal(t, 30, out.NumRows())
	var retried *engine.Event
	for ev := range e.Events() {
		if ev.Kind == engine.TaskRetried {
			retried = &ev
		}
	}
	require.NotNil(t, retried)
	assert.Equal(t, 1, retried.Task.Index)
	assert.ErrorContains(t, retried.Err, "the process exited (exit status 3)")
	assert.ErrorContains(t, retried.Err, "about to crash on task 1")
	assert.Len(t, startedPIDs(t, pids), 2, "started again after the crash")
	requireGone(t, startedPIDs(t, pids))
}

func TestGarbageOnStdoutIsAProtocolErrorNamingTheTask(t *testing.T) {
	cmd, pids := testCommand(t, "garbage")
	_, err := engine.NewClient(cmd).RunFrame(context.Background(), ids(40), engine.Options{BatchSize: 10, MaxFailedTasks: 1})
	require.ErrorIs(t, err, engine.ErrPartial)
	_, err = engine.NewClient(cmd).RunFrame(context.Background(), ids(40), engine.Options{BatchSize: 10})
	var te *engine.TaskError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 2, te.Task.Index)
	var pe *subprocess.ProtocolError
	require.ErrorAs(t, err, &pe)
	assert.ErrorContains(t, err, `task 2 (rows 20-29)`)
	assert.ErrorContains(t, err, `got "hello from a stray print\n"`)
	requireGone(t, startedPIDs(t, pids))
}

func TestTaskTimeoutKillsTheProcess(t *testing.T) {
	cmd, pids := testCommand(t, "sleep")
	_, err := engine.NewClient(cmd).RunFrame(context.Background(), ids(10), engine.Options{BatchSize: 10, TaskTimeout: 300 * time.Millisecond})
	assert.ErrorIs(t, err, engine.ErrTaskTimeout)
	requireGone(t, startedPIDs(t, pids))
}

func TestCancelLeavesNoProcessBehind(t *testing.T) {
	cmd, pids := testCommand(t, "sleep")
	ctx, cancel := context.WithCancel(context.Background())
	e, err := engine.NewClient(cmd).Start(ctx, ids(40), engine.Options{BatchSize: 10, Executors: 3})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.Status().Running == 3 }, 10*time.Second, 10*time.Millisecond)
	cancel()
	_, err = e.Wait()
	assert.ErrorIs(t, err, context.Canceled)
	assert.Len(t, startedPIDs(t, pids), 3)
	requireGone(t, startedPIDs(t, pids))
}

func TestStderrLinesAreTheTasksModelLogInTheReport(t *testing.T) {
	cmd, _ := testCommand(t, "chatty")
	e, err := engine.NewClient(cmd).Start(context.Background(), ids(20), engine.Options{BatchSize: 10})
	require.NoError(t, err)
	_, err = e.Wait()
	require.NoError(t, err)
	logs := e.Report().ModelLogs
	require.Len(t, logs, 2)
	for i, l := range logs {
		assert.Equal(t, i, l.Task.Index)
		assert.Equal(t, []string{fmt.Sprintf("scoring task %d", i), fmt.Sprintf("task %d done", i)}, l.Lines)
	}
}

func TestArrowAndCSVPayloadsCarryTheSameFrame(t *testing.T) {
	in, err := frame.New(
		frame.Int64s("id", []int64{1, 2, 3}),
		frame.Float64s("x", []float64{0.1, -2.5e-8, 1e300}),
		frame.Strings("s", []string{"plain", "comma, \"quote\"", "line\nbreak"}),
		frame.Bools("b", []bool{true, false, true}),
	)
	require.NoError(t, err)
	for _, format := range []subprocess.Format{subprocess.FormatArrow, subprocess.FormatCSV} {
		t.Run(string(format), func(t *testing.T) {
			cmd, _ := testCommand(t, "types")
			cmd.Format = format
			out, err := engine.NewClient(cmd).RunFrame(context.Background(), in, engine.Options{BatchSize: 2})
			require.NoError(t, err)
			assert.Equal(t, in.Schema().String(), out.Schema().String())
			for c := range in.NumCols() {
				assert.Equal(t, in.Column(c).String(), out.Column(c).String(), in.Schema().Field(c).Name)
			}
		})
	}
}

func TestCommandErrorsNameWhatIsWrong(t *testing.T) {
	_, err := subprocess.Command{Format: "xml", Env: []string{"NOEQUALS"}}.Load(context.Background(), model.Executor{})
	for _, want := range []string{"Command.Args is empty", `Command.Format "xml"`, `Command.Env entry "NOEQUALS"`} {
		assert.ErrorContains(t, err, want)
	}
	_, err = subprocess.Command{Args: []string{filepath.Join(t.TempDir(), "missing")}}.Load(context.Background(), model.Executor{})
	assert.ErrorContains(t, err, "starting")

	// A program that exits without a hello.
	_, err = subprocess.Command{Args: subprocess.Shell("echo not a model >&2; exit 4")}.Load(context.Background(), model.Executor{})
	assert.ErrorContains(t, err, "did not start")
	assert.ErrorContains(t, err, "exit status 4")
	assert.ErrorContains(t, err, "not a model")
}

func TestExecutorResourcesAreInTheEnvironment(t *testing.T) {
	cmd := subprocess.Command{Args: subprocess.Shell(`printf 'DFB1' >&2; echo "$OMP_NUM_THREADS $GOMAXPROCS [$CUDA_VISIBLE_DEVICES] $DFBATCH_EXECUTOR" >&2; exit 1`)}
	_, err := cmd.Load(context.Background(), model.Executor{Index: 3, CPUs: 2.5})
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "3 3 [] 3"), err.Error())
}

func TestAProcessThatDiedBetweenBatchesIsStartedAgain(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare bool
	}{
		{name: "by Prepare", prepare: true},
		{name: "by Predict, for a caller that does not prepare"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, pids := testCommand(t, "echo")
			m, err := cmd.Load(context.Background(), model.Executor{})
			require.NoError(t, err)
			p := m.(*subprocess.Process)
			defer p.Close()
			require.NoError(t, p.Prepare(context.Background()))
			first := startedPIDs(t, pids)
			require.Len(t, first, 1, "Prepare leaves a running process as it is")
			require.NoError(t, syscall.Kill(first[0], syscall.SIGKILL))
			// The Process reaps it: kill(pid, 0) fails once it has.
			require.Eventually(t, func() bool { return syscall.Kill(first[0], 0) != nil }, 5*time.Second, 10*time.Millisecond)
			if tc.prepare {
				require.NoError(t, p.Prepare(context.Background()))
				assert.Len(t, startedPIDs(t, pids), 2, "started again by Prepare, before the batch")
			}
			out, err := p.Predict(context.Background(), ids(3))
			require.NoError(t, err)
			assert.Equal(t, 3, out.NumRows())
			assert.Len(t, startedPIDs(t, pids), 2)
		})
	}
}

// slowToRestart loads the "hang" model with processes after the first
// taking delay to say hello, and returns it with the directory of its pids.
// The Process is closed, and its processes checked gone, when the test
// ends.
func slowToRestart(t *testing.T, delay, startTimeout time.Duration) (*subprocess.Process, string) {
	t.Helper()
	cmd, pids := testCommand(t, "hang")
	cmd.Env = append(cmd.Env, "DFBATCH_TEST_RESTART_DELAY="+delay.String())
	cmd.StartTimeout = startTimeout
	m, err := cmd.Load(context.Background(), model.Executor{})
	require.NoError(t, err)
	p := m.(*subprocess.Process)
	t.Cleanup(func() {
		assert.NoError(t, p.Close())
		requireGone(t, startedPIDs(t, pids))
	})
	return p, pids
}

// predictWithin runs a task of three rows under timeout, hanging if hang.
func predictWithin(p *subprocess.Process, timeout time.Duration, hang bool) (*frame.Frame, error) {
	params := map[string]string{}
	if hang {
		params["hang"] = "yes"
	}
	ctx, cancel := context.WithTimeout(model.WithParameters(context.Background(), params), timeout)
	defer cancel()
	return p.Predict(ctx, ids(3))
}

func TestPrepareStartsAKilledProcessAgainOutsideTheTaskTimeout(t *testing.T) {
	// Starting again takes 1.5s, and a task has 1s.
	p, pids := slowToRestart(t, 1500*time.Millisecond, 0)
	_, err := predictWithin(p, 100*time.Millisecond, true)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the task outlived its timeout: its process was killed")

	// Without Prepare the start is part of the task: it never gets to score.
	_, err = predictWithin(p, time.Second, false)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "did not start")

	// Prepare, under a context with no deadline, waits out the start; the
	// task then has its whole second to score.
	require.NoError(t, p.Prepare(context.Background()))
	out, err := predictWithin(p, time.Second, false)
	require.NoError(t, err)
	assert.Equal(t, 3, out.NumRows())
	assert.Len(t, startedPIDs(t, pids), 3, "loaded, started by the task and killed, started by Prepare")
}

func TestPrepareGivesUpAtTheStartTimeoutOrTheRunsCancellation(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		wantErr string
	}{
		{
			name:    "start timeout",
			ctx:     func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
			wantErr: "no reply within 2s",
		},
		{
			name: "cancelled run",
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(100*time.Millisecond, cancel)
				return ctx, cancel
			},
			wantErr: context.Canceled.Error(),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := slowToRestart(t, time.Hour, 2*time.Second)
			_, err := predictWithin(p, 100*time.Millisecond, true)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			ctx, cancel := tc.ctx()
			defer cancel()
			err = p.Prepare(ctx)
			assert.ErrorContains(t, err, "did not start")
			assert.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestEngineRestartsACrashedProcessOutsideTheNextAttemptsTimeout(t *testing.T) {
	// Task 1 crashes its process; the process takes 1.5 s to start again,
	// more than the 1 s task timeout. The restart happens before the
	// retry, outside its timeout, so the retry and every later task run.
	cmd, pids := testCommand(t, "crash")
	cmd.Env = append(cmd.Env, "DFBATCH_TEST_RESTART_DELAY=1500ms")
	out, err := engine.NewClient(cmd).RunFrame(context.Background(), ids(40),
		engine.Options{BatchSize: 10, TaskTimeout: time.Second, Retries: 1, RetryBackoff: time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, 40, out.NumRows())
	assert.Len(t, startedPIDs(t, pids), 2, "started again once, after the crash")
	requireGone(t, startedPIDs(t, pids))
}
