package engine_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
)

// writeJSONL writes rows {"id": i, "x": i/2} for ids [from, to) to path.
func writeJSONL(t *testing.T, path string, from, to int) {
	t.Helper()
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, `{"id": %d, "x": %.1f}`+"\n", i, float64(i)/2)
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
}

// TestRunFilesReadsAndWritesJSONLines scores a folder of .jsonl and
// .ndjson files, skipping a .json file, into JSON Lines outputs named
// .jsonl, and a folder into Parquet with OutputFormat named by an alias.
func TestRunFilesReadsAndWritesJSONLines(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "out")
	writeJSONL(t, filepath.Join(src, "a.jsonl"), 0, 123)
	writeJSONL(t, filepath.Join(src, "b.ndjson"), 500, 507)
	require.NoError(t, os.WriteFile(filepath.Join(src, "c.json"), []byte(`[{"id": 1, "x": 1}]`), 0o644))

	// The output's final name appears only once it holds every row.
	watched := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		task, _ := model.TaskFrom(ctx)
		if _, err := os.Stat(filepath.Join(dst, "a.jsonl")); err == nil && strings.HasSuffix(task.Source, "a.jsonl") {
			return nil, fmt.Errorf("a.jsonl exists before its last row is written")
		}
		return echoID(ctx, in)
	})
	report, err := engine.NewClient(watched).RunFiles(context.Background(),
		engine.FileJob{Source: src, Destination: dst}, engine.Options{BatchSize: 10, Executors: 2})
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(dst, "a.jsonl"), filepath.Join(dst, "b.jsonl")}, report.Outputs)
	a := readAll(t, filepath.Join(dst, "a.jsonl"))
	assert.Equal(t, seq(123), outputIDs(t, a))
	score, err := a.Float64Col("score")
	require.NoError(t, err)
	assert.Equal(t, 122.0, score.Value(122))
	text, err := os.ReadFile(filepath.Join(dst, "b.jsonl"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(text), `{"id":500,"score":500.0}`+"\n"), "%s", text)

	parquet := t.TempDir()
	report, err = engine.NewClient(echoID).RunFiles(context.Background(),
		engine.FileJob{Source: src, Destination: parquet, OutputFormat: "PQ"}, engine.Options{BatchSize: 50})
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(parquet, "a.parquet"), filepath.Join(parquet, "b.parquet")}, report.Outputs)

	_, err = engine.NewClient(echoID).RunFiles(context.Background(),
		engine.FileJob{Source: filepath.Join(src, "c.json"), Destination: t.TempDir()}, engine.Options{BatchSize: 50})
	assert.ErrorContains(t, err, "a .json file may instead hold one JSON array")
	_, err = engine.NewClient(echoID).RunFiles(context.Background(),
		engine.FileJob{Source: filepath.Join(src, "c.json"), Destination: t.TempDir(), InputFormat: "ndjson"}, engine.Options{BatchSize: 50})
	assert.ErrorContains(t, err, "c.json: frame: reading "+filepath.Join(src, "c.json")+": row 0: line 1: not a JSON object: byte 1: an array")
}

// TestRunFilesJSONLinesColumnTypesAndRerun reads JSON Lines with
// FileJob.ColumnTypes, which the failed rows read back for a rerun
// (Report.RerunFile) share.
func TestRunFilesJSONLinesColumnTypesAndRerun(t *testing.T) {
	src := filepath.Join(t.TempDir(), "in.jsonl")
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, `{"id": %d, "x": %d, "zip": %d}`+"\n", i, i, 1000+i)
	}
	require.NoError(t, os.WriteFile(src, []byte(b.String()), 0o644))
	types := map[string]arrow.DataType{"x": arrow.PrimitiveTypes.Float64, "zip": arrow.BinaryTypes.String, "note": arrow.BinaryTypes.String}
	failing := model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
		if _, err := in.StringCol("zip"); err != nil {
			return nil, err
		}
		if task, _ := model.TaskFrom(ctx); task.Start == 10 {
			return nil, fmt.Errorf("bad batch")
		}
		return echoID(ctx, in)
	})
	dst := t.TempDir()
	report, err := engine.NewClient(failing).RunFiles(context.Background(),
		engine.FileJob{Source: src, Destination: dst, ColumnTypes: types}, engine.Options{BatchSize: 10, MaxFailedTasks: 1})
	require.ErrorIs(t, err, engine.ErrPartial)
	assert.Empty(t, report.Outputs)
	assert.NoFileExists(t, filepath.Join(dst, "in.jsonl"))
	rows, err := report.RerunFile(src)
	require.NoError(t, err)
	defer rows.Close()
	f, err := rows.Next()
	require.NoError(t, err)
	assert.Equal(t, []string{"id", "x", "zip", "note"}, f.ColumnNames())
	assert.Equal(t, 10, f.RowOffset())
	zip, err := f.StringCol("zip")
	require.NoError(t, err)
	assert.Equal(t, "1010", zip.Value(0))
	_, err = rows.Next()
	assert.ErrorIs(t, err, io.EOF)
}
