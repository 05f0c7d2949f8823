package engine

import (
	"context"
	"errors"
	"fmt"
	"github.com/apache/arrow-go/v18/arrow"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dfbatch/dfbatch/engine/internal/checkpoint"
	"github.com/dfbatch/dfbatch/frame"
)

// FileJob is a file-to-file run, BatchInferenceClient's local_file_run:
// every input file is scored in streamed batches into an output file of the
// same base name in Destination.
//
// Outputs are all or nothing: each is written under a temporary name in
// the job's work folder and renamed to its final name only once it holds
// every row of its input. A failure, cancel or write error leaves no
// partial output behind, only the outputs already complete. Unless
// NoCheckpoint is set, what was scored is kept in a checkpoint in the work
// folder until the job has written every output, so that Resume scores
// only what is missing, even after a crash or kill -9.
type FileJob struct {
	// Source is a CSV, Parquet, Arrow IPC or JSON Lines file, or a folder
	// whose such files are scored in name order. Hidden files and files of
	// other types in a folder are skipped (.json files among them: see
	// frame.FormatOf).
	Source string
	// Destination is the folder for the outputs; it is created if missing.
	// For a single Source file, it may instead name the output file, with
	// the extension of a known format ("scored.parquet").
	Destination string
	// InputFormat reads every input in this format; "" goes by extension.
	InputFormat frame.Format
	// OutputFormat writes every output in this format; "" keeps each
	// input's format.
	OutputFormat frame.Format
	// Compression is the outputs' codec (frame.WithCompression): for
	// Parquet snappy (""), zstd, gzip, lz4, brotli or none; for Arrow
	// lz4, zstd or none (""). RowGroupRows caps a Parquet output's row
	// groups (frame.WithRowGroupRows; 0 for the default). Both take part
	// in the checkpoint's identity.
	Compression  string
	RowGroupRows int
	// NAValues are the cells of CSV inputs read as missing values, as
	// frame.WithNAValues sets them; nil for frame.DefaultNAValues
	// (pandas' spellings). They take part in the checkpoint's identity: a
	// Resume with other values is refused.
	NAValues []string
	// ColumnTypes sets the types of the named columns of CSV and JSON
	// Lines inputs instead of inferring them (frame.WithColumnTypes): an
	// id written 0042 as a string, or as int64 where leading zeros are
	// padding. Every CSV input must have the named columns; a JSON Lines
	// input without one gets it, empty. They take part in the checkpoint's
	// identity.
	ColumnTypes map[string]arrow.DataType
	// Delimiter separates the fields of CSV inputs (frame.WithDelimiter);
	// 0 sniffs each file's from its first lines. It takes part in the
	// checkpoint's identity.
	Delimiter rune
	// Thousands groups the digits of numbers in CSV inputs
	// (frame.WithThousands; 0 for none), and Decimal marks their fraction
	// (frame.WithDecimal; 0 for '.'): ',' and ',' read a European export's
	// "1.234,5" with Thousands '.'. Both take part in the checkpoint's
	// identity.
	Thousands, Decimal rune
	// Resume continues the job's interrupted run (a crash, kill -9,
	// cancel, timeout or failed tasks) from its checkpoint: inputs whose
	// output was written are skipped, and of the others only the tasks
	// whose outputs the checkpoint lacks are scored. Each output is the
	// same as an uninterrupted run's, byte for byte. A job whose inputs,
	// BatchSize, Parameters, BuildID or Fingerprint differ from the
	// checkpoint's is refused with an error naming each difference. With
	// no checkpoint, the run starts from the beginning. Without Resume, a
	// run discards an earlier run's checkpoint.
	Resume bool
	// NoCheckpoint keeps no checkpoint, so an interrupted run cannot be
	// resumed; it saves writing each task's output twice.
	NoCheckpoint bool
	// Fingerprint names what else the outputs depend on (the model file's
	// digest, the feature list...), for Resume to refuse a job that
	// changed: each key that differs is named.
	Fingerprint map[string]string
}

// FileResult is what a file run did with one input.
type FileResult struct {
	Input  string
	Format frame.Format
	Output string
	// Written: Output holds every row of Input, written by this run, or by
	// the interrupted run this one resumed (Kept: Input was not read).
	Written, Kept bool
	// RowsRead counts the rows read from Input; ReadAll says whether it was
	// read to its end.
	RowsRead int
	ReadAll  bool
	// ReadOptions are how Input was read (FileJob.ReadOptions), for
	// RerunFile to read the same rows.
	ReadOptions []frame.ReadOption
}

// WriteOptions are the options the job writes an output of format with:
// its Compression, and its RowGroupRows for Parquet.
func (j FileJob) WriteOptions(format frame.Format) []frame.WriteOption {
	var opts []frame.WriteOption
	if j.Compression != "" {
		opts = append(opts, frame.WithCompression(j.Compression))
	}
	if j.RowGroupRows != 0 && format == frame.Parquet {
		opts = append(opts, frame.WithRowGroupRows(j.RowGroupRows))
	}
	return opts
}

// ReadOptions are the options the job reads an input of format with: for
// CSV, its NAValues, ColumnTypes, Delimiter, Thousands and Decimal; for
// JSON Lines, its ColumnTypes; none for other formats.
func (j FileJob) ReadOptions(format frame.Format) []frame.ReadOption {
	var opts []frame.ReadOption
	if format == frame.JSONL && j.ColumnTypes != nil {
		return []frame.ReadOption{frame.WithColumnTypes(j.ColumnTypes)}
	}
	if format != frame.CSV {
		return nil
	}
	if j.NAValues != nil {
		opts = append(opts, frame.WithNAValues(j.NAValues...))
	}
	if j.ColumnTypes != nil {
		opts = append(opts, frame.WithColumnTypes(j.ColumnTypes))
	}
	if j.Delimiter != 0 {
		opts = append(opts, frame.WithDelimiter(j.Delimiter))
	}
	if j.Thousands != 0 {
		opts = append(opts, frame.WithThousands(j.Thousands))
	}
	if j.Decimal != 0 {
		opts = append(opts, frame.WithDecimal(j.Decimal))
	}
	return opts
}

type fileInput struct {
	path   string
	format frame.Format
	output string
	outFmt frame.Format
}

// RunFiles scores a FileJob and returns the execution's report. Memory
// stays near (2 x Executors) x BatchSize rows whatever the files' sizes,
// and each output keeps its input's row order.
func (c *Client) RunFiles(ctx context.Context, job FileJob, opts Options) (Report, error) {
	e, err := c.StartFiles(ctx, job, opts)
	if err != nil {
		return Report{}, err
	}
	_, err = e.Wait()
	return e.Report(), err
}

// StartFiles validates the job and starts it in the background.
// Report().Outputs lists the outputs written, Report().Files what became
// of each input. A run that did not write every output keeps its
// checkpoint (Report().Checkpoint) for a later run with FileJob.Resume.
func (c *Client) StartFiles(ctx context.Context, job FileJob, opts Options) (*Execution, error) {
	o, err := c.resolve(opts)
	if err != nil {
		return nil, err
	}
	if o.Unordered {
		return nil, errors.New("dfbatch: Options.Unordered does not apply to file runs: each output file keeps its input's row order")
	}
	inputs, err := listInputs(job)
	if err != nil {
		return nil, fmt.Errorf("dfbatch: %w", err)
	}
	for _, in := range inputs {
		for _, f := range []frame.Format{in.format, in.outFmt} {
			if err := f.Linked(); err != nil {
				return nil, fmt.Errorf("dfbatch: FileJob: %w", err)
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(inputs[0].output), 0o755); err != nil {
		return nil, fmt.Errorf("dfbatch: %w", optionErrorf("FileJob.Destination", err, ": %v", err))
	}
	run := &fileRun{client: c, job: job, inputs: inputs, work: workFolder(job, inputs), create: c.createFile}
	if err := run.open(o); err != nil {
		return nil, fmt.Errorf("dfbatch: %w", err)
	}
	e, err := c.start(ctx, o, runPlan{
		src:     run.source(o.BatchSize),
		scored:  run.save,
		newSink: func(r *Run) sink { return r.streamSink(true, run.write) },
		collect: func(r *Run, runErr error) (*frame.Frame, error) { return nil, run.finish(r) },
	})
	if err != nil {
		run.abort()
		return nil, err
	}
	return e, nil
}

// Checkpoint returns the folder where the job keeps its checkpoint, and
// whether an interrupted run left one there for Resume.
func (j FileJob) Checkpoint() (dir string, exists bool) {
	inputs, err := listInputs(j)
	if err != nil {
		return "", false
	}
	dir = workFolder(j, inputs)
	return dir, checkpoint.Exists(dir)
}

// workFolder is where a job keeps its partial outputs and checkpoint:
// ".dfbatch" in a Destination folder, ".<name>.dfbatch" beside a
// Destination file.
func workFolder(job FileJob, inputs []fileInput) string {
	if len(inputs) == 1 && inputs[0].output == job.Destination && !isDir(job.Destination) {
		dir, name := filepath.Split(job.Destination)
		return filepath.Join(dir, "."+name+".dfbatch")
	}
	return filepath.Join(job.Destination, ".dfbatch")
}

// Inputs lists the job's input files in the order a run scores them, each
// with the format it is read in (Format) and the path of its output
// (Output), checking the job as StartFiles does. A program can read the
// inputs' schemas with them before it starts a run.
func (j FileJob) Inputs() ([]FileResult, error) {
	inputs, err := listInputs(j)
	if err != nil {
		return nil, err
	}
	files := make([]FileResult, len(inputs))
	for i, in := range inputs {
		files[i] = FileResult{Input: in.path, Format: in.format, Output: in.output, ReadOptions: j.ReadOptions(in.format)}
	}
	return files, nil
}

// listInputs finds the job's input files and names their outputs.
func listInputs(job FileJob) ([]fileInput, error) {
	if job.Source == "" {
		return nil, optionErrorf("FileJob.Source", nil, " is empty: name a file or a folder of files")
	}
	if job.Destination == "" {
		return nil, optionErrorf("FileJob.Destination", nil, " is empty: name the folder for the outputs")
	}
	// Any name of a format will do ("ndjson", "feather"): the checks and
	// the outputs' extensions below take the format's own.
	for _, f := range []struct {
		field  string
		format *frame.Format
	}{{"FileJob.InputFormat", &job.InputFormat}, {"FileJob.OutputFormat", &job.OutputFormat}} {
		if *f.format == "" {
			continue
		}
		format, err := frame.ParseFormat(string(*f.format))
		if err != nil {
			return nil, optionErrorf(f.field, err, ": %v", err)
		}
		*f.format = format
	}
	info, err := os.Stat(job.Source)
	if err != nil {
		return nil, optionErrorf("FileJob.Source", err, ": %v", err)
	}
	var paths []string
	if info.IsDir() {
		if _, err := frame.FormatOf(job.Destination); err == nil && !isDir(job.Destination) {
			return nil, optionErrorf("FileJob.Destination", nil, " %s names a file, but %s %s is a folder of inputs: name a folder for the outputs", job.Destination, optionName("FileJob.Source"), job.Source)
		}
		entries, err := os.ReadDir(job.Source)
		if err != nil {
			return nil, optionErrorf("FileJob.Source", err, ": %v", err)
		}
		for _, entry := range entries {
			name := entry.Name()
			if entry.IsDir() || strings.HasPrefix(name, ".") {
				continue
			}
			if _, err := frame.FormatOf(name); err != nil && job.InputFormat == "" {
				continue
			}
			paths = append(paths, filepath.Join(job.Source, name))
		}
		if len(paths) == 0 {
			return nil, optionErrorf("FileJob.Source", nil, ": folder %s has no CSV, Parquet, Arrow or JSON Lines files", job.Source)
		}
	} else {
		paths = []string{job.Source}
		if out, ok := singleOutput(job); ok {
			if same, _ := sameFile(out.output, out.path); same {
				return nil, fmt.Errorf("FileJob: the output of %s would overwrite it; choose another Destination", out.path)
			}
			return []fileInput{out}, nil
		}
	}
	slices.Sort(paths)
	inputs := make([]fileInput, len(paths))
	outputs := map[string]string{}
	for i, path := range paths {
		in := fileInput{path: path, format: job.InputFormat, outFmt: job.OutputFormat}
		if in.format == "" {
			if in.format, err = frame.FormatOf(path); err != nil {
				return nil, optionErrorf("FileJob.Source", err, ": %v; set %s to read it anyway", err, optionName("FileJob.InputFormat"))
			}
		}
		if in.outFmt == "" {
			in.outFmt = in.format
		}
		base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		in.output = filepath.Join(job.Destination, base+in.outFmt.Ext())
		if same, _ := sameFile(in.output, path); same {
			return nil, fmt.Errorf("FileJob: the output of %s would overwrite it; choose another Destination or OutputFormat", path)
		}
		if other, dup := outputs[in.output]; dup {
			return nil, fmt.Errorf("FileJob: %s and %s would both be written to %s", other, path, in.output)
		}
		outputs[in.output] = path
		inputs[i] = in
	}
	return inputs, nil
}

// singleOutput reads a single-file job whose Destination names a file.
func singleOutput(job FileJob) (fileInput, bool) {
	if isDir(job.Destination) {
		return fileInput{}, false
	}
	outFmt, err := frame.FormatOf(job.Destination)
	if err != nil {
		return fileInput{}, false
	}
	in := fileInput{path: job.Source, format: job.InputFormat, output: job.Destination, outFmt: outFmt}
	if job.OutputFormat != "" {
		in.outFmt = job.OutputFormat
	}
	if in.format == "" {
		if in.format, err = frame.FormatOf(job.Source); err != nil {
			return fileInput{}, false
		}
	}
	return in, true
}

func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

func sameFile(a, b string) (bool, error) {
	ia, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	ib, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(ia, ib), nil
}
