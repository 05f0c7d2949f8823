package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestOversubscribedCPUsLogAWarning(t *testing.T) {
	var logs syncBuffer
	client := engine.NewClient(echoID, engine.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	_, err := client.RunFrame(context.Background(), idFrame(t, 10), engine.Options{BatchSize: 5, Executors: 2, CPUs: float64(runtime.NumCPU())})
	require.NoError(t, err)
	assert.Contains(t, logs.String(), "level=WARN msg=\"executors x cpus exceeds this machine's CPUs")

	logs = syncBuffer{}
	_, err = client.RunFrame(context.Background(), idFrame(t, 10), engine.Options{BatchSize: 5, Executors: 1, CPUs: 1})
	require.NoError(t, err)
	assert.NotContains(t, logs.String(), "WARN")
}

// inProcessBackend is a test double of a remote backend: like one, it
// reads (stages) every task first, releasing its rows, then scores them
// and reports progress as a backend would.
type inProcessBackend struct {
	id      string
	opts    engine.Options
	tasks   []engine.Task
	failing int // index of a task that fails, or -1
}

func (b *inProcessBackend) Run(ctx context.Context, run *engine.Run) error {
	b.id, b.opts, b.tasks = run.ID(), run.Options(), nil
	var staged []*frame.Frame
	for {
		task, rows, err := run.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		b.tasks = append(b.tasks, task)
		staged = append(staged, rows)
		run.Release(task)
	}
	for i, task := range b.tasks {
		run.Event(engine.Event{Kind: engine.TaskStarted, Task: task, Attempt: 1})
		if task.Index == b.failing {
			err := errors.New("pod OOMKilled")
			run.Event(engine.Event{Kind: engine.TaskFailed, Task: task, Attempt: 1, Err: err})
			if err := run.Fail(&engine.TaskError{Task: task, Attempts: 1, Err: err}); err != nil {
				return err
			}
			continue
		}
		out, err := echoID(ctx, staged[i])
		if err == nil {
			err = run.CheckOutput(task, out)
		}
		if err != nil {
			return err
		}
		run.Event(engine.Event{Kind: engine.TaskFinished, Task: task, Attempt: 1})
		if err := run.Finish(task, out); err != nil {
			return err
		}
	}
	return nil
}

func TestCloudRunsGoThroughTheBackendWithResolvedOptions(t *testing.T) {
	backend := &inProcessBackend{failing: -1}
	client := engine.NewClient(echoID, engine.WithBackend(backend), engine.WithDefaults(engine.Options{IAMRoleARN: "arn:aws:iam::1:role/scorer"}))
	e, err := client.Start(context.Background(), idFrame(t, 95), engine.Options{BatchSize: 10, Executors: 4, Cloud: true, Instance: "small"})
	require.NoError(t, err)
	out, err := e.Wait()
	require.NoError(t, err)
	assert.Equal(t, seq(95), outputIDs(t, out))
	assert.Len(t, backend.tasks, 10)
	assert.Equal(t, e.ID(), backend.id)
	assert.Equal(t, "arn:aws:iam::1:role/scorer", backend.opts.IAMRoleARN)
	assert.Equal(t, 2.0, backend.opts.CPUs)
	st := e.Status()
	assert.Equal(t, engine.Succeeded, st.State)
	assert.Equal(t, 10, st.Finished)
	assert.Equal(t, 95, st.Rows)
}

func TestCloudTaskFailureIsReportedLikeALocalOne(t *testing.T) {
	client := engine.NewClient(echoID, engine.WithBackend(&inProcessBackend{failing: 3}))
	e, err := client.Start(context.Background(), idFrame(t, 100), engine.Options{BatchSize: 10, Cloud: true})
	require.NoError(t, err)
	_, err = e.Wait()
	var te *engine.TaskError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, err.Error(), "task 3 (rows 30-39)")
	r := e.Report()
	assert.Equal(t, engine.Failed, r.State)
	require.Len(t, r.Failed, 1)
	assert.Len(t, r.Incomplete, 6)
	assert.Equal(t, 70, rowsOf(r.Rerun()))
}

func TestStreamUnorderedDeliversEveryBatch(t *testing.T) {
	r := &sliceReader{frames: []*frame.Frame{idFrame(t, 1000)}}
	var ids []int64
	e, err := engine.NewClient(echoID).Stream(context.Background(), r, engine.Options{BatchSize: 10, Executors: 4, Unordered: true}, func(b engine.Batch) error {
		ids = append(ids, outputIDs(t, b.Frame)...)
		return nil
	})
	require.NoError(t, err)
	_, err = e.Wait()
	require.NoError(t, err)
	assert.ElementsMatch(t, seq(1000), ids)
}

func TestEventLogStaysBoundedInLongRuns(t *testing.T) {
	const tasks = 20_000 // 40,000 events: more than the log keeps
	e, err := engine.NewClient(echoID).Start(context.Background(), idFrame(t, tasks), engine.Options{BatchSize: 1})
	require.NoError(t, err)
	_, err = e.Wait()
	require.NoError(t, err)
	var n int
	var last engine.Event
	for ev := range e.Events() {
		n++
		last = ev
	}
	assert.Less(t, n, 2*tasks, "the oldest events were dropped")
	assert.Greater(t, n, 0)
	assert.Equal(t, engine.TaskFinished, last.Kind)
	assert.Equal(t, tasks-1, last.Task.Index)
	assert.Equal(t, tasks, e.Status().Finished)
}

func TestCloudRunOfNoRowsDoesNotCallTheBackend(t *testing.T) {
	backend := &inProcessBackend{failing: -1}
	client := engine.NewClient(model.WithOutputSchema(echoID, arrow.NewSchema([]arrow.Field{{Name: "score", Type: arrow.PrimitiveTypes.Float64}}, nil)), engine.WithBackend(backend))
	out, err := client.RunFrame(context.Background(), idFrame(t, 0), engine.Options{BatchSize: 10, Cloud: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"score"}, out.ColumnNames())
	assert.Equal(t, 0, out.NumRows())
	assert.Empty(t, backend.id, "the backend was not called")
}

// TestCloudStreamAndFileRunsGoThroughTheBackend streams 10,000 rows and
// scores a folder of files on the test double of a remote backend, which
// reads every task before it scores any: a streamed run hands it tasks
// beyond its window of 2 x Executors because it releases their rows, and
// the outputs come back in input order, as from a local run.
func TestCloudStreamAndFileRunsGoThroughTheBackend(t *testing.T) {
	backend := &inProcessBackend{failing: -1}
	client := engine.NewClient(echoID, engine.WithBackend(backend))
	var ids []int64
	e, err := client.Stream(context.Background(), &sliceReader{frames: []*frame.Frame{idFrame(t, 10_000)}}, engine.Options{BatchSize: 100, Executors: 2, Cloud: true},
		func(b engine.Batch) error {
			ids = append(ids, outputIDs(t, b.Frame)...)
			return nil
		})
	require.NoError(t, err)
	_, err = e.Wait()
	require.NoError(t, err)
	assert.Equal(t, seq(10_000), ids)
	assert.Len(t, backend.tasks, 100)
	assert.Equal(t, 100, e.Status().Finished)

	in, out := t.TempDir(), t.TempDir()
	for i, rows := range []int{250, 0, 1000} {
		w, err := frame.CreateFile(filepath.Join(in, fmt.Sprintf("part-%d.csv", i)), "")
		require.NoError(t, err)
		require.NoError(t, w.Write(idFrame(t, rows)))
		require.NoError(t, w.Close())
	}
	local, cloud := filepath.Join(out, "local"), filepath.Join(out, "cloud")
	_, err = engine.NewClient(echoID).RunFiles(context.Background(), engine.FileJob{Source: in, Destination: local}, engine.Options{BatchSize: 100, Executors: 2})
	require.NoError(t, err)
	r, err := client.RunFiles(context.Background(), engine.FileJob{Source: in, Destination: cloud}, engine.Options{BatchSize: 100, Executors: 2, Cloud: true})
	require.NoError(t, err)
	require.Len(t, r.Outputs, 3)
	for i := range 3 {
		name := fmt.Sprintf("part-%d.csv", i)
		want, err := os.ReadFile(filepath.Join(local, name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(cloud, name))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), name)
	}
}
