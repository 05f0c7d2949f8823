package engine_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeCSV writes rows id,x for ids [from, to) to path.
func writeCSV(t *testing.T, path string, from, to int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,x\n")
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "%d,%g\n", i, float64(i)/2)
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
}

func readAll(t *testing.T, path string) *frame.Frame {
	t.Helper()
	r, err := frame.OpenFile(path, "")
	require.NoError(t, err)
	defer r.Close()
	var parts []*frame.Frame
	for {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		parts = append(parts, f)
	}
	if len(parts) == 0 {
		return frame.Empty(r.Schema())
	}
	all, err := frame.Concat(parts...)
	require.NoError(t, err)
	return all
}

func TestRunFilesScoresAFolderIntoOneOutputPerInputInOrder(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "out")
	writeCSV(t, filepath.Join(src, "a.csv"), 0, 1234)
	writeCSV(t, filepath.Join(src, "b.csv"), 5000, 5007)
	writeCSV(t, filepath.Join(src, "empty.csv"), 0, 0)
	require.NoError(t, os.WriteFile(filepath.Join(src, "notes.txt"), []byte("skipped"), 0o644))

	report, err := engine.NewClient(echoID).RunFiles(context.Background(),
		engine.FileJob{Source: src, Destination: dst, OutputFormat: frame.Parquet},
		engine.Options{BatchSize: 100, Executors: 3})
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(dst, "a.parquet"), filepath.Join(dst, "b.parquet"), filepath.Join(dst, "empty.parquet")}, report.Outputs)
	assert.Equal(t, 13+1, report.Tasks, "a.csv: 13 tasks, b.csv: 1, empty.csv: none")
	assert.Equal(t, 1241, report.RowsOut)
	assert.True(t, report.InputRead)

	a := readAll(t, filepath.Join(dst, "a.parquet"))
	assert.Equal(t, seq(1234), outputIDs(t, a))
	b := readAll(t, filepath.Join(dst, "b.parquet"))
	assert.Equal(t, []int64{5000, 5001, 5002, 5003, 5004, 5005, 5006}, outputIDs(t, b))
	empty := readAll(t, filepath.Join(dst, "empty.parquet"))
	assert.Equal(t, 0, empty.NumRows())
	assert.Equal(t, []string{"id", "score"}, empty.ColumnNames(), "an empty input's output has the run's output columns")
	leftovers, _ := filepath.Glob(filepath.Join(dst, "*.partial"))
	assert.Empty(t, leftovers)
}

func TestRunFilesTaskErrorsNameTheFileAndItsRows(t *testing.T) {
	src := t.TempDir()
	writeCSV(t, filepath.Join(src, "a.csv"), 0, 50)
	writeCSV(t, filepath.Join(src, "b.csv"), 0, 50)
	failing := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		if task, _ := model.TaskFrom(ctx); strings.HasSuffix(task.Source, "b.csv") && task.Start == 20 {
			return nil, fmt.Errorf("bad batch")
		}
		return echoID(ctx, in)
	})
	dst := t.TempDir()
	report, err := engine.NewClient(failing).RunFiles(context.Background(),
		engine.FileJob{Source: src, Destination: dst}, engine.Options{BatchSize: 10, MaxFailedTasks: 1})
	require.ErrorIs(t, err, engine.ErrPartial)
	assert.Equal(t, engine.Partial, report.State)
	require.Len(t, report.Failed, 1)
	assert.Contains(t, report.Failed[0].Error(), "b.csv rows 20-29")
	assert.Equal(t, 90, report.RowsOut)
	// b.csv's output would lack rows 20-29: it is not written.
	assert.Equal(t, []string{filepath.Join(dst, "a.csv")}, report.Outputs)
	assert.NoFileExists(t, filepath.Join(dst, "b.csv"))
}

func TestRunFilesRejectsBadJobs(t *testing.T) {
	src := t.TempDir()
	writeCSV(t, filepath.Join(src, "a.csv"), 0, 5)
	client := engine.NewClient(echoID)
	for _, tc := range []struct {
		name string
		job  engine.FileJob
		opts engine.Options
		want string
	}{
		{"no source", engine.FileJob{Destination: t.TempDir()}, engine.Options{BatchSize: 1}, "FileJob.Source is empty"},
		{"missing source", engine.FileJob{Source: filepath.Join(src, "nope.csv"), Destination: t.TempDir()}, engine.Options{BatchSize: 1}, "nope.csv"},
		{"no destination", engine.FileJob{Source: src}, engine.Options{BatchSize: 1}, "FileJob.Destination is empty"},
		{"empty folder", engine.FileJob{Source: t.TempDir(), Destination: t.TempDir()}, engine.Options{BatchSize: 1}, "has no CSV, Parquet, Arrow or JSON Lines files"},
		{"overwrite input", engine.FileJob{Source: src, Destination: src}, engine.Options{BatchSize: 1}, "would overwrite it"},
		{"file destination for a folder", engine.FileJob{Source: src, Destination: filepath.Join(t.TempDir(), "out.csv")}, engine.Options{BatchSize: 1}, "names a file, but FileJob.Source"},
		{"unordered", engine.FileJob{Source: src, Destination: t.TempDir()}, engine.Options{BatchSize: 1, Unordered: true}, "Unordered does not apply"},
		{"bad batch size", engine.FileJob{Source: src, Destination: t.TempDir()}, engine.Options{}, "Options.BatchSize must be > 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.RunFiles(context.Background(), tc.job, tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestRunFilesReportsAnUnreadableRowByFileAndRow(t *testing.T) {
	src := t.TempDir()
	path := filepath.Join(src, "a.csv")
	writeCSV(t, path, 0, 30)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("30,not-a-number\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = engine.NewClient(echoID).RunFiles(context.Background(), engine.FileJob{Source: src, Destination: t.TempDir()}, engine.Options{BatchSize: 10})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a.csv")
	assert.Contains(t, err.Error(), `"x"`)
}

// sliceReader is a frame.Reader over frames in memory that counts reads.
type sliceReader struct {
	frames []*frame.Frame
	reads  atomic.Int64
}

func (r *sliceReader) Schema() *arrow.Schema { return r.frames[0].Schema() }
func (r *sliceReader) Close() error          { return nil }
func (r *sliceReader) Next() (*frame.Frame, error) {
	i := int(r.reads.Add(1)) - 1
	if i >= len(r.frames) {
		return nil, io.EOF
	}
	return r.frames[i], nil
}

func TestStreamHoldsABoundedWindowAndDeliversInOrder(t *testing.T) {
	const executors, batch = 3, 10
	in := idFrame(t, 1000)
	r := &sliceReader{}
	for start := 0; start < 1000; start += 7 { // chunks that straddle batches
		r.frames = append(r.frames, in.Slice(start, min(start+7, 1000)))
	}
	var delivered atomic.Int64
	var mostAhead int64
	var ids []int64
	slow := model.Func(func(ctx context.Context, f *frame.Frame) (*frame.Frame, error) {
		return echoID(ctx, f)
	})
	e, err := engine.NewClient(slow).Stream(context.Background(), r, engine.Options{BatchSize: batch, Executors: executors}, func(b engine.Batch) error {
		rowsRead := r.reads.Load() * 7
		ahead := rowsRead - (delivered.Load()+1)*batch
		mostAhead = max(mostAhead, ahead)
		ids = append(ids, outputIDs(t, b.Frame)...)
		delivered.Add(1)
		return nil
	})
	require.NoError(t, err)
	out, err := e.Wait()
	require.NoError(t, err)
	assert.Nil(t, out)
	assert.Equal(t, seq(1000), ids)
	assert.LessOrEqual(t, mostAhead, int64((2*executors+1)*batch+7), "rows read ahead of the consumer stay within the window")
	assert.Equal(t, 100, e.Report().Tasks)
	assert.True(t, e.Report().InputRead)
}

func TestStreamConsumerErrorStopsTheRun(t *testing.T) {
	r := &sliceReader{frames: []*frame.Frame{idFrame(t, 100)}}
	e, err := engine.NewClient(echoID).Stream(context.Background(), r, engine.Options{BatchSize: 10, Executors: 2}, func(b engine.Batch) error {
		if b.Task.Index == 3 {
			return fmt.Errorf("disk full")
		}
		return nil
	})
	require.NoError(t, err)
	_, err = e.Wait()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "writing the output of task 3 (rows 30-39): disk full")
	r2 := e.Report()
	assert.Equal(t, 3, r2.Finished)
	assert.Equal(t, 3, r2.Rerun()[0].Index)
}

func TestRunFilesWritesASingleInputToANamedOutputFile(t *testing.T) {
	src := filepath.Join(t.TempDir(), "customers.csv")
	writeCSV(t, src, 0, 25)
	dst := filepath.Join(t.TempDir(), "nested", "scored.arrow")
	report, err := engine.NewClient(echoID).RunFiles(context.Background(), engine.FileJob{Source: src, Destination: dst}, engine.Options{BatchSize: 10})
	require.NoError(t, err)
	assert.Equal(t, []string{dst}, report.Outputs)
	assert.Equal(t, seq(25), outputIDs(t, readAll(t, dst)))

	_, err = engine.NewClient(echoID).RunFiles(context.Background(), engine.FileJob{Source: src, Destination: src}, engine.Options{BatchSize: 10})
	assert.ErrorContains(t, err, "would overwrite it")
}

// TestFolderRunChecksColumnsPerOutput scores a folder whose two files give
// one column different types (a code read as int64 in one, text in the
// other, as a folder of exports from two tools does): each output has its
// own input's columns, where one schema for the whole run stopped at the
// second file.
func TestFolderRunChecksColumnsPerOutput(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "a.csv"), []byte("code,x\n1,0.5\n2,1.5\n3,2.5\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "b.csv"), []byte("code,x\nA1,0.5\nB2,1.5\nC3,2.5\n"), 0o644))
	passCode := model.Func(func(_ context.Context, in *frame.Frame) (*frame.Frame, error) {
		return in.Select("code")
	})
	report, err := engine.NewClient(passCode).RunFiles(context.Background(),
		engine.FileJob{Source: src, Destination: dst}, engine.Options{BatchSize: 2, Executors: 2})
	require.NoError(t, err)
	require.Len(t, report.Outputs, 2)
	a := readAll(t, filepath.Join(dst, "a.csv"))
	b := readAll(t, filepath.Join(dst, "b.csv"))
	assert.Equal(t, arrow.PrimitiveTypes.Int64, a.Schema().Field(0).Type)
	assert.Equal(t, arrow.BinaryTypes.String, b.Schema().Field(0).Type)
	assert.Equal(t, 3, b.NumRows())
}
