package k8s

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// bucket URLs
	"gocloud.dev/gcerrors"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	_ "github.com/dfbatch/dfbatch/frame/parquet" // tasks are staged as Parquet unless Config.Format says otherwise
)

// Keys of a staged execution, under its prefix "<prefix>/<executionID>/".
const (
	jobKey       = "job.json"
	inputDir     = "input/"
	outputDir    = "output/"
	taskKeyFmt   = "task-%06d"
	jobVersion   = 1
	metaStart    = "dfbatch-start"
	metaEnd      = "dfbatch-end"
	metaCSVTypes = "dfbatch-csv-types"
	// maxMetaBytes keeps CSV column types within what every service
	// accepts as user metadata (S3 allows 2 KiB in all).
	maxMetaBytes = 1500
)

// Stage is where one execution's tasks are staged in object storage: the
// client writes the job manifest and each task's input rows, the worker
// running task i reads input i and writes output i, and the client reads
// the outputs back in task order. Its objects are, under the execution's
// prefix "<prefix>/<executionID>/":
//
//	job.json                  the tasks (index, start, end), format, creation time
//	input/task-000042.parquet task 42's input rows
//	output/task-000042.parquet task 42's output rows
//
// with the format's extension. Every object appears whole or not at all: a
// blob write becomes visible only when it completes, and a failed write is
// aborted. A Stage is safe for concurrent use.
type Stage struct {
	bucket *blob.Bucket
	// prefix is the execution's key prefix in bucket, ending in "/".
	prefix string
	format frame.Format

	bucketURL   string
	executionID string
	url         string
}

// OpenStage opens the staging area of execution executionID in the bucket
// that bucketURL names, for data in format ("" means Parquet).
//
// bucketURL is a gocloud.dev/blob URL. Its key prefix is taken as follows:
//
//   - file:// URLs: the path is the bucket's directory (as fileblob reads
//     it), so a prefix inside it is given with the standard "prefix" query
//     parameter, e.g. "file:///var/stage?prefix=runs/".
//   - every other scheme (s3://, gs://, azblob://, mem://...): the host is
//     the bucket, and the path after it, if any, is a key prefix: with
//     "s3://bucket/some/prefix?region=eu-west-1" the objects are under
//     "some/prefix/<executionID>/". The path is removed from the URL before
//     the bucket is opened.
//
// A "prefix" query parameter applies in both cases (gocloud handles it), in
// front of the path prefix. Only the file:// driver is linked in by this
// package; a program that stages elsewhere imports the driver it needs
// (gocloud.dev/blob/s3blob, gcsblob or azureblob) for its side effects.
func OpenStage(ctx context.Context, bucketURL, executionID string, format frame.Format) (*Stage, error) {
	if err := checkExecutionID(executionID); err != nil {
		return nil, err
	}
	if format == "" {
		format = frame.Parquet
	}
	format, err := frame.ParseFormat(string(format))
	if err == nil {
		err = stageable(format)
	}
	if err != nil {
		return nil, fmt.Errorf("k8s: staging format: %w", err)
	}
	bucket, u, pathPrefix, err := openBucket(ctx, bucketURL)
	if err != nil {
		return nil, err
	}
	prefix := executionID + "/"
	if pathPrefix != "" {
		prefix = pathPrefix + "/" + prefix
	}
	s := &Stage{bucket: bucket, prefix: prefix, format: format, bucketURL: bucketURL, executionID: executionID}
	s.url = s.describe(u, pathPrefix)
	return s, nil
}

// openBucket opens the bucket that bucketURL names, as OpenStage describes,
// and returns it with the parsed URL and the path prefix taken from it ("",
// or a prefix without slashes at either end).
func openBucket(ctx context.Context, bucketURL string) (*blob.Bucket, *url.URL, string, error) {
	u, err := url.Parse(bucketURL)
	if err != nil {
		return nil, nil, "", fmt.Errorf("k8s: staging bucket URL %q: %w", bucketURL, err)
	}
	if u.Scheme == "" {
		return nil, nil, "", fmt.Errorf("k8s: staging bucket URL %q has no scheme; want s3://, gs://, azblob:// or file://", bucketURL)
	}
	pathPrefix := ""
	open := *u
	if u.Scheme != "file" {
		pathPrefix = strings.Trim(u.Path, "/")
		open.Path, open.RawPath = "", ""
	}
	bucket, err := blob.OpenBucket(ctx, open.String())
	if err != nil {
		return nil, nil, "", fmt.Errorf("k8s: opening staging bucket %q: %w", bucketURL, err)
	}
	return bucket, u, pathPrefix, nil
}

func checkExecutionID(id string) error {
	switch {
	case id == "":
		return errors.New("k8s: staging needs an execution ID")
	case id == "." || id == "..", strings.ContainsAny(id, "/\\?#"):
		return fmt.Errorf("k8s: execution ID %q cannot name a staging directory: it must not be . or .. nor contain / \\ ? #", id)
	}
	return nil
}

// describe returns a URL that opens the execution's directory as a bucket:
// the bucket URL with the whole key prefix in its "prefix" parameter.
func (s *Stage) describe(u *url.URL, pathPrefix string) string {
	d := *u
	q := d.Query()
	full := q.Get("prefix")
	if pathPrefix != "" {
		full += pathPrefix + "/"
		d.Path, d.RawPath = "", ""
	}
	q.Set("prefix", full+s.executionID+"/")
	d.RawQuery = q.Encode()
	return d.String()
}

// URL returns where the execution's objects live, for messages and
// environment variables: a bucket URL whose "prefix" parameter is the
// execution's key prefix, so that opening it as a bucket gives the
// execution's directory. To open the Stage again, pass OpenStage the
// original bucket URL, which BucketURL returns.
func (s *Stage) URL() string { return s.url }

// BucketURL returns the bucket URL the Stage was opened with.
func (s *Stage) BucketURL() string { return s.bucketURL }

// ExecutionID returns the ID of the staged execution.
func (s *Stage) ExecutionID() string { return s.executionID }

// Format returns the format of the staged inputs and outputs.
func (s *Stage) Format() frame.Format { return s.format }

// Close closes the bucket. It does not remove anything.
func (s *Stage) Close() error {
	if err := s.bucket.Close(); err != nil {
		return fmt.Errorf("k8s: closing staging bucket %s: %w", s.url, err)
	}
	return nil
}

// JobKey returns the key of the job manifest in the bucket. Keys are
// relative to the bucket, including any path prefix of its URL.
func (s *Stage) JobKey() string { return s.prefix + jobKey }

// InputKey returns the key of the input of the task at position slot of
// the job (the Job's completion index). A run's tasks are numbered as the
// engine numbers them, and a resumed run stages only those a checkpoint
// lacks, so a task's slot and its index may differ.
func (s *Stage) InputKey(slot int) string {
	return s.prefix + inputDir + fmt.Sprintf(taskKeyFmt, slot) + s.format.Ext()
}

// OutputKey returns the key of the output of the task at position slot.
func (s *Stage) OutputKey(slot int) string {
	return s.prefix + outputDir + fmt.Sprintf(taskKeyFmt, slot) + s.format.Ext()
}

// manifest is job.json.
type manifest struct {
	Version   int          `json:"version"`
	Execution string       `json:"execution"`
	Format    frame.Format `json:"format"`
	Created   time.Time    `json:"created"`
	Rows      int          `json:"rows"`
	Tasks     []jobTask    `json:"tasks"`
}

type jobTask struct {
	Index  int    `json:"index"`
	Start  int    `json:"start"`
	End    int    `json:"end"`
	Source string `json:"source,omitempty"`
}

// WriteJob writes the manifest: the tasks, in increasing index order, at
// the positions (slots) their objects are staged under, the format and
// the time.
func (s *Stage) WriteJob(ctx context.Context, tasks []engine.Task) error {
	if err := checkTasks(tasks); err != nil {
		return fmt.Errorf("k8s: writing %s: %w", s.objectName(s.JobKey()), err)
	}
	m := manifest{Version: jobVersion, Execution: s.executionID, Format: s.format, Created: time.Now().UTC(), Tasks: make([]jobTask, len(tasks))}
	for i, t := range tasks {
		m.Tasks[i] = jobTask{Index: t.Index, Start: t.Start, End: t.End, Source: t.Source}
		m.Rows += t.Rows()
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("k8s: writing %s: %w", s.objectName(s.JobKey()), err)
	}
	err = s.bucket.WriteAll(ctx, s.JobKey(), append(data, '\n'), &blob.WriterOptions{ContentType: "application/json"})
	if err != nil {
		return fmt.Errorf("k8s: writing %s: %w", s.objectName(s.JobKey()), err)
	}
	return nil
}

// ReadJob reads the manifest's tasks. A manifest written for another format
// or execution is an error.
func (s *Stage) ReadJob(ctx context.Context) ([]engine.Task, error) {
	key := s.JobKey()
	data, err := s.bucket.ReadAll(ctx, key)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, fmt.Errorf("k8s: reading %s: the job manifest does not exist: %w", s.objectName(key), err)
		}
		return nil, fmt.Errorf("k8s: reading %s: %w", s.objectName(key), err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("k8s: reading %s: %w", s.objectName(key), err)
	}
	switch {
	case m.Version != jobVersion:
		return nil, fmt.Errorf("k8s: reading %s: manifest version %d; this build reads version %d", s.objectName(key), m.Version, jobVersion)
	case m.Execution != s.executionID:
		return nil, fmt.Errorf("k8s: reading %s: the manifest is for execution %q", s.objectName(key), m.Execution)
	case m.Format != s.format:
		return nil, fmt.Errorf("k8s: reading %s: the job is staged as %s, not %s", s.objectName(key), m.Format, s.format)
	}
	tasks := make([]engine.Task, len(m.Tasks))
	for i, t := range m.Tasks {
		tasks[i] = engine.Task{Index: t.Index, Start: t.Start, End: t.End, Source: t.Source}
	}
	if err := checkTasks(tasks); err != nil {
		return nil, fmt.Errorf("k8s: reading %s: %w", s.objectName(key), err)
	}
	return tasks, nil
}

func checkTasks(tasks []engine.Task) error {
	for i, t := range tasks {
		if t.Index < 0 || i > 0 && t.Index <= tasks[i-1].Index {
			return fmt.Errorf("%s is at position %d; tasks must be in increasing index order", t, i)
		}
		if t.Start < 0 || t.End < t.Start {
			return fmt.Errorf("task %d has rows [%d, %d), not a row range", t.Index, t.Start, t.End)
		}
	}
	return nil
}

// WriteInput writes the input rows, f, of task t at position slot; f must
// have t.Rows() rows.
func (s *Stage) WriteInput(ctx context.Context, slot int, t engine.Task, f *frame.Frame) error {
	key := s.InputKey(slot)
	if f == nil || f.NumRows() != t.Rows() {
		return fmt.Errorf("k8s: writing the input of %s to %s: %s", t, s.objectName(key), describeRows(f, t))
	}
	md := map[string]string{metaStart: strconv.Itoa(t.Start), metaEnd: strconv.Itoa(t.End)}
	if err := s.write(ctx, key, f, md); err != nil {
		return fmt.Errorf("k8s: writing the input of %s to %s: %w", t, s.objectName(key), err)
	}
	return nil
}

// ReadInput reads the input rows of the task at position slot, numbered
// (RowOffset) from the task's first row in the run's input, so that a
// model's errors name rows as the client numbers them.
func (s *Stage) ReadInput(ctx context.Context, slot int) (*frame.Frame, error) {
	key := s.InputKey(slot)
	f, md, err := s.read(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("k8s: reading the input of the job's task %d from %s: %w", slot, s.objectName(key), err)
	}
	if start, err := strconv.Atoi(md[metaStart]); err == nil {
		f = f.WithRowOffset(start)
	}
	return f, nil
}

// WriteOutput writes the output rows of the task at position slot.
func (s *Stage) WriteOutput(ctx context.Context, slot int, f *frame.Frame) error {
	key := s.OutputKey(slot)
	if f == nil {
		return fmt.Errorf("k8s: writing the output of the job's task %d to %s: nil frame", slot, s.objectName(key))
	}
	if err := s.write(ctx, key, f, nil); err != nil {
		return fmt.Errorf("k8s: writing the output of the job's task %d to %s: %w", slot, s.objectName(key), err)
	}
	return nil
}

// ReadOutput reads the output of task t at position slot, which must have
// t.Rows() rows, numbered (RowOffset) from t.Start.
func (s *Stage) ReadOutput(ctx context.Context, slot int, t engine.Task) (*frame.Frame, error) {
	key := s.OutputKey(slot)
	f, _, err := s.read(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("k8s: reading the output of %s from %s: %w", t, s.objectName(key), err)
	}
	if f.NumRows() != t.Rows() {
		return nil, fmt.Errorf("k8s: reading the output of %s from %s: %s", t, s.objectName(key), describeRows(f, t))
	}
	return f.WithRowOffset(t.Start), nil
}

// HasOutput reports whether the output of the task at position slot
// exists.
func (s *Stage) HasOutput(ctx context.Context, slot int) (bool, error) {
	key := s.OutputKey(slot)
	ok, err := s.bucket.Exists(ctx, key)
	if err != nil {
		return false, fmt.Errorf("k8s: checking for the output of the job's task %d at %s: %w", slot, s.objectName(key), err)
	}
	return ok, nil
}

// Remove deletes every object under the execution's prefix, and nothing
// else. Objects deleted meanwhile by someone else are not an error.
func (s *Stage) Remove(ctx context.Context) error {
	it := s.bucket.List(&blob.ListOptions{Prefix: s.prefix})
	var errs []error
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("listing %s: %w", s.url, err))
			break
		}
		if obj.IsDir {
			continue
		}
		if err := s.bucket.Delete(ctx, obj.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			errs = append(errs, fmt.Errorf("deleting %s: %w", s.objectName(obj.Key), err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("k8s: removing staged execution %s: %w", s.executionID, err)
	}
	return nil
}

// objectName names a key for messages: the key and where its bucket is.
func (s *Stage) objectName(key string) string {
	return fmt.Sprintf("object %q in %s", key, s.bucketURL)
}

// stageable refuses the formats task files are not staged in: those of
// the platform's serialization_format, PARQUET, FEATHER or CSV, are.
func stageable(format frame.Format) error {
	if format == frame.JSONL {
		return fmt.Errorf("%s is not a staging format: stage as parquet, arrow or csv (a run's input and output files may still be JSON Lines)", format)
	}
	return nil
}

func describeRows(f *frame.Frame, t engine.Task) string {
	if f == nil {
		return fmt.Sprintf("no frame, for %d rows", t.Rows())
	}
	return fmt.Sprintf("%d rows for the task's %d", f.NumRows(), t.Rows())
}

func (s *Stage) contentType() string {
	switch s.format {
	case frame.CSV:
		return "text/csv"
	case frame.Arrow:
		return "application/vnd.apache.arrow.file"
	}
	return "application/vnd.apache.parquet"
}

// write writes f to key whole, or not at all: on an error the blob write is
// cancelled before it is closed, which aborts it.
func (s *Stage) write(ctx context.Context, key string, f *frame.Frame, md map[string]string) (err error) {
	if s.format == frame.CSV {
		if types := csvTypes(f.Schema()); types != "" {
			if md == nil {
				md = map[string]string{}
			}
			md[metaCSVTypes] = types
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(ctx, key, &blob.WriterOptions{ContentType: s.contentType(), Metadata: md})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			cancel()
			w.Close()
		}
	}()
	var fw frame.Writer
	switch s.format {
	case frame.CSV:
		fw, err = frame.NewCSVWriter(w, frame.WithSchema(f.Schema()))
	case frame.Arrow:
		fw, err = frame.NewArrowWriter(w, frame.WithSchema(f.Schema()))
	default:
		fw, err = frame.NewParquetWriter(w, frame.WithSchema(f.Schema()))
	}
	if err != nil {
		return err
	}
	if err := fw.Write(f); err != nil {
		fw.Close()
		return err
	}
	if err := fw.Close(); err != nil {
		return err
	}
	return w.Close()
}

// read reads the whole object at key as a frame, with its metadata. A
// staged object holds one task's rows, so it is read into memory, which
// also gives Parquet and Arrow readers the io.ReaderAt they need.
func (s *Stage) read(ctx context.Context, key string) (*frame.Frame, map[string]string, error) {
	r, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, nil, fmt.Errorf("it does not exist: %w", err)
		}
		return nil, nil, err
	}
	data, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return nil, nil, err
	}
	attrs, err := s.bucket.Attributes(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	md := attrs.Metadata
	var fr frame.Reader
	switch s.format {
	case frame.CSV:
		var opts []frame.ReadOption
		if types := parseCSVTypes(md[metaCSVTypes]); len(types) > 0 {
			opts = append(opts, frame.WithColumnTypes(types))
		}
		fr, err = frame.NewCSVReader(bytes.NewReader(data), opts...)
	case frame.Arrow:
		fr, err = frame.NewArrowReader(bytes.NewReader(data), int64(len(data)))
	default:
		fr, err = frame.NewParquetReader(bytes.NewReader(data), int64(len(data)))
	}
	if err != nil {
		return nil, nil, err
	}
	f, err := frame.ReadAll(fr)
	if err != nil {
		return nil, nil, err
	}
	return f, md, nil
}

// csvTypeNames are the column types a CSV object records in its metadata, so
// that it reads back with them rather than with inferred ones (a task whose
// string codes all look like numbers would otherwise read back as int64).
var csvTypeNames = func() map[string]arrow.DataType {
	m := map[string]arrow.DataType{}
	for _, t := range []arrow.DataType{
		arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64,
		arrow.PrimitiveTypes.Uint8, arrow.PrimitiveTypes.Uint16, arrow.PrimitiveTypes.Uint32, arrow.PrimitiveTypes.Uint64,
		arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Float64,
		arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.FixedWidthTypes.Boolean,
	} {
		m[t.String()] = t
	}
	return m
}()

// csvTypes encodes the schema's column types, ASCII only, or returns ""
// when a type has no entry in csvTypeNames or the encoding is too long.
func csvTypes(schema *arrow.Schema) string {
	pairs := make([][2]string, schema.NumFields())
	for i, f := range schema.Fields() {
		if _, ok := csvTypeNames[f.Type.String()]; !ok {
			return ""
		}
		pairs[i] = [2]string{f.Name, f.Type.String()}
	}
	data, err := json.Marshal(pairs)
	if err != nil {
		return ""
	}
	enc := url.QueryEscape(string(data))
	if len(enc) > maxMetaBytes {
		return ""
	}
	return enc
}

func parseCSVTypes(enc string) map[string]arrow.DataType {
	if enc == "" {
		return nil
	}
	data, err := url.QueryUnescape(enc)
	if err != nil {
		return nil
	}
	var pairs [][2]string
	if json.Unmarshal([]byte(data), &pairs) != nil {
		return nil
	}
	types := make(map[string]arrow.DataType, len(pairs))
	for _, p := range pairs {
		t, ok := csvTypeNames[p[1]]
		if !ok {
			return nil
		}
		types[p[0]] = t
	}
	return types
}
