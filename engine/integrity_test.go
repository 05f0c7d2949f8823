package engine_test

// Tests of the engine's honesty: no output under its final name without
// every row, no success with rows missing, options fixed at Start, attempts
// that end at their timeout, and runs that resume. Each names the defect it
// guards against.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/engine/internal/checkpoint"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// leftovers lists every file under dir that is not a final output: partial
// outputs and work folders, hidden or not.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir && (strings.HasSuffix(path, ".partial") || strings.HasPrefix(d.Name(), ".")) {
			found = append(found, path)
		}
		return nil
	}))
	return found
}

// scoreX is a model that needs a value in every x: it scores
// id and x*2, and fails naming the row of a missing x.
var scoreX = model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	ids, err := in.Col("id")
	if err != nil {
		return nil, err
	}
	x, err := in.Float64Matrix(nil, "x")
	if err != nil {
		return nil, err
	}
	for i := range x {
		x[i] *= 2
	}
	return frame.New(frame.Column{Name: "id", Values: ids}, frame.Float64s("score", x))
})

// writeLines writes a CSV of a header and lines.
func writeLines(t *testing.T, path string, header string, lines func(i int) string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString(header + "\n")
	for i := range n {
		b.WriteString(lines(i) + "\n")
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
}

func TestOutputThatCannotBeCreatedIsAnErrorNotAPanic(t *testing.T) {
	src := filepath.Join(t.TempDir(), "in.csv")
	writeCSV(t, src, 0, 100)
	// Defect: w.current was set before frame.CreateFile succeeded, and the
	// nil writer panicked in a background goroutine.
	_, err := engine.NewClient(scoreX).RunFiles(context.Background(), engine.FileJob{Source: src, Destination: "/proc/o.csv"}, engine.Options{BatchSize: 10})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/proc/")

	// The same failure mid-run, where the output is created: the file
	// system refuses the temporary output.
	refuse := func(name string) (checkpoint.File, error) {
		if strings.HasSuffix(name, ".partial") {
			return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EACCES}
		}
		return checkpoint.OS(name)
	}
	dst := t.TempDir()
	report, err := engine.NewClient(scoreX, engine.WithFileCreator(refuse)).RunFiles(context.Background(),
		engine.FileJob{Source: src, Destination: filepath.Join(dst, "o.csv")}, engine.Options{BatchSize: 10})
	require.ErrorIs(t, err, syscall.EACCES)
	assert.Contains(t, err.Error(), "creating the output of "+src)
	assert.Empty(t, report.Outputs)
	assert.NoFileExists(t, filepath.Join(dst, "o.csv"))
}

func TestFailedOrCancelledFileRunLeavesNoOutputUnderItsFinalName(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(t *testing.T, path string)
		model model.Loader
		want  string
	}{{
		name: "a missing value in row 4000 of 5000",
		write: func(t *testing.T, path string) {
			writeLines(t, path, "id,x", func(i int) string {
				if i == 4000 {
					return "4000,"
				}
				return fmt.Sprintf("%d,%d", i, i)
			}, 5000)
		},
		model: scoreX, want: "row 4000",
	}, {
		name: "a column that changes type after row 10000",
		write: func(t *testing.T, path string) {
			writeLines(t, path, "id,x", func(i int) string {
				if i >= 10_500 {
					return fmt.Sprintf("%d,high", i)
				}
				return fmt.Sprintf("%d,%d", i, i)
			}, 12_000)
		},
		model: scoreX, want: "high",
	}, {
		name: "a malformed CSV row",
		write: func(t *testing.T, path string) {
			writeLines(t, path, "id,x", func(i int) string {
				if i == 3000 {
					return "3000,1,2"
				}
				return fmt.Sprintf("%d,%d", i, i)
			}, 5000)
		},
		model: scoreX, want: "in.csv",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "in.csv")
			tc.write(t, src)
			dst := t.TempDir()
			out := filepath.Join(dst, "out.parquet")
			report, err := engine.NewClient(tc.model).RunFiles(context.Background(), engine.FileJob{Source: src, Destination: out},
				engine.Options{BatchSize: 500, Executors: 2})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, engine.Failed, report.State)
			assert.NoFileExists(t, out, "a failed run's output must not appear under its final name")
			assert.Empty(t, report.Outputs)
			require.Len(t, report.Files, 1)
			assert.False(t, report.Files[0].Written)
			// What stays is the checkpoint, for Resume; no partial output.
			for _, path := range leftovers(t, dst) {
				assert.NotContains(t, path, ".partial")
			}
			assert.NotEmpty(t, report.Checkpoint)
		})
	}
	t.Run("cancel midway", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "in.csv")
		writeCSV(t, src, 0, 5000)
		started := make(chan struct{})
		dst := t.TempDir()
		e, err := engine.NewClient(blockUntilCancelled(started)).StartFiles(context.Background(),
			engine.FileJob{Source: src, Destination: filepath.Join(dst, "out.csv"), NoCheckpoint: true}, engine.Options{BatchSize: 500, Executors: 2})
		require.NoError(t, err)
		<-started
		e.Cancel()
		_, err = e.Wait()
		require.ErrorIs(t, err, engine.ErrCancelled)
		assert.Empty(t, e.Report().Outputs)
		assert.Empty(t, leftovers(t, dst), "without a checkpoint, nothing is left")
		assert.NoFileExists(t, filepath.Join(dst, "out.csv"))
	})
}

func TestFolderRunKeepsOnlyTheOutputsThatHoldEveryRow(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	writeCSV(t, filepath.Join(src, "a.csv"), 0, 100)
	writeLines(t, filepath.Join(src, "b.csv"), "id,x", func(i int) string {
		if i == 70 {
			return "70,"
		}
		return fmt.Sprintf("%d,%d", i, i)
	}, 100)
	report, err := engine.NewClient(scoreX).RunFiles(context.Background(), engine.FileJob{Source: src, Destination: dst},
		engine.Options{BatchSize: 10, MaxFailedTasks: 3})
	require.ErrorIs(t, err, engine.ErrPartial)
	assert.Equal(t, []string{filepath.Join(dst, "a.csv")}, report.Outputs)
	assert.Equal(t, 100, readAll(t, filepath.Join(dst, "a.csv")).NumRows())
	assert.NoFileExists(t, filepath.Join(dst, "b.csv"))
}

// failAfter is a file whose writes fail with ENOSPC once limit bytes are
// written: a disk that fills up.
type failAfter struct {
	checkpoint.File
	limit, written int
}

func (f *failAfter) Write(p []byte) (int, error) {
	if f.written+len(p) > f.limit {
		return 0, &os.PathError{Op: "write", Path: "output", Err: syscall.ENOSPC}
	}
	f.written += len(p)
	return f.File.Write(p)
}

// fillDisk fails the writes of files whose names end with suffix after
// limit bytes, while full is set.
func fillDisk(suffix string, limit int, full *atomic.Bool) checkpoint.Files {
	return func(name string) (checkpoint.File, error) {
		f, err := checkpoint.OS(name)
		if err != nil || !full.Load() || !strings.HasSuffix(name, suffix) {
			return f, err
		}
		return &failAfter{File: f, limit: limit}, nil
	}
}

func TestDiskFullLeavesNoOutputAndResumeCompletesIt(t *testing.T) {
	src := filepath.Join(t.TempDir(), "in.csv")
	writeCSV(t, src, 0, 20_000)
	dst := t.TempDir()
	out := filepath.Join(dst, "scored.csv")
	var full atomic.Bool
	full.Store(true)
	client := engine.NewClient(echoID, engine.WithFileCreator(fillDisk(".partial", 100_000, &full)))
	job := engine.FileJob{Source: src, Destination: out}
	opts := engine.Options{BatchSize: 1000, Executors: 2}
	report, err := client.RunFiles(context.Background(), job, opts)
	require.ErrorIs(t, err, syscall.ENOSPC)
	assert.Contains(t, err.Error(), "scored.csv")
	assert.NoFileExists(t, out)
	assert.Empty(t, report.Outputs)
	for _, path := range leftovers(t, dst) {
		assert.NotContains(t, path, ".partial")
	}

	// Space is freed: resuming writes the whole output from the checkpoint
	// and what it lacks.
	full.Store(false)
	job.Resume = true
	report, err = client.RunFiles(context.Background(), job, opts)
	require.NoError(t, err)
	assert.Equal(t, []string{out}, report.Outputs)
	assert.Positive(t, report.Resumed)
	assert.Empty(t, leftovers(t, dst), "a complete job removes its checkpoint")
	assert.Equal(t, uninterrupted(t, src, "csv", echoID), mustRead(t, out))
}

func TestCheckpointWriteErrorStopsTheRunNamingIt(t *testing.T) {
	src := filepath.Join(t.TempDir(), "in.csv")
	writeCSV(t, src, 0, 5000)
	var full atomic.Bool
	full.Store(true)
	dst := t.TempDir()
	_, err := engine.NewClient(echoID, engine.WithFileCreator(fillDisk(".arrows", 10_000, &full))).RunFiles(context.Background(),
		engine.FileJob{Source: src, Destination: filepath.Join(dst, "o.parquet")}, engine.Options{BatchSize: 500})
	require.ErrorIs(t, err, syscall.ENOSPC)
	assert.Contains(t, err.Error(), "writing the checkpoint")
	assert.NoFileExists(t, filepath.Join(dst, "o.parquet"))
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// uninterrupted scores src with m in one run and returns the output's
// bytes.
func uninterrupted(t *testing.T, src, format string, m model.Loader) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "reference."+format)
	_, err := engine.NewClient(m).RunFiles(context.Background(), engine.FileJob{Source: src, Destination: out, NoCheckpoint: true},
		engine.Options{BatchSize: 1000, Executors: 2})
	require.NoError(t, err)
	return mustRead(t, out)
}

// stopAt is a model that scores like echoID and counts the rows it
// scores; once armed, a task from index `from` on blocks until the run
// stops.
type stopAt struct {
	from    int
	armed   atomic.Bool
	scored  atomic.Int64
	once    sync.Once
	reached chan struct{}
}

func newStopAt(from int) *stopAt {
	s := &stopAt{from: from, reached: make(chan struct{})}
	s.armed.Store(true)
	return s
}

func (s *stopAt) Load(context.Context, model.Executor) (model.Model, error) { return s, nil }

func (s *stopAt) Predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	if task, _ := model.TaskFrom(ctx); s.armed.Load() && task.Index >= s.from {
		s.once.Do(func() { close(s.reached) })
		<-ctx.Done()
		return nil, ctx.Err()
	}
	s.scored.Add(int64(in.NumRows()))
	return echoID(ctx, in)
}

func TestResumeAfterCancelScoresOnlyWhatIsMissingAndWritesTheSameBytes(t *testing.T) {
	src := filepath.Join(t.TempDir(), "in.csv")
	writeCSV(t, src, 0, 20_000)
	for _, format := range []string{"csv", "parquet", "arrow", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "scored."+format)
			m := newStopAt(12)
			client := engine.NewClient(m)
			job := engine.FileJob{Source: src, Destination: out}
			opts := engine.Options{BatchSize: 1000, Executors: 2}
			e, err := client.StartFiles(context.Background(), job, opts)
			require.NoError(t, err)
			<-m.reached
			e.Cancel()
			_, err = e.Wait()
			require.ErrorIs(t, err, engine.ErrCancelled)
			first := e.Report()
			assert.NoFileExists(t, out)
			require.NotEmpty(t, first.Checkpoint)
			scoredBefore := m.scored.Load()

			m.armed.Store(false)
			job.Resume = true
			report, err := client.RunFiles(context.Background(), job, opts)
			require.NoError(t, err)
			scoredAfter := m.scored.Load() - scoredBefore
			// Everything scored before the cancel came from the checkpoint.
			assert.EqualValues(t, scoredBefore, report.RowsResumed)
			assert.EqualValues(t, 20_000-report.RowsResumed, scoredAfter)
			assert.GreaterOrEqual(t, report.RowsResumed, 10_000, "tasks 0-9 were done before the cancel")
			assert.Equal(t, 20_000, report.RowsOut)
			assert.Equal(t, uninterrupted(t, src, format, echoID), mustRead(t, out), "a resumed output is byte for byte an uninterrupted one")
		})
	}
}

func TestResumeRefusesAJobThatChangedNamingWhat(t *testing.T) {
	src := filepath.Join(t.TempDir(), "in.csv")
	writeCSV(t, src, 0, 5000)
	out := filepath.Join(t.TempDir(), "scored.csv")
	interrupt := func(t *testing.T, job engine.FileJob, opts engine.Options) {
		t.Helper()
		m := newStopAt(2)
		e, err := engine.NewClient(m).StartFiles(context.Background(), job, opts)
		require.NoError(t, err)
		<-m.reached
		e.Cancel()
		_, err = e.Wait()
		require.Error(t, err)
	}
	job := engine.FileJob{Source: src, Destination: out, Fingerprint: map[string]string{"model": "sha256:aaa"}}
	opts := engine.Options{BatchSize: 500, Parameters: map[string]string{"attribute": "a"}}
	for _, tc := range []struct {
		name   string
		change func(job *engine.FileJob, opts *engine.Options)
		want   string
	}{
		{"batch size", func(_ *engine.FileJob, o *engine.Options) { o.BatchSize = 400 }, "the batch size was 500, now 400"},
		{"parameter", func(_ *engine.FileJob, o *engine.Options) { o.Parameters = map[string]string{"attribute": "b"} }, `parameter attribute was "a", now "b"`},
		{"model", func(j *engine.FileJob, _ *engine.Options) { j.Fingerprint = map[string]string{"model": "sha256:bbb"} }, `model setting model was "sha256:aaa", now "sha256:bbb"`},
		{"input", func(*engine.FileJob, *engine.Options) { writeCSV(t, src, 0, 5001) }, "input " + src + " changed"},
		{"missing values", func(j *engine.FileJob, _ *engine.Options) { j.NAValues = []string{"", "-"} }, "FileJob.NAValues was unset, now"},
		{"column types", func(j *engine.FileJob, _ *engine.Options) {
			j.ColumnTypes = map[string]arrow.DataType{"id": arrow.BinaryTypes.String}
		}, `FileJob.ColumnTypes was unset, now "\"id\"=utf8"`},
		{"decimal separator", func(j *engine.FileJob, _ *engine.Options) { j.Decimal = ',' }, `FileJob.Decimal was unset, now "','"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeCSV(t, src, 0, 5000)
			interrupt(t, job, opts)
			changedJob, changedOpts := job, opts
			tc.change(&changedJob, &changedOpts)
			changedJob.Resume = true
			_, err := engine.NewClient(echoID).RunFiles(context.Background(), changedJob, changedOpts)
			require.ErrorIs(t, err, engine.ErrCheckpointMismatch)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "run without FileJob.Resume to start over")
			assert.NoFileExists(t, out)
		})
	}
}

func TestResumeOfAFolderSkipsTheOutputsAlreadyWritten(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	for i, name := range []string{"a.csv", "b.csv", "c.csv"} {
		writeCSV(t, filepath.Join(src, name), i*1000, i*1000+1000)
	}
	var broken atomic.Bool
	broken.Store(true)
	var seen sync.Map
	m := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		task, _ := model.TaskFrom(ctx)
		seen.Store(filepath.Base(task.Source), true)
		if broken.Load() && strings.HasSuffix(task.Source, "c.csv") && task.Start == 500 {
			return nil, errors.New("scoring service unavailable")
		}
		return echoID(ctx, in)
	})
	job := engine.FileJob{Source: src, Destination: dst}
	opts := engine.Options{BatchSize: 100}
	report, err := engine.NewClient(m).RunFiles(context.Background(), job, opts)
	require.Error(t, err)
	assert.Equal(t, []string{filepath.Join(dst, "a.csv"), filepath.Join(dst, "b.csv")}, report.Outputs)

	broken.Store(false)
	seen.Clear()
	job.Resume = true
	report, err = engine.NewClient(m).RunFiles(context.Background(), job, opts)
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(dst, "a.csv"), filepath.Join(dst, "b.csv"), filepath.Join(dst, "c.csv")}, report.Outputs)
	_, sawA := seen.Load("a.csv")
	assert.False(t, sawA, "a.csv's output was written: it is not read again")
	assert.True(t, report.Files[0].Kept)
	assert.Equal(t, 500, report.RowsResumed, "c.csv's rows 0-499 come from the checkpoint")
	for i, name := range []string{"a.csv", "b.csv", "c.csv"} {
		assert.Equal(t, seqFrom(i*1000, 1000), outputIDs(t, readAll(t, filepath.Join(dst, name))), name)
	}
}

func seqFrom(from, n int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = int64(from + i)
	}
	return s
}

func TestResumeAfterToleratedFailuresScoresOnlyTheFailedTasks(t *testing.T) {
	src := filepath.Join(t.TempDir(), "in.csv")
	writeCSV(t, src, 0, 1000)
	out := filepath.Join(t.TempDir(), "scored.parquet")
	var broken atomic.Bool
	broken.Store(true)
	var scored atomic.Int64
	m := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		if task, _ := model.TaskFrom(ctx); broken.Load() && (task.Index == 3 || task.Index == 7) {
			return nil, errors.New("scoring service unavailable")
		}
		scored.Add(int64(in.NumRows()))
		return echoID(ctx, in)
	})
	job := engine.FileJob{Source: src, Destination: out}
	opts := engine.Options{BatchSize: 100, Executors: 3, MaxFailedTasks: 2}
	report, err := engine.NewClient(m).RunFiles(context.Background(), job, opts)
	require.ErrorIs(t, err, engine.ErrPartial)
	assert.NoFileExists(t, out, "an output without every row is not written")

	// The rows to re-run are exactly those of the failed tasks.
	r, err := report.RerunFile(src)
	require.NoError(t, err)
	rerun, err := frame.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, append(seqFrom(300, 100), seqFrom(700, 100)...), outputIDs(t, rerun))

	broken.Store(false)
	scored.Store(0)
	job.Resume = true
	report, err = engine.NewClient(m).RunFiles(context.Background(), job, opts)
	require.NoError(t, err)
	assert.EqualValues(t, 200, scored.Load())
	assert.Equal(t, 800, report.RowsResumed)
	assert.Equal(t, seq(1000), outputIDs(t, readAll(t, out)))
}

func TestTwoRunsCannotWriteOneDestinationAtOnce(t *testing.T) {
	src := filepath.Join(t.TempDir(), "in.csv")
	writeCSV(t, src, 0, 1000)
	dst := t.TempDir()
	m := newStopAt(0)
	e, err := engine.NewClient(m).StartFiles(context.Background(), engine.FileJob{Source: src, Destination: dst}, engine.Options{BatchSize: 100})
	require.NoError(t, err)
	<-m.reached
	_, err = engine.NewClient(echoID).StartFiles(context.Background(), engine.FileJob{Source: src, Destination: dst}, engine.Options{BatchSize: 100})
	require.ErrorIs(t, err, engine.ErrDestinationLocked)
	e.Cancel()
	_, _ = e.Wait()
}

func TestRunOnADataFrameReturnsTheMissingRowsWithTheError(t *testing.T) {
	df := idFrame(t, 100).ToDataFrame()
	out, err := engine.NewClient(flaky(10, 3, 5)).Run(context.Background(), df, engine.Options{BatchSize: 10, MaxFailedTasks: 2})
	require.ErrorIs(t, err, engine.ErrPartial)
	assert.Equal(t, 80, out.Nrow())
	var inc *engine.IncompleteError
	require.ErrorAs(t, err, &inc)
	missing, err := inc.Report.RerunDataFrame(df)
	require.NoError(t, err)
	ids, err := missing.Col("id").Int()
	require.NoError(t, err)
	assert.Equal(t, append(seqInts(30, 10), seqInts(50, 10)...), ids)

	// Every task failing, within the tolerance, is not a success either.
	all := model.Func(func(context.Context, *frame.Frame) (*frame.Frame, error) { return nil, errors.New("down") })
	out, err = engine.NewClient(all).Run(context.Background(), df, engine.Options{BatchSize: 10, MaxFailedTasks: 10})
	require.ErrorIs(t, err, engine.ErrPartial)
	assert.Zero(t, out.Nrow())
	require.ErrorAs(t, err, &inc)
	missing, err = inc.Report.RerunDataFrame(df)
	require.NoError(t, err)
	assert.Equal(t, 100, missing.Nrow())
}

func seqInts(from, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = from + i
	}
	return s
}

func TestParametersAreFixedWhenTheRunStarts(t *testing.T) {
	gate := make(chan struct{})
	var seen sync.Map
	loader := model.LoaderFunc(func(ctx context.Context, _ model.Executor) (model.Model, error) {
		<-gate // executors start after the caller changed its map
		return model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
			task, _ := model.TaskFrom(ctx)
			seen.Store(task.Index, model.Getenv(ctx, "attribute"))
			return echoID(ctx, in)
		}), nil
	})
	params := map[string]string{"attribute": "run 1"}
	e, err := engine.NewClient(loader).Start(context.Background(), idFrame(t, 40), engine.Options{BatchSize: 10, Executors: 2, Parameters: params})
	require.NoError(t, err)
	params["attribute"] = "run 2" // a caller reusing its map for the next run
	close(gate)
	_, err = e.Wait()
	require.NoError(t, err)
	for i := range 4 {
		v, _ := seen.Load(i)
		assert.Equal(t, "run 1", v, "task %d", i)
	}
	assert.Equal(t, "run 1", e.Options().Parameters["attribute"])
}

func int64sWithNulls(values []int64, valid []bool) arrow.Array {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.AppendValues(values, valid)
	return b.NewArray()
}

func TestMemoryBudgetSuggestionFitsTheBudget(t *testing.T) {
	// Two int64 columns with nulls: 16 bytes a row plus two validity bits,
	// 16.25 bytes; rounding that down to 16 suggested a batch still over.
	n := 100_000
	a, b := make([]int64, n), make([]int64, n)
	valid := make([]bool, n)
	for i := range valid {
		valid[i] = i%7 != 0
	}
	in, err := frame.New(frame.Column{Name: "a", Values: int64sWithNulls(a, valid)}, frame.Column{Name: "b", Values: int64sWithNulls(b, valid)})
	require.NoError(t, err)
	_, err = engine.NewClient(model.Func(func(_ context.Context, in *frame.Frame) (*frame.Frame, error) { return in, nil })).
		RunFrame(context.Background(), in, engine.Options{BatchSize: n, Memory: 1})
	require.Error(t, err)
	var suggested int
	_, scanErr := fmt.Sscanf(err.Error()[strings.LastIndex(err.Error(), "at most "):], "at most %d rows", &suggested)
	require.NoError(t, scanErr, err.Error())
	assert.LessOrEqual(t, in.Slice(0, suggested).ByteSize(), int64(1<<20), "the suggested batch fits")
	assert.Greater(t, in.Slice(0, suggested+1).ByteSize(), int64(1<<20), "and is the largest that does")
	_, err = engine.NewClient(model.Func(func(_ context.Context, in *frame.Frame) (*frame.Frame, error) { return in, nil })).
		RunFrame(context.Background(), in.Slice(0, suggested), engine.Options{BatchSize: suggested, Memory: 1})
	assert.NoError(t, err)
}

func TestRefusedTaskSaysItWasNotAttempted(t *testing.T) {
	e, err := engine.NewClient(echoID).Start(context.Background(), idFrame(t, 200_000), engine.Options{BatchSize: 100_000, Memory: 1})
	require.NoError(t, err)
	_, err = e.Wait()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "task 0 (rows 0-99999) was refused on executor 0 before its first attempt")
	assert.NotContains(t, err.Error(), "attempt(s)")
	for ev := range e.Events() {
		assert.NotEqual(t, engine.TaskStarted, ev.Kind, "a refused task never starts")
		if ev.Kind == engine.TaskFailed {
			assert.Zero(t, ev.Attempt)
		}
	}
	assert.Zero(t, e.Status().Running)
}

func TestWaitReturnsNoFrameWhenNoTaskFinished(t *testing.T) {
	failing := model.Func(func(context.Context, *frame.Frame) (*frame.Frame, error) { return nil, errors.New("down") })
	out, err := engine.NewClient(failing).RunFrame(context.Background(), idFrame(t, 10), engine.Options{BatchSize: 10})
	require.Error(t, err)
	assert.Nil(t, out)
}

func TestRetryBackoffDoublesUpToItsCapWithoutOverflowing(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 9: 25600 * time.Millisecond, 10: 30 * time.Second, 40: 30 * time.Second, 1000: 30 * time.Second} {
		assert.Equal(t, want, engine.Backoff(100*time.Millisecond, attempt), "attempt %d", attempt)
	}
}

// hangingLoader's models ignore their context: a call blocks until
// release is closed. It counts loads, closes and calls in progress.
type hangingLoader struct {
	release               chan struct{}
	hang                  func(task int) bool
	loads, closes, active atomic.Int64
	maxActive             atomic.Int64
}

func (l *hangingLoader) Load(context.Context, model.Executor) (model.Model, error) {
	l.loads.Add(1)
	return &hangingModel{l: l}, nil
}

type hangingModel struct{ l *hangingLoader }

func (m *hangingModel) Predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	task, _ := model.TaskFrom(ctx)
	if !m.l.hang(task.Index) {
		return echoID(ctx, in)
	}
	model.Log(ctx, "hanging")
	n := m.l.active.Add(1)
	for {
		old := m.l.maxActive.Load()
		if n <= old || m.l.maxActive.CompareAndSwap(old, n) {
			break
		}
	}
	<-m.l.release // deaf to ctx
	m.l.active.Add(-1)
	return echoID(ctx, in)
}

func (m *hangingModel) Close() error { m.l.closes.Add(1); return nil }

func TestTaskTimeoutEndsTheAttemptOfAModelThatIgnoresItsContext(t *testing.T) {
	l := &hangingLoader{release: make(chan struct{}), hang: func(task int) bool { return task == 1 }}
	defer func() {
		close(l.release)
		// The abandoned instance is closed once its call returns.
		require.Eventually(t, func() bool { return l.closes.Load() == l.loads.Load() }, 10*time.Second, time.Millisecond)
	}()
	out, err := engine.NewClient(l).RunFrame(context.Background(), idFrame(t, 30),
		engine.Options{BatchSize: 10, TaskTimeout: 200 * time.Millisecond, MaxFailedTasks: 1})
	// Run returned while the call still hangs: the attempt ended at its
	// timeout.
	require.ErrorIs(t, err, engine.ErrTaskTimeout)
	require.ErrorIs(t, err, engine.ErrPartial)
	assert.EqualValues(t, 1, l.active.Load(), "the abandoned call is still running")
	assert.Equal(t, append(seq(10), seqFrom(20, 10)...), outputIDs(t, out))
	assert.EqualValues(t, 2, l.loads.Load(), "task 2 ran on a fresh instance")
	assert.EqualValues(t, 1, l.closes.Load(), "only the instance that finished is closed yet")
}

func TestCancelLeavesBehindACallThatIgnoresItsContext(t *testing.T) {
	l := &hangingLoader{release: make(chan struct{}), hang: func(task int) bool { return task == 1 }}
	e, err := engine.NewClient(l).Start(context.Background(), idFrame(t, 30), engine.Options{BatchSize: 10})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return l.active.Load() == 1 }, 10*time.Second, time.Millisecond)
	e.Cancel()
	// Wait returns while the call still hangs, after the grace a model
	// that honours its context would have to return.
	out, err := e.Wait()
	require.ErrorIs(t, err, engine.ErrCancelled)
	assert.EqualValues(t, 1, l.active.Load(), "the abandoned call is still running")
	assert.Zero(t, l.closes.Load(), "the instance is closed only once its call returns")
	assert.Equal(t, seq(10), outputIDs(t, out))
	report := e.Report()
	assert.Equal(t, []engine.Task{{Index: 1, Start: 10, End: 20}, {Index: 2, Start: 20, End: 30}}, report.Incomplete)
	require.Len(t, report.ModelLogs, 1)
	assert.Equal(t, []string{"hanging"}, report.ModelLogs[0].Lines)
	var interrupted []engine.Event
	for ev := range e.Events() {
		if ev.Kind == engine.TaskInterrupted {
			interrupted = append(interrupted, ev)
		}
	}
	require.Len(t, interrupted, 1)
	assert.Equal(t, 1, interrupted[0].Task.Index)
	assert.Equal(t, 1, interrupted[0].Attempt)
	assert.ErrorIs(t, interrupted[0].Err, engine.ErrCancelled)
	assert.Zero(t, e.Status().Running)

	close(l.release)
	require.Eventually(t, func() bool { return l.closes.Load() == 1 }, 10*time.Second, time.Millisecond)
	assert.EqualValues(t, 1, l.loads.Load())
	assert.Len(t, e.Report().ModelLogs, 1, "the call that returned after the run changed nothing")
}

func TestAModelThatEndsItsGoroutineStopsTheRun(t *testing.T) {
	exits := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		if task, _ := model.TaskFrom(ctx); task.Index == 1 {
			runtime.Goexit()
		}
		return echoID(ctx, in)
	})
	done := make(chan error, 1)
	go func() {
		_, err := engine.NewClient(exits).RunFrame(context.Background(), idFrame(t, 30), engine.Options{BatchSize: 10})
		done <- err
	}()
	select {
	case err := <-done:
		require.Error(t, err)
		assert.Contains(t, err.Error(), "runtime.Goexit")
	case <-time.After(10 * time.Second):
		t.Fatal("the run waits for an executor whose goroutine has ended")
	}
}

func TestAbandonedCallsAreBounded(t *testing.T) {
	l := &hangingLoader{release: make(chan struct{}), hang: func(int) bool { return true }}
	e, err := engine.NewClient(l).Start(context.Background(), idFrame(t, 60),
		engine.Options{BatchSize: 10, TaskTimeout: 20 * time.Millisecond, MaxFailedTasks: 6})
	require.NoError(t, err)
	// With one executor, two abandoned calls may hang; the executor then
	// waits for one to return before loading another instance.
	require.Eventually(t, func() bool { return l.active.Load() == 2 }, 10*time.Second, time.Millisecond)
	select {
	case <-e.Done():
		t.Fatal("the run went on past the bound of abandoned calls")
	case <-time.After(100 * time.Millisecond):
	}
	close(l.release)
	_, err = e.Wait()
	require.Error(t, err)
	assert.LessOrEqual(t, l.maxActive.Load(), int64(2))
	require.Eventually(t, func() bool { return l.closes.Load() == l.loads.Load() }, 10*time.Second, time.Millisecond)
}
