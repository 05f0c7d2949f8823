package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/dfbatch/dfbatch/model/registry"
	"github.com/dfbatch/dfbatch/model/subprocess"
)

// tasksFailedError is a run that stopped because tasks failed. Its message
// only counts them: the failed tasks' errors, which can hold a pod's log
// lines, are printed one per task before it.
type tasksFailedError struct {
	failed, rerun int
	err           error
}

func (t tasksFailedError) Error() string {
	return fmt.Sprintf("%s failed (listed above), %s to re-run", plural(t.failed, "task"), plural(t.rerun, "task"))
}

func (t tasksFailedError) Unwrap() error { return t.err }

// interruptedError is a run stopped by SIGINT or SIGTERM.
type interruptedError struct{ error }

func (i interruptedError) Unwrap() error { return i.error }

// keyValues collects repeated k=v flags.
type keyValues map[string]string

func (kv keyValues) String() string { return fmt.Sprint(map[string]string(kv)) }

func (kv keyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	kv[k] = v
	return nil
}

// keepIndexUsage is --keep-index's help, in run and worker.
const keepIndexUsage = "copy the input's pandas index next to the predictions, first: the unnamed first column of a CSV pandas wrote (read_csv(..., index_col=0) restores it), or the index column a Parquet or Feather file's pandas metadata names (__index_level_0__ or the index's name)"

// list parses comma-separated names.
type list []string

func (l *list) String() string { return strings.Join(*l, ",") }

func (l *list) Set(s string) error {
	for _, name := range strings.Split(s, ",") {
		if name = strings.TrimSpace(name); name != "" {
			*l = append(*l, name)
		}
	}
	return nil
}

func runCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dfbatch run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		modelPath = fs.String("model", "", "ONNX model file")
		command   = fs.String("command", "", `a model in any language: the command line of a process per executor speaking dfbatch's protocol, e.g. "python3 predict.py" (model/subprocess); a python3 or python that starts it is $DFBATCH_PYTHON where that is set; with --cloud it runs in the pods, its paths the image's`)
		cmdFormat = fs.String("command-format", "", "--command: payload format, arrow or csv (default: the process's first choice)")
		modelID   = fs.String("model-id", "", "model id in the model store ($DFBATCH_MODEL_STORE, default ./models); default $DFBATCH_MODEL_ID")
		buildID   = fs.String("build-id", "", "build of --model-id (default: the latest)")
		input     = fs.String("input", "", "input file or folder of CSV, Parquet, Arrow or JSON Lines (.jsonl, .ndjson) files")
		output    = fs.String("output", "", "output folder, or output file for a single input file")
		format    = fs.String("format", "", "output format: csv, parquet, arrow or jsonl (default: the input's)")
		batch     = fs.Int("batch-size", 0, "rows per task (required)")
		executors = fs.Int("executors", 0, "tasks at once (default 1)")
		cpus      = fs.Float64("cpus", 0, "threads per executor (default 1)")
		memory    = fs.Int("memory", 0, "memory budget per executor, MiB (default: none)")
		instance  = fs.String("instance", "", "size preset instead of --cpus/--memory: tiny, small, medium, large, xlarge")
		gpus      = fs.Int("gpus", 0, "GPUs per executor (needs a binary built with -tags cuda; default: none)")
		gpuType   = fs.String("gpu-type", "", "the GPUs' type, matched against their names: h100, a10g, ... (default: any)")
		taskTO    = fs.Duration("task-timeout", 0, "time limit per task attempt, e.g. 30s (default: none)")
		jobTO     = fs.Duration("job-timeout", 0, "time limit for the whole run, e.g. 1h (default: none)")
		retries   = fs.Int("retries", 0, "times a failed task is tried again")
		iamRole   = fs.String("iam-role-arn", "", "--cloud: the IAM role the pods run as (a service account annotated with it)")
		maxFailed = fs.Int("max-failed-tasks", 0, "failed tasks tolerated before the run stops")
		runtime   = fs.String("runtime", "", "what runs the model: go (pure Go) or onnxruntime (ONNX Runtime's library, see --ort-lib); default go, or the deployment's")
		ortLib    = fs.String("ort-lib", "", "ONNX Runtime's shared library (libonnxruntime.so) for --runtime onnxruntime (default $"+onnx.ORTLibraryEnv+"; bench/peers/setup.sh installs one)")
		params    = keyValues{}
		outputs   = keyValues{}
		features  list
		keep      list
		columns   list
	)
	fs.Var(params, "param", "a parameter the model sees, key=value (repeatable)")
	fs.Var(outputs, "rename", "rename a model output column, onnx_name=column (repeatable)")
	fs.Var(&features, "features", "feature columns in the model's input order, comma-separated")
	fs.Var(&keep, "keep-columns", "input columns to copy next to the predictions, comma-separated")
	keepIndex := fs.Bool("keep-index", false, keepIndexUsage)
	fs.Var(&columns, "output-columns", "model output columns to write (after --rename), comma-separated; default all")
	compression := fs.String("compression", "", "the outputs' compression: for Parquet snappy (default), zstd, gzip, lz4, brotli or none; for Arrow lz4, zstd or none (default)")
	rowGroup := fs.Int("row-group-size", 0, "the most rows in a Parquet output's row group (default: about a million, or 64 MiB)")
	inFormat := fs.String("input-format", "", "read every input in this format whatever its extension: csv, parquet, arrow (Arrow IPC file or stream) or jsonl (a .json file of JSON Lines) (default: by extension)")
	delimiter, thousands, decimal := separator{refused: delimiterRefuses}, separator{refused: numberRefuses}, separator{refused: numberRefuses}
	fs.Var(&delimiter, "delimiter", `the field delimiter of CSV inputs: one character, or "tab" (default: sniffed from each file's first lines among , ; tab and |)`)
	fs.Var(&thousands, "thousands", `the character grouping the digits of numbers in CSV inputs, e.g. , for "1,234" or . for a European "1.234,5" (default: none)`)
	fs.Var(&decimal, "decimal", `the character before the fraction of numbers in CSV inputs, e.g. , for a European "3,75" (default: .)`)
	dtypes := columnTypes{}
	fs.Var(dtypes, "dtype", "a CSV or JSON Lines column's type instead of the inferred one, column=type (string, int64, float64, float32, bool, date, timestamp, ...), comma-separated or repeated: --dtype zip=string keeps 01234's zero")
	var na naValues
	fs.Var(&na, "na-values", `the cells of CSV inputs read as missing values, comma-separated, instead of pandas' defaults ("", NA, NaN, nan, null, None, <NA>, #N/A, N/A, ...): --na-values= leaves only empty cells missing, --na-values=,- adds "-" to them (repeatable)`)
	var (
		resume     = fs.Bool("resume", false, "continue the interrupted run of the same job (a crash, kill -9, Ctrl-C, failed tasks) from its checkpoint: outputs already written are kept and only the missing rows are scored")
		checkpoint = fs.Bool("checkpoint", true, "keep a checkpoint of what was scored beside the outputs until every output is written, for --resume (--checkpoint=false saves writing each output twice)")
		failedRows = fs.String("failed-rows", "", "where to write the input rows of failed tasks: a file for one input, a folder for a folder of inputs (default: beside the output, <output>.failed-rows.<ext> or <output>/failed-rows/)")
	)
	cloud := cloudFlags{}
	cloud.register(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	case *modelPath != "" && (*modelID != "" || *buildID != ""):
		return usageError{errors.New("--model and --model-id/--build-id are exclusive: a file, or a model from the store")}
	case *command != "" && (*modelPath != "" || *modelID != "" || *buildID != ""):
		return usageError{errors.New("--command and --model/--model-id are exclusive: a process, an ONNX file or a model from the store")}
	case *resume && !*checkpoint:
		return usageError{errors.New("--resume continues from a checkpoint; it cannot go with --checkpoint=false")}
	case *input == "":
		return usageError{errors.New("--input is required")}
	case *output == "":
		return usageError{errors.New("--output is required")}
	}
	rt, err := onnx.ParseRuntime(*runtime)
	if err != nil {
		return usageError{fmt.Errorf("--runtime: %w", err)}
	}
	var outFormat frame.Format
	if *format != "" {
		f, err := frame.ParseFormat(*format)
		if err != nil {
			return usageError{fmt.Errorf("--format: %w", err)}
		}
		outFormat = f
	}
	var (
		spec     modelSpec
		deployed engine.Options
	)
	switch {
	case *command != "":
		if len(features) > 0 || len(outputs) > 0 || len(columns) > 0 || *runtime != "" {
			return usageError{errors.New("--features, --rename, --output-columns and --runtime bind ONNX models; a --command model gets every column")}
		}
		payload, err := subprocess.ParseFormat(*cmdFormat)
		if err != nil {
			return usageError{fmt.Errorf("--command-format: %w", err)}
		}
		spec = modelSpec{command: *command, commandFormat: payload, keep: keep, keepIndex: *keepIndex}
	case *modelPath != "":
		spec = modelSpec{path: *modelPath, features: features, outputs: outputs, columns: columns, keep: keep, keepIndex: *keepIndex, runtime: rt, ortLib: *ortLib}
	default:
		d, err := registry.Resolve(*modelID, *buildID)
		if err != nil {
			return usageError{fmt.Errorf("%w (or name a model file with --model)", err)}
		}
		if len(columns) > 0 {
			return usageError{errors.New("--output-columns goes with --model; a deployment names its outputs in deployment.json")}
		}
		// Flags given on the command line override the deployment's.
		spec = modelSpec{path: d.ModelPath, features: d.Config.Features, outputs: d.Config.Outputs, keep: d.Config.KeepColumns, runtime: d.Config.Runtime, ortLib: *ortLib,
			config: filepath.Join(d.Dir, registry.DeploymentFile)}
		if len(features) > 0 {
			spec.features = features
		}
		if len(outputs) > 0 {
			spec.outputs = outputs
		}
		if len(keep) > 0 {
			spec.keep = keep
		}
		spec.keepIndex = *keepIndex
		if *runtime != "" {
			spec.runtime = rt
		}
		deployed = deployedOptions(d)
	}
	l, err := spec.loader()
	if err != nil {
		return usageError{err}
	}
	job := engine.FileJob{Source: *input, Destination: *output, OutputFormat: outFormat, NAValues: na.list(), Resume: *resume, NoCheckpoint: !*checkpoint}
	if len(dtypes) > 0 {
		job.ColumnTypes = dtypes
	}
	job.Delimiter, job.Thousands, job.Decimal = delimiter.r, thousands.r, decimal.r
	if job.Thousands != 0 && job.Thousands == cmp.Or(job.Decimal, '.') {
		return usageError{fmt.Errorf("--thousands %q is also the decimal separator: set another with --decimal", job.Thousands)}
	}
	if *inFormat != "" {
		if job.InputFormat, err = frame.ParseFormat(*inFormat); err != nil {
			return usageError{fmt.Errorf("--input-format: %w", err)}
		}
	}
	job.Compression, job.RowGroupRows = *compression, *rowGroup
	if *checkpoint {
		if job.Fingerprint, err = fingerprint(spec); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := engine.Options{
		BatchSize: *batch, Executors: *executors, CPUs: *cpus, Memory: *memory, Instance: *instance,
		GPUs: *gpus, GPUType: *gpuType, Parameters: params, TaskTimeout: *taskTO, JobTimeout: *jobTO, Retries: *retries, MaxFailedTasks: *maxFailed,
		IAMRoleARN: *iamRole,
	}
	client := engine.NewClient(l, engine.WithDefaults(deployed))
	namespace := ""
	if cloud.enabled {
		if client, namespace, err = cloud.client(ctx, l, spec, deployed, stderr); err != nil {
			return err
		}
		opts.Cloud = true
	}
	announceCheckpoint(job, stderr)
	e, err := client.StartFiles(ctx, job, opts)
	if err != nil {
		return usageError{err}
	}
	if cloud.enabled {
		fmt.Fprintf(stderr, "execution %s: Job %s in namespace %s\n", e.ID(), jobName(e.ID()), namespace)
	}
	progress := newProgress(stderr)
	progress.expectRows = countCSVRows(*input)
	progress.follow(e)
	_, err = e.Wait()
	report := e.Report()
	progress.done(report)
	// The outputs that hold every row are usable: say which they are.
	for _, path := range report.Outputs {
		fmt.Fprintln(stdout, path)
	}
	if err == nil {
		return nil
	}
	return explainFailure(err, report, job, *failedRows, ctx.Err() != nil, stderr)
}

// announceCheckpoint says what becomes of an interrupted run's checkpoint:
// continued with --resume, discarded without.
func announceCheckpoint(job engine.FileJob, stderr io.Writer) {
	dir, exists := job.Checkpoint()
	switch {
	case job.Resume && !exists:
		fmt.Fprintf(stderr, "no checkpoint to resume in %s: scoring from the start\n", dir)
	case !job.Resume && exists:
		fmt.Fprintf(stderr, "discarding the checkpoint of an interrupted run in %s (--resume would continue it)\n", dir)
	}
}

// explainFailure tells the user what a run that ended without all of its
// output did: every failed task with its file and rows, the rows that are
// not done, where the rows to re-run were written, and how to resume.
func explainFailure(err error, report engine.Report, job engine.FileJob, failedRows string, interrupted bool, stderr io.Writer) error {
	for _, f := range report.Failed {
		fmt.Fprintf(stderr, "failed: %v\n", f)
		printModelLog(stderr, report, f)
	}
	for _, span := range notDone(report) {
		fmt.Fprintf(stderr, "not done: %s\n", span)
	}
	var written []string
	if len(report.Failed) > 0 {
		var werr error
		written, werr = writeFailedRows(report, job, failedRows)
		if werr != nil {
			fmt.Fprintf(stderr, "dfbatch: writing the failed tasks' rows: %v\n", werr)
		}
		for _, path := range written {
			fmt.Fprintf(stderr, "rows to re-run written to %s\n", path)
		}
	}
	if report.Checkpoint != "" {
		fmt.Fprintf(stderr, "checkpoint kept in %s: the same command with --resume scores only the missing rows\n", report.Checkpoint)
	}
	switch {
	case len(report.Failed) > 0:
		return tasksFailedError{failed: len(report.Failed), rerun: len(report.Rerun()), err: err}
	case interrupted:
		return interruptedError{err}
	}
	return err
}

// notDone describes the tasks of a stopped run that neither finished nor
// failed, and the input never read, as row ranges per file: contiguous
// tasks are merged, so a run stopped early prints a line, not thousands.
func notDone(r engine.Report) []string {
	type span struct {
		source     string
		start, end int
		tasks      int
	}
	var spans []span
	for _, t := range r.Incomplete {
		if n := len(spans); n > 0 && spans[n-1].source == t.Source && spans[n-1].end == t.Start {
			spans[n-1].end, spans[n-1].tasks = t.End, spans[n-1].tasks+1
			continue
		}
		spans = append(spans, span{t.Source, t.Start, t.End, 1})
	}
	var lines []string
	for _, s := range spans {
		where := "rows"
		if s.source != "" {
			where = s.source + " rows"
		}
		lines = append(lines, fmt.Sprintf("%s %d-%d (%s)", where, s.start, s.end-1, plural(s.tasks, "task")))
	}
	for _, f := range r.Files {
		switch {
		case f.Written || f.ReadAll:
		case f.RowsRead == 0:
			lines = append(lines, f.Input+": never read")
		default:
			lines = append(lines, fmt.Sprintf("%s rows %d to the end: never read", f.Input, f.RowsRead))
		}
	}
	return lines
}

// plural is "1 task", "2 tasks".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// writeFailedRows writes the rows a resumed run would score, read back
// from the inputs, to path: a file for a single input, a folder of files
// named as the inputs otherwise. Each file is renamed into place only once
// complete. It returns the files written.
func writeFailedRows(r engine.Report, job engine.FileJob, path string) ([]string, error) {
	var pending []engine.FileResult
	for _, f := range r.Files {
		if !f.Written {
			pending = append(pending, f)
		}
	}
	if len(pending) == 0 {
		return nil, nil
	}
	folder := len(r.Files) > 1 || isDir(job.Source)
	if path == "" {
		if folder {
			path = filepath.Join(job.Destination, "failed-rows")
		} else {
			out := r.Files[0].Output
			path = strings.TrimSuffix(out, filepath.Ext(out)) + ".failed-rows" + filepath.Ext(r.Files[0].Input)
		}
	}
	var written []string
	for _, f := range pending {
		target := path
		if folder {
			if err := os.MkdirAll(path, 0o755); err != nil {
				return written, err
			}
			target = filepath.Join(path, filepath.Base(f.Input))
		}
		format, err := frame.FormatOf(target)
		if err != nil {
			format = f.Format // a target without a known extension
		}
		n, err := copyRerunRows(r, f.Input, target, format)
		if err != nil {
			return written, err
		}
		if n > 0 {
			written = append(written, target)
		}
	}
	return written, nil
}

// copyRerunRows copies an input's rows to re-run to target, and returns
// how many there were; none, no file.
func copyRerunRows(r engine.Report, input, target string, format frame.Format) (int, error) {
	rows, err := r.RerunFile(input)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	partial := filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".partial")
	w, err := frame.CreateFile(partial, format)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		f, err := rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			err = w.Write(f)
		}
		if err != nil {
			w.Close()
			os.Remove(partial)
			return 0, err
		}
		n += f.NumRows()
	}
	if err := w.Close(); err != nil || n == 0 {
		os.Remove(partial)
		return 0, err
	}
	return n, os.Rename(partial, target)
}

func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

// fingerprint names what the outputs depend on besides the inputs and the
// run's options, so that --resume refuses another model: the model file's
// digest and its binding, or the --command line.
func fingerprint(spec modelSpec) (map[string]string, error) {
	fp := map[string]string{"binding": strings.Join(spec.bindingArgs(), " ")}
	if spec.command != "" {
		return fp, nil
	}
	f, err := os.Open(spec.path)
	if err != nil {
		return nil, usageError{err}
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("reading %s: %w", spec.path, err)
	}
	fp["model"] = "sha256:" + hex.EncodeToString(h.Sum(nil))
	return fp, nil
}

// modelLogLines is how many of a failed task's model log lines the CLI
// prints.
const modelLogLines = 10

// printModelLog prints the end of what the model logged in a failed task's
// last attempt (Report.ModelLogs), such as a Python traceback.
func printModelLog(w io.Writer, r engine.Report, f *engine.TaskError) {
	for i := len(r.ModelLogs) - 1; i >= 0; i-- {
		l := r.ModelLogs[i]
		if l.Task.Index != f.Task.Index || l.Attempt != f.Attempts {
			continue
		}
		lines := l.Lines[max(len(l.Lines)-modelLogLines, 0):]
		fmt.Fprintf(w, "  model log of %v, attempt %d (last %d lines):\n", f.Task, l.Attempt, len(lines))
		for _, line := range lines {
			fmt.Fprintf(w, "  | %s\n", line)
		}
		return
	}
}

// deployedOptions are a deployment's batch defaults as engine options.
func deployedOptions(d *registry.Deployment) engine.Options {
	b := d.Config.Batch
	return engine.Options{
		BatchSize: b.BatchSize, Executors: b.Executors, CPUs: b.CPUs, Memory: b.Memory, GPUs: b.GPUs,
		GPUType: b.GPUType, Instance: b.Instance, IAMRoleARN: b.IAMRoleARN, Parameters: b.Parameters,
		JobTimeout: time.Duration(b.JobTimeout), TaskTimeout: time.Duration(b.TaskTimeout),
		Retries: b.Retries, MaxFailedTasks: b.MaxFailedTasks, BuildID: d.BuildID,
	}
}

// progress draws a run's progress on stderr: one line redrawn in place on a
// terminal, plain lines every few seconds otherwise.
type progress struct {
	w        io.Writer
	terminal bool
	// expectRows estimates the input's rows, for a percentage and an ETA
	// while the engine cannot know the number of tasks yet; 0 if unknown.
	expectRows int
	stop       chan struct{}
	stopped    chan struct{}
}

func newProgress(w io.Writer) *progress {
	terminal := false
	if f, ok := w.(*os.File); ok {
		if info, err := f.Stat(); err == nil {
			terminal = info.Mode()&os.ModeCharDevice != 0
		}
	}
	return &progress{w: w, terminal: terminal, stop: make(chan struct{}), stopped: make(chan struct{})}
}

func (p *progress) follow(e *engine.Execution) {
	every := 5 * time.Second
	if p.terminal {
		every = 200 * time.Millisecond
	}
	go func() {
		defer close(p.stopped)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-e.Done():
				return
			case <-tick.C:
				p.draw(e.Status(), e.Options().BatchSize)
			}
		}
	}()
}

func (p *progress) draw(s engine.Status, batchSize int) {
	estimate := 0
	if p.expectRows > 0 {
		estimate = (p.expectRows + batchSize - 1) / batchSize
	}
	line := statusLine(s, estimate)
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		return
	}
	fmt.Fprintln(p.w, line)
}

// statusLine is "tasks 12/20 (60%) 1.21M rows/s ETA 3s". While the number
// of tasks is unknown, it is estimate, drawn "12/~20", or "12/?" without
// one.
func statusLine(s engine.Status, estimate int) string {
	rate := 0.0
	if secs := s.Elapsed.Seconds(); secs > 0 {
		rate = float64(s.Rows) / secs
	}
	total, approx := s.Tasks, ""
	if total < 0 && estimate > 0 {
		total, approx = estimate, "~"
	}
	line := fmt.Sprintf("tasks %d/", s.Finished)
	if total < 0 {
		line += "?"
	} else {
		line += fmt.Sprintf("%s%d (%d%%)", approx, total, percent(min(s.Finished, total), total))
	}
	line += fmt.Sprintf(" %.2fM rows/s", rate/1e6)
	if s.Failed > 0 {
		line += fmt.Sprintf(" %d failed", s.Failed)
	}
	if total > 0 && s.Finished > 0 && s.Finished < total {
		eta := time.Duration(float64(s.Elapsed) / float64(s.Finished) * float64(total-s.Finished))
		line += fmt.Sprintf(" ETA %s%s", approx, eta.Round(time.Second))
	}
	return line
}

// countCSVRows estimates the data rows of a CSV input, a file or a folder's
// .csv files, by counting lines: quoted line breaks make it an estimate.
// Other formats count 0 (unknown).
func countCSVRows(input string) int {
	paths := []string{input}
	if info, err := os.Stat(input); err == nil && info.IsDir() {
		paths, _ = filepath.Glob(filepath.Join(input, "*.csv"))
	}
	rows := 0
	buf := make([]byte, 1<<20)
	for _, path := range paths {
		if !strings.EqualFold(filepath.Ext(path), ".csv") {
			return 0
		}
		f, err := os.Open(path)
		if err != nil {
			return 0
		}
		lines := 0
		for {
			n, err := f.Read(buf)
			lines += bytes.Count(buf[:n], []byte{'\n'})
			if err != nil {
				break
			}
		}
		f.Close()
		rows += max(lines-1, 0) // the header
	}
	return rows
}

func percent(n, of int) int {
	if of == 0 {
		return 100
	}
	return n * 100 / of
}

func (p *progress) done(r engine.Report) {
	close(p.stop)
	<-p.stopped
	if p.terminal {
		fmt.Fprint(p.w, "\r\033[K")
	}
	resumed := ""
	if r.Resumed > 0 {
		resumed = fmt.Sprintf(" (%d resumed from the checkpoint, %d scored)", r.RowsResumed, r.RowsOut-r.RowsResumed)
	}
	fmt.Fprintf(p.w, "%s: %d/%d tasks, %d rows in, %d rows out%s, %s\n", r.State, r.Finished, r.Tasks, r.RowsIn, r.RowsOut, resumed, r.Duration.Round(time.Millisecond))
}
