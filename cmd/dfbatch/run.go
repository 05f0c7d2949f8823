package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/dfbatch/dfbatch/engine"
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
	return fmt.Sprintf("%d tasks failed (listed above), %d to re-run", t.failed, t.rerun)
}

func (t tasksFailedError) Unwrap() error { return t.err }

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
		command   = fs.String("command", "", `a model in any language: the command line of a process per executor speaking dfbatch's protocol, e.g. "python3 predict.py" (model/subprocess)`)
		cmdFormat = fs.String("command-format", "", "--command: payload format, arrow or csv (default: the process's first choice)")
		modelID   = fs.String("model-id", "", "model id in the model store ($DFBATCH_MODEL_STORE, default ./models); default $DFBATCH_MODEL_ID")
		buildID   = fs.String("build-id", "", "build of --model-id (default: the latest)")
		input     = fs.String("input", "", "input file or folder of CSV, Parquet or Arrow files")
		output    = fs.String("output", "", "output folder, or output file for a single input file")
		format    = fs.String("format", "", "output format: csv, parquet or arrow (default: the input's)")
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
	fs.Var(&columns, "output-columns", "model output columns to write (after --rename), comma-separated; default all")
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
	case *command != "" && cloud.enabled:
		return usageError{errors.New("--command runs in this process's machine; --cloud takes an ONNX --model")}
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
		l        model.Loader
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
		c := subprocess.Command{Args: subprocess.Shell(*command), Format: payload}
		l = c
		if len(keep) > 0 {
			l = model.WithInputColumns(c, keep...)
		}
	case *modelPath != "":
		spec = modelSpec{path: *modelPath, features: features, outputs: outputs, columns: columns, keep: keep, runtime: rt, ortLib: *ortLib}
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
		if *runtime != "" {
			spec.runtime = rt
		}
		deployed = deployedOptions(d)
	}
	if l == nil {
		if l, err = spec.loader(); err != nil {
			return usageError{err}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opts := engine.Options{
		BatchSize: *batch, Executors: *executors, CPUs: *cpus, Memory: *memory, Instance: *instance,
		GPUs: *gpus, GPUType: *gpuType, Parameters: params, TaskTimeout: *taskTO, JobTimeout: *jobTO, Retries: *retries, MaxFailedTasks: *maxFailed,
		IAMRoleARN: *iamRole,
	}
	var (
		e       *engine.Execution
		results func() ([]string, error)
	)
	if cloud.enabled {
		e, results, err = cloud.start(ctx, l, spec, deployed, engine.FileJob{Source: *input, Destination: *output, OutputFormat: outFormat}, opts, stderr)
		if err != nil {
			return err
		}
	} else {
		client := engine.NewClient(l, engine.WithDefaults(deployed))
		e, err = client.StartFiles(ctx, engine.FileJob{Source: *input, Destination: *output, OutputFormat: outFormat}, opts)
		if err != nil {
			return usageError{err}
		}
		results = func() ([]string, error) { return e.Report().Outputs, nil }
	}
	progress := newProgress(stderr)
	progress.expectRows = countCSVRows(*input)
	progress.follow(e)
	_, err = e.Wait()
	report := e.Report()
	progress.done(report)
	if err == nil {
		written, err := results()
		for _, path := range written {
			fmt.Fprintln(stdout, path)
		}
		return err
	}
	rerun := report.Rerun()
	for _, f := range report.Failed {
		fmt.Fprintf(stderr, "failed: %v\n", f)
		printModelLog(stderr, report, f)
	}
	for _, t := range report.Incomplete {
		fmt.Fprintf(stderr, "not done: %v\n", t)
	}
	if len(report.Failed) > 0 {
		return tasksFailedError{failed: len(report.Failed), rerun: len(rerun), err: err}
	}
	return err
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
	fmt.Fprintf(p.w, "%s: %d/%d tasks, %d rows in, %d rows out, %s\n", r.State, r.Finished, r.Tasks, r.RowsIn, r.RowsOut, r.Duration.Round(time.Millisecond))
}
