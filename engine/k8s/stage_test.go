package k8s

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/memblob"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
)

// fileBucketURL returns a file:// bucket URL of a fresh directory.
func fileBucketURL(t *testing.T) string {
	t.Helper()
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(t.TempDir())}).String()
}

// stageFrame is 37 rows of an int64, a float64 and a string column.
func stageFrame(t *testing.T) *frame.Frame {
	t.Helper()
	const n = 37
	ids := make([]int64, n)
	scores := make([]float64, n)
	// Codes that look like integers: CSV must still read them as strings.
	codes := make([]string, n)
	for i := range n {
		ids[i] = int64(1000 + i)
		scores[i] = float64(i)*1.25 - 3
		codes[i] = fmt.Sprintf("%03d", i)
	}
	codes[5] = "x,\"quoted\"\nline"
	f, err := frame.New(frame.Int64s("id", ids), frame.Float64s("score", scores), frame.Strings("code", codes))
	require.NoError(t, err)
	return f
}

func openStage(t *testing.T, bucketURL, id string, format frame.Format) *Stage {
	t.Helper()
	s, err := OpenStage(context.Background(), bucketURL, id, format)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// requireSameFrame checks columns, types and values, cell by cell.
func requireSameFrame(t *testing.T, want, got *frame.Frame) {
	t.Helper()
	require.Equal(t, want.NumRows(), got.NumRows(), "rows")
	require.Equal(t, want.ColumnNames(), got.ColumnNames(), "columns")
	for i := range want.NumCols() {
		require.True(t, arrow.TypeEqual(want.Column(i).DataType(), got.Column(i).DataType()),
			"column %s: %s, want %s", want.ColumnNames()[i], got.Column(i).DataType(), want.Column(i).DataType())
		for r := range want.NumRows() {
			require.Equal(t, want.Column(i).GetOneForMarshal(r), got.Column(i).GetOneForMarshal(r),
				"column %s row %d", want.ColumnNames()[i], r)
		}
	}
}

// stageKeys lists every key under prefix in the bucket at bucketURL.
func stageKeys(t *testing.T, bucketURL, prefix string) []string {
	t.Helper()
	ctx := context.Background()
	b, err := blob.OpenBucket(ctx, bucketURL)
	require.NoError(t, err)
	defer b.Close()
	var keys []string
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		keys = append(keys, obj.Key)
	}
	return keys
}

func TestStageOnAFileBucketRoundTripsTasks(t *testing.T) {
	for _, format := range []frame.Format{frame.Parquet, frame.CSV, frame.Arrow} {
		t.Run(string(format), func(t *testing.T) {
			ctx := context.Background()
			bucketURL := fileBucketURL(t)
			in := stageFrame(t)
			tasks := engine.Plan(in.NumRows(), 10)
			require.Len(t, tasks, 4)

			client := openStage(t, bucketURL, "exec-1", format)
			require.NoError(t, client.WriteJob(ctx, tasks))
			for _, task := range tasks {
				require.NoError(t, client.WriteInput(ctx, task.Index, task, in.Slice(task.Start, task.End)))
			}

			// A worker opens the stage on its own and finds its rows.
			worker := openStage(t, bucketURL, "exec-1", format)
			got, err := worker.ReadJob(ctx)
			require.NoError(t, err)
			assert.Equal(t, tasks, got)
			for _, task := range got {
				part, err := worker.ReadInput(ctx, task.Index)
				require.NoError(t, err)
				assert.Equal(t, task.Start, part.RowOffset(), "input of %s is numbered from its first row", task)
				requireSameFrame(t, in.Slice(task.Start, task.End), part)
				has, err := worker.HasOutput(ctx, task.Index)
				require.NoError(t, err)
				assert.False(t, has)
				require.NoError(t, worker.WriteOutput(ctx, task.Index, part))
			}

			outs := make([]*frame.Frame, len(tasks))
			for _, task := range tasks {
				has, err := client.HasOutput(ctx, task.Index)
				require.NoError(t, err)
				assert.True(t, has)
				outs[task.Index], err = client.ReadOutput(ctx, task.Index, task)
				require.NoError(t, err)
				assert.Equal(t, task.Start, outs[task.Index].RowOffset())
			}
			whole, err := frame.Concat(outs...)
			require.NoError(t, err)
			requireSameFrame(t, in, whole)

			ext := format.Ext()
			assert.ElementsMatch(t, []string{
				"exec-1/job.json",
				"exec-1/input/task-000000" + ext, "exec-1/input/task-000001" + ext,
				"exec-1/input/task-000002" + ext, "exec-1/input/task-000003" + ext,
				"exec-1/output/task-000000" + ext, "exec-1/output/task-000001" + ext,
				"exec-1/output/task-000002" + ext, "exec-1/output/task-000003" + ext,
			}, stageKeys(t, bucketURL, ""))
		})
	}
}

func TestStageOnAFileBucketRemovesOnlyItsExecution(t *testing.T) {
	ctx := context.Background()
	bucketURL := fileBucketURL(t)
	in := stageFrame(t)
	tasks := engine.Plan(in.NumRows(), 10)
	for _, id := range []string{"exec-1", "exec-10", "exec-2"} {
		s := openStage(t, bucketURL, id, frame.Parquet)
		require.NoError(t, s.WriteJob(ctx, tasks))
		for _, task := range tasks {
			require.NoError(t, s.WriteInput(ctx, task.Index, task, in.Slice(task.Start, task.End)))
			require.NoError(t, s.WriteOutput(ctx, task.Index, in.Slice(task.Start, task.End)))
		}
	}

	require.NoError(t, openStage(t, bucketURL, "exec-1", frame.Parquet).Remove(ctx))

	assert.Empty(t, stageKeys(t, bucketURL, "exec-1/"))
	assert.Len(t, stageKeys(t, bucketURL, "exec-10/"), 9, "exec-10 shares exec-1's name as a prefix but not its directory")
	assert.Len(t, stageKeys(t, bucketURL, "exec-2/"), 9)
	_, err := openStage(t, bucketURL, "exec-1", frame.Parquet).ReadJob(ctx)
	require.Error(t, err)
	assert.ErrorContains(t, err, `"exec-1/job.json"`)
}

func TestStageOnAFileBucketNamesTheTaskAndKeyOfAMissingOutput(t *testing.T) {
	ctx := context.Background()
	s := openStage(t, fileBucketURL(t), "exec-1", frame.Parquet)
	task := engine.Task{Index: 3, Start: 30, End: 37}

	_, err := s.ReadOutput(ctx, task.Index, task)
	require.Error(t, err)
	assert.ErrorContains(t, err, "task 3 (rows 30-36)")
	assert.ErrorContains(t, err, `"exec-1/output/task-000003.parquet"`)
	assert.ErrorContains(t, err, "does not exist")

	_, err = s.ReadInput(ctx, 3)
	require.Error(t, err)
	assert.ErrorContains(t, err, "task 3")
	assert.ErrorContains(t, err, `"exec-1/input/task-000003.parquet"`)
}

func TestStageOnAFileBucketRefusesAnOutputOfTheWrongLength(t *testing.T) {
	ctx := context.Background()
	s := openStage(t, fileBucketURL(t), "exec-1", frame.Arrow)
	in := stageFrame(t)
	task := engine.Task{Index: 1, Start: 10, End: 20}

	err := s.WriteInput(ctx, task.Index, task, in.Slice(0, 5))
	require.Error(t, err)
	assert.ErrorContains(t, err, "task 1 (rows 10-19)")
	assert.ErrorContains(t, err, "5 rows for the task's 10")

	require.NoError(t, s.WriteOutput(ctx, 1, in.Slice(0, 5)))
	_, err = s.ReadOutput(ctx, task.Index, task)
	require.Error(t, err)
	assert.ErrorContains(t, err, "task 1 (rows 10-19)")
	assert.ErrorContains(t, err, `"exec-1/output/task-000001.arrow"`)
}

func TestStageOnAFileBucketWithAPrefixParameterStagesUnderIt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	bucketURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir), RawQuery: "prefix=runs/nightly/"}).String()
	in := stageFrame(t)
	tasks := engine.Plan(in.NumRows(), 10)

	s := openStage(t, bucketURL, "exec-1", frame.CSV)
	require.NoError(t, s.WriteJob(ctx, tasks))
	require.NoError(t, s.WriteInput(ctx, tasks[2].Index, tasks[2], in.Slice(20, 30)))

	_, err := os.Stat(filepath.Join(dir, "runs", "nightly", "exec-1", "job.json"))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "runs", "nightly", "exec-1", "input", "task-000002.csv"))
	require.NoError(t, err)

	got, err := openStage(t, bucketURL, "exec-1", frame.CSV).ReadInput(ctx, 2)
	require.NoError(t, err)
	requireSameFrame(t, in.Slice(20, 30), got)

	// URL opens the execution's directory as a bucket.
	assert.Contains(t, s.URL(), "prefix=runs%2Fnightly%2Fexec-1%2F")
	assert.ElementsMatch(t, []string{"job.json", "input/task-000002.csv"}, stageKeys(t, s.URL(), ""))
}

func TestStageOnAMemoryBucketTakesTheURLPathAsAPrefix(t *testing.T) {
	ctx := context.Background()
	s := openStage(t, "mem://bucket/some/prefix/", "exec-1", frame.Parquet)
	assert.Equal(t, "some/prefix/exec-1/job.json", s.JobKey())
	assert.Equal(t, "some/prefix/exec-1/output/task-000042.parquet", s.OutputKey(42))
	assert.Equal(t, "mem://bucket?prefix=some%2Fprefix%2Fexec-1%2F", s.URL())

	tasks := engine.Plan(37, 10)
	require.NoError(t, s.WriteJob(ctx, tasks))
	got, err := s.ReadJob(ctx)
	require.NoError(t, err)
	assert.Equal(t, tasks, got)
}

func TestStageOnAFileBucketRefusesAJobOfAnotherFormat(t *testing.T) {
	ctx := context.Background()
	bucketURL := fileBucketURL(t)
	require.NoError(t, openStage(t, bucketURL, "exec-1", frame.CSV).WriteJob(ctx, engine.Plan(37, 10)))

	_, err := openStage(t, bucketURL, "exec-1", frame.Parquet).ReadJob(ctx)
	require.Error(t, err)
	assert.ErrorContains(t, err, "staged as csv, not parquet")
}

func TestOpenStageRefusesBadArguments(t *testing.T) {
	ctx := context.Background()
	bucketURL := fileBucketURL(t)
	for name, tc := range map[string]struct{ url, id, format, want string }{
		"no execution ID":   {bucketURL, "", "parquet", "needs an execution ID"},
		"a slash in the ID": {bucketURL, "a/b", "parquet", `execution ID "a/b"`},
		"a dot-dot ID":      {bucketURL, "..", "parquet", `execution ID ".."`},
		"an unknown format": {bucketURL, "e", "xlsx", "unknown format"},
		"JSON Lines":        {bucketURL, "e", "ndjson", "jsonl is not a staging format: stage as parquet, arrow or csv"},
		"no scheme":         {"/tmp/x", "e", "parquet", "has no scheme"},
		"an unknown scheme": {"nosuch://b", "e", "parquet", `opening staging bucket "nosuch://b"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := OpenStage(ctx, tc.url, tc.id, frame.Format(tc.format))
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestStageOnAFileBucketLeavesNoObjectForACancelledWrite(t *testing.T) {
	s := openStage(t, fileBucketURL(t), "exec-1", frame.Parquet)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	err := s.WriteOutput(ctx, 0, stageFrame(t))
	require.Error(t, err)
	assert.ErrorContains(t, err, `"exec-1/output/task-000000.parquet"`)
	has, err := s.HasOutput(context.Background(), 0)
	require.NoError(t, err)
	assert.False(t, has)
}

func TestPutModelUploadsOnceByContentAndFetchModelGetsItBack(t *testing.T) {
	ctx := context.Background()
	bucket := fileBucketURL(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "churn.onnx")
	require.NoError(t, os.WriteFile(path, []byte("model bytes v1"), 0o644))
	key, err := PutModel(ctx, bucket, path)
	require.NoError(t, err)
	assert.Regexp(t, `^models/[0-9a-f]{16}/churn\.onnx$`, key)
	again, err := PutModel(ctx, bucket, path)
	require.NoError(t, err)
	assert.Equal(t, key, again)

	require.NoError(t, os.WriteFile(path, []byte("model bytes v2"), 0o644))
	changed, err := PutModel(ctx, bucket, path)
	require.NoError(t, err)
	assert.NotEqual(t, key, changed, "another model gets another key")

	got, err := FetchModel(ctx, bucket, key, t.TempDir())
	require.NoError(t, err)
	data, err := os.ReadFile(got)
	require.NoError(t, err)
	assert.Equal(t, "model bytes v1", string(data))

	_, err = FetchModel(ctx, bucket, "models/0000000000000000/missing.onnx", t.TempDir())
	assert.ErrorContains(t, err, `object "models/0000000000000000/missing.onnx"`)
}
