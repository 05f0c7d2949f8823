package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/engine/deploy"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
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

// keepIndexUsage is --keep-index's help, in run and worker.
const keepIndexUsage = "copy the input's pandas index next to the predictions, first: the unnamed first column of a CSV pandas wrote (read_csv(..., index_col=0) restores it), or the index column a Parquet or Feather file's pandas metadata names (__index_level_0__ or the index's name)"

// runFlags is what `dfbatch run` was told.
type runFlags struct {
	modelPath, command, cmdFormat, modelID, buildID, runtime, ortLib string
	input, output, format, inFormat, compression, failedRows         string
	rowGroup                                                         int
	opts                                                             engine.Options
	params, outputs                                                  keyValues
	features, except, keep, columns                                  list
	keepIndex, resume, checkpoint                                    bool
	delimiter, thousands, decimal                                    separator
	dtypes                                                           columnTypes
	na                                                               naValues
	cloud                                                            cloudFlags
}

const runSynopsis = `dfbatch run --model PATH --input FILE|FOLDER --output FILE|FOLDER --batch-size N [flags]
       dfbatch run --command "python3 predict.py" --input ... --output ... --batch-size N [flags]
       dfbatch run --model-id ID --input ... --output ...   (a deployment of the model store)
       dfbatch run --cloud --image IMAGE --bucket URL [the flags above]   (on Kubernetes)`

const runFooter = `Flags that take names or key=value pairs (--features, --features-except, --keep-columns,
--output-columns, --param, --rename, --dtype, --na-values) may be repeated: the values add up.
Durations are Go durations (90s, 5m, 1h30m) or a bare number of seconds.
Unset options take the deployment's values (--model-id), then the defaults.
`

// newRunFlags defines the flags of `dfbatch run`, by group, into f.
func newRunFlags(f *runFlags) *commandFlags {
	fs := newCommandFlags("dfbatch run", runSynopsis)
	fs.footer = runFooter
	f.params, f.outputs, f.dtypes = keyValues{}, keyValues{}, columnTypes{}
	f.delimiter, f.thousands, f.decimal = separator{refused: delimiterRefuses}, separator{refused: numberRefuses}, separator{refused: numberRefuses}
	o := &f.opts
	fs.group("Input and output", func() {
		fs.StringVar(&f.input, "input", "", "input file or folder of CSV, Parquet, Arrow or JSON Lines (.jsonl, .ndjson) files (required)")
		fs.StringVar(&f.output, "output", "", "output folder, or output file for a single input file (required); its extension names the format: .csv, .tsv, .parquet, .pq, .arrow, .feather, .ipc, .jsonl or .ndjson; a path ending in / is a folder")
		fs.StringVar(&f.format, "format", "", "output format: csv, parquet, arrow or jsonl (default: the input's)")
		fs.StringVar(&f.inFormat, "input-format", "", "read every input in this format whatever its extension: csv, parquet, arrow (Arrow IPC file or stream) or jsonl (a .json file of JSON Lines) (default: by extension)")
		fs.StringVar(&f.compression, "compression", "", "the outputs' compression: for Parquet snappy (default), zstd, gzip, lz4, brotli or none; for Arrow lz4, zstd or none (default)")
		fs.IntVar(&f.rowGroup, "row-group-size", 0, "the most rows in a Parquet output's row group (default: about a million, or 64 MiB)")
		fs.Var(&f.delimiter, "delimiter", `the field delimiter of CSV inputs: one character, or "tab" (default: sniffed from each file's first lines among , ; tab and |)`)
		fs.Var(&f.thousands, "thousands", `the character grouping the digits of numbers in CSV inputs, e.g. , for "1,234" or . for a European "1.234,5" (default: none)`)
		fs.Var(&f.decimal, "decimal", `the character before the fraction of numbers in CSV inputs, e.g. , for a European "3,75" (default: .)`)
		fs.Var(f.dtypes, "dtype", "a CSV or JSON Lines column's type instead of the inferred one, column=type (string, int64, float64, float32, bool, date, timestamp, ...), comma-separated or repeated: --dtype zip=string keeps 01234's zero")
		fs.Var(&f.na, "na-values", `the cells of CSV inputs read as missing values, comma-separated, instead of pandas' defaults ("", NA, NaN, nan, null, None, <NA>, #N/A, N/A, ...): --na-values= leaves only empty cells missing, --na-values=,- adds "-" to them`)
		fs.Var(&f.keep, "keep-columns", "input columns to copy next to the predictions, comma-separated")
		fs.BoolVar(&f.keepIndex, "keep-index", false, keepIndexUsage)
		fs.Var(&f.columns, "output-columns", "model output columns to write (after --rename), comma-separated; default all")
	})
	fs.group("Model", func() {
		fs.StringVar(&f.modelPath, "model", "", "ONNX model file")
		fs.StringVar(&f.modelID, "model-id", "", "model id in the model store ($DFBATCH_MODEL_STORE, default ./models); default $DFBATCH_MODEL_ID")
		fs.StringVar(&f.buildID, "build-id", "", "build of --model-id (default: the latest)")
		fs.StringVar(&f.command, "command", "", `a model in any language: the command line of a process per executor speaking dfbatch's protocol, e.g. "python3 predict.py" (model/subprocess); a python3 or python that starts it is $DFBATCH_PYTHON where that is set; with --cloud it runs in the pods, its paths the image's`)
		fs.StringVar(&f.cmdFormat, "command-format", "", "--command: payload format, arrow or csv (default: the process's first choice)")
		fs.Var(&f.features, "features", "feature columns in the model's input order, comma-separated; a name may be a glob (path.Match: f_*, x[0-9]), whose columns come in the input's order")
		fs.Var(&f.except, "features-except", "every numeric input column is a feature, in the input's order, except these names or globs (ids, targets...)")
		fs.Var(f.outputs, "rename", "rename a model output column, onnx_name=column")
		fs.Var(f.params, "param", "a parameter the model sees, key=value")
		fs.StringVar(&f.runtime, "runtime", "", "what runs the model: go (pure Go) or onnxruntime (ONNX Runtime's library, see --ort-lib); default go, or the deployment's")
		fs.StringVar(&f.ortLib, "ort-lib", "", "ONNX Runtime's shared library (libonnxruntime.so) for --runtime onnxruntime (default $"+onnx.ORTLibraryEnv+"; bench/peers/setup.sh installs one)")
	})
	fs.group("Resources", func() {
		fs.IntVar(&o.BatchSize, "batch-size", 0, "rows per task (required, unless the deployment sets it)")
		fs.IntVar(&o.Executors, "executors", 0, "tasks at once (default 1)")
		fs.Float64Var(&o.CPUs, "cpus", 0, "threads per executor (default 1)")
		fs.IntVar(&o.Memory, "memory", 0, "memory budget per executor, MiB (default: none)")
		fs.StringVar(&o.Instance, "instance", "", "size preset instead of --cpus/--memory: "+strings.Join(engine.InstanceNames(), ", "))
		fs.IntVar(&o.GPUs, "gpus", 0, "GPUs per executor (needs a binary built with -tags cuda; default: none)")
		fs.StringVar(&o.GPUType, "gpu-type", "", "the GPUs' type, matched against their names: h100, a10g, ... (default: any)")
		fs.Var(seconds{&o.TaskTimeout}, "task-timeout", "time limit per task attempt, e.g. 30s or 30 (default: none)")
		fs.Var(seconds{&o.JobTimeout}, "job-timeout", "time limit for the whole run, e.g. 1h or 3600 (default: none)")
	})
	fs.group("Failures and resuming", func() {
		fs.IntVar(&o.Retries, "retries", 0, "times a failed task is tried again")
		fs.IntVar(&o.MaxFailedTasks, "max-failed-tasks", 0, "failed tasks tolerated before the run stops")
		fs.StringVar(&f.failedRows, "failed-rows", "", "where to write the input rows of failed tasks: a file for one input, a folder for a folder of inputs (default: beside the output, <output>.failed-rows.<ext> or <output>/failed-rows/)")
		fs.BoolVar(&f.resume, "resume", false, "continue the interrupted run of the same job (a crash, kill -9, Ctrl-C, failed tasks) from its checkpoint: outputs already written are kept and only the missing rows are scored")
		fs.BoolVar(&f.checkpoint, "checkpoint", true, "keep a checkpoint of what was scored beside the outputs until every output is written, for --resume (--checkpoint=false saves writing each output twice)")
	})
	fs.group("Cloud (with --cloud only)", func() {
		f.cloud.register(fs)
		fs.StringVar(&o.IAMRoleARN, "iam-role-arn", "", "--cloud: the IAM role the pods run as (a service account annotated with it)")
	})
	return fs
}

// flagNames are the flags of `dfbatch run` that set engine.Options and
// FileJob fields, for the engine's OptionErrors.
var flagNames = map[string]string{
	"Options.BatchSize": "--batch-size", "Options.Executors": "--executors", "Options.CPUs": "--cpus", "Options.Memory": "--memory",
	"Options.GPUs": "--gpus", "Options.GPUType": "--gpu-type", "Options.Instance": "--instance", "Options.IAMRoleARN": "--iam-role-arn",
	"Options.JobTimeout": "--job-timeout", "Options.TaskTimeout": "--task-timeout", "Options.Retries": "--retries",
	"Options.MaxFailedTasks": "--max-failed-tasks", "Options.Parameters": "--param",
	"FileJob.Source": "--input", "FileJob.Destination": "--output", "FileJob.InputFormat": "--input-format", "FileJob.OutputFormat": "--format",
	"FileJob.Resume": "--resume", "FileJob.NoCheckpoint": "--checkpoint=false",
}

// deployedNames are deployment.json's names of the engine.Options fields.
var deployedNames = map[string]string{
	"Options.BatchSize": "batch_size", "Options.Executors": "executors", "Options.CPUs": "cpus", "Options.Memory": "memory",
	"Options.GPUs": "gpus", "Options.GPUType": "gpu_type", "Options.Instance": "instance", "Options.IAMRoleARN": "iam_role_arn",
	"Options.JobTimeout": "job_timeout", "Options.TaskTimeout": "task_timeout", "Options.Retries": "retries",
	"Options.MaxFailedTasks": "max_failed_tasks", "Options.Parameters": "parameters",
}

// namedByFlags rewrites an engine OptionError in err to name the flags
// (or, for a deployed default, deployment.json's fields) instead of Go
// fields; other errors are returned as they are.
func namedByFlags(err error) error {
	var oe *engine.OptionError
	if !errors.As(err, &oe) {
		return err
	}
	name := func(field string) string {
		if oe.Deployed {
			if n, ok := deployedNames[field]; ok {
				return "deployment.json batch." + n
			}
		}
		return cmp.Or(flagNames[field], field)
	}
	described := oe.Describe(name)
	if oe.Deployed {
		described = "deployed defaults: " + described
	}
	msg := strings.Replace(err.Error(), oe.Error(), described, 1)
	return renamedError{msg: msg, err: err}
}

// goNamesAsFlags rewrites the Go names of options left in messages the
// engine does not type, such as a task's memory advice or the Kubernetes
// backend's limits, as their flags.
var goNamesAsFlags = func() *strings.Replacer {
	fields := slices.Collect(maps.Keys(flagNames))
	// Longer names first, so that no name's prefix replaces part of it.
	slices.SortFunc(fields, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	var pairs []string
	for _, f := range fields {
		pairs = append(pairs, f, flagNames[f])
	}
	return strings.NewReplacer(pairs...)
}()

// renamedError is an error whose message the CLI rewrote.
type renamedError struct {
	msg string
	err error
}

func (r renamedError) Error() string { return r.msg }
func (r renamedError) Unwrap() error { return r.err }

// modelFlagNames rewrites model/onnx's Go names of its options, in errors
// opening a model, as the flags that set them.
var modelFlagNames = strings.NewReplacer(
	"Options.Features (or --features)", "--features",
	"Options.ORTLibrary (dfbatch run --ort-lib)", "--ort-lib",
	"Options.Features", "--features",
	"Options.Outputs", "--rename",
	"Options.Columns", "--output-columns",
	"Options.Runtime", "--runtime",
)

func runCommand(args []string, stdout, stderr io.Writer) error {
	var f runFlags
	if err := newRunFlags(&f).parse(args, stdout); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return usageError{err}
	}
	spec, deployed, err := f.modelSpec()
	if err != nil {
		return usageError{err}
	}
	job, err := f.fileJob()
	if err != nil {
		return usageError{err}
	}
	if err := bindColumns(&spec, job, f.except); err != nil {
		return usageError{namedByFlags(err)}
	}
	l, err := spec.loader()
	if err != nil {
		return usageError{errors.New(modelFlagNames.Replace(err.Error()))}
	}
	if f.checkpoint {
		if job.Fingerprint, err = fingerprint(spec); err != nil {
			return err
		}
	}
	return f.execute(l, spec, job, deployed, stdout, stderr)
}

// check refuses flags that cannot go together, and missing ones.
func (f *runFlags) check() error {
	switch {
	case f.modelPath != "" && (f.modelID != "" || f.buildID != ""):
		return errors.New("--model and --model-id/--build-id are exclusive: a file, or a model from the store")
	case f.command != "" && (f.modelPath != "" || f.modelID != "" || f.buildID != ""):
		return errors.New("--command and --model/--model-id are exclusive: a process, an ONNX file or a model from the store")
	case f.command != "" && (len(f.features) > 0 || len(f.except) > 0 || len(f.outputs) > 0 || len(f.columns) > 0 || f.runtime != ""):
		return errors.New("--features, --features-except, --rename, --output-columns and --runtime bind ONNX models; a --command model gets every column")
	case f.resume && !f.checkpoint:
		return errors.New("--resume continues from a checkpoint; it cannot go with --checkpoint=false")
	case f.input == "":
		return errors.New("--input is required")
	case f.output == "":
		return errors.New("--output is required")
	}
	return checkOutputPath(f.output)
}

// checkOutputPath refuses an output whose extension names no format: it
// would be a folder of that name, which is rarely what --output o.xlsx
// means. A path ending in / is a folder, whatever its name.
func checkOutputPath(output string) error {
	ext := filepath.Ext(output)
	if ext == "" || strings.HasSuffix(output, "/") || strings.HasSuffix(output, string(filepath.Separator)) || isDir(output) {
		return nil
	}
	if _, err := frame.FormatOf(output); err == nil {
		return nil
	}
	return fmt.Errorf("--output %s: unknown extension %s; known: .csv, .tsv, .parquet, .pq, .arrow, .arrows, .feather, .ipc, .jsonl, .ndjson; end the path with / to write a folder of that name", output, ext)
}

// modelSpec is the model the flags name, and its deployment's defaults for
// --model-id (flags given override the deployment's binding).
func (f *runFlags) modelSpec() (modelSpec, engine.Options, error) {
	rt, err := onnx.ParseRuntime(f.runtime)
	if err != nil {
		return modelSpec{}, engine.Options{}, fmt.Errorf("--runtime: %w", err)
	}
	switch {
	case f.command != "":
		payload, err := subprocess.ParseFormat(f.cmdFormat)
		if err != nil {
			return modelSpec{}, engine.Options{}, fmt.Errorf("--command-format: %w", err)
		}
		return modelSpec{command: f.command, commandFormat: payload, keep: f.keep, keepIndex: f.keepIndex}, engine.Options{}, nil
	case f.modelPath != "":
		return modelSpec{path: f.modelPath, features: f.features, outputs: f.outputs, columns: f.columns, keep: f.keep, keepIndex: f.keepIndex, runtime: rt, ortLib: f.ortLib}, engine.Options{}, nil
	}
	d, err := registry.Resolve(f.modelID, f.buildID)
	if err != nil {
		return modelSpec{}, engine.Options{}, fmt.Errorf("%w (or name a model file with --model)", err)
	}
	if len(f.columns) > 0 {
		return modelSpec{}, engine.Options{}, errors.New("--output-columns goes with --model; a deployment names its outputs in deployment.json")
	}
	spec := modelSpec{path: d.ModelPath, features: d.Config.Features, outputs: d.Config.Outputs, keep: d.Config.KeepColumns, runtime: d.Config.Runtime, ortLib: f.ortLib,
		keepIndex: f.keepIndex, config: filepath.Join(d.Dir, registry.DeploymentFile)}
	if len(f.features) > 0 || len(f.except) > 0 {
		spec.features = f.features
	}
	if len(f.outputs) > 0 {
		spec.outputs = f.outputs
	}
	if len(f.keep) > 0 {
		spec.keep = f.keep
	}
	if f.runtime != "" {
		spec.runtime = rt
	}
	return spec, deploy.Options(d), nil
}

// fileJob is the file run the flags describe.
func (f *runFlags) fileJob() (engine.FileJob, error) {
	job := engine.FileJob{Source: f.input, Destination: f.output, NAValues: f.na.list(), Resume: f.resume, NoCheckpoint: !f.checkpoint,
		Compression: f.compression, RowGroupRows: f.rowGroup, Delimiter: f.delimiter.r, Thousands: f.thousands.r, Decimal: f.decimal.r}
	if len(f.dtypes) > 0 {
		job.ColumnTypes = f.dtypes
	}
	if job.Thousands != 0 && job.Thousands == cmp.Or(job.Decimal, '.') {
		return job, fmt.Errorf("--thousands %q is also the decimal separator: set another with --decimal", job.Thousands)
	}
	var err error
	if f.format != "" {
		if job.OutputFormat, err = frame.ParseFormat(f.format); err != nil {
			return job, fmt.Errorf("--format: %w", err)
		}
	}
	if f.inFormat != "" {
		if job.InputFormat, err = frame.ParseFormat(f.inFormat); err != nil {
			return job, fmt.Errorf("--input-format: %w", err)
		}
	}
	return job, nil
}

// execute runs the job, locally or on the cluster, draws its progress,
// and prints the outputs written, then what failed.
func (f *runFlags) execute(l model.Loader, spec modelSpec, job engine.FileJob, deployed engine.Options, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := f.opts
	opts.Parameters = f.params
	client := engine.NewClient(l, engine.WithDefaults(deployed))
	namespace := ""
	if f.cloud.enabled {
		var err error
		if client, namespace, err = f.cloud.client(ctx, l, spec, deployed, stderr); err != nil {
			return err
		}
		opts.Cloud = true
	}
	announceCheckpoint(job, stderr)
	e, err := client.StartFiles(ctx, job, opts)
	if err != nil {
		return usageError{namedByFlags(err)}
	}
	if f.cloud.enabled {
		fmt.Fprintf(stderr, "execution %s: Job %s in namespace %s\n", e.ID(), jobName(e.ID()), namespace)
	}
	progress := newProgress(stderr)
	progress.expectRows = countCSVRows(f.input)
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
	return explainFailure(err, report, job, f.failedRows, ctx.Err() != nil, stderr)
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
		fmt.Fprintf(stderr, "failed: %s\n", goNamesAsFlags.Replace(f.Error()))
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
		return interruptedError{stopInCLITerms(err)}
	}
	return stopInCLITerms(err)
}

// stopInCLITerms rewrites why a run stopped early in the CLI's terms: how
// far it got, the rows not done being listed above it, instead of the
// library's pointer to Report().Rerun().
func stopInCLITerms(err error) error {
	var se *engine.StopError
	if !errors.As(err, &se) {
		return err
	}
	described := fmt.Sprintf("%v %s; the rows not done are listed above", se.Cause, se.Progress())
	msg := strings.Replace(err.Error(), se.Error(), described, 1)
	return renamedError{msg: goNamesAsFlags.Replace(msg), err: err}
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
		fmt.Fprintf(w, "  model log of %v, attempt %d (last %s):\n", f.Task, l.Attempt, plural(len(lines), "line"))
		for _, line := range lines {
			fmt.Fprintf(w, "  | %s\n", line)
		}
		return
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
	fmt.Fprintf(p.w, "%s: %d/%d tasks, %s in, %s out%s, %s\n", r.State, r.Finished, r.Tasks, plural(r.RowsIn, "row"), plural(r.RowsOut, "row"), resumed, r.Duration.Round(time.Millisecond))
}
