package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
)

// FileJob is a file-to-file run, the reference platform's local_file_run:
// every input file is scored in streamed batches into an output file of the
// same base name in Destination.
type FileJob struct {
	// Source is a CSV, Parquet or Arrow IPC file, or a folder whose such
	// files are scored in name order. Hidden files and files of other
	// types in a folder are skipped.
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

// StartFiles validates the job and starts it in the background. Outputs
// are written as "<name>.partial" and renamed when complete, so a file
// under its final name is never half-written. Report().Outputs lists them.
func (c *Client) StartFiles(ctx context.Context, job FileJob, opts Options) (*Execution, error) {
	o, err := c.resolve(opts)
	if err != nil {
		return nil, err
	}
	if o.Cloud {
		return nil, errors.New("dfbatch: Options.Cloud runs take an in-memory frame; file runs run in this process only")
	}
	if o.Unordered {
		return nil, errors.New("dfbatch: Options.Unordered does not apply to file runs: each output file keeps its input's row order")
	}
	inputs, err := listInputs(job)
	if err != nil {
		return nil, fmt.Errorf("dfbatch: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(inputs[0].output), 0o755); err != nil {
		return nil, fmt.Errorf("dfbatch: FileJob.Destination: %w", err)
	}
	src := &filesSource{inputs: inputs, batchSize: o.BatchSize}
	w := &fileWriters{inputs: inputs, loader: c.loader, written: map[string]bool{}}
	return c.startStream(ctx, o, src, w.write, func(p *pool) error {
		err := w.finish(src, p)
		var outputs []string
		for _, in := range inputs {
			if w.written[in.path] {
				outputs = append(outputs, in.output)
			}
		}
		p.exec.mu.Lock()
		p.exec.report.Outputs = outputs
		p.exec.mu.Unlock()
		return err
	})
}

// listInputs finds the job's input files and names their outputs.
func listInputs(job FileJob) ([]fileInput, error) {
	if job.Source == "" {
		return nil, errors.New("FileJob.Source is empty: name a file or a folder of files")
	}
	if job.Destination == "" {
		return nil, errors.New("FileJob.Destination is empty: name the folder for the outputs")
	}
	info, err := os.Stat(job.Source)
	if err != nil {
		return nil, fmt.Errorf("FileJob.Source: %w", err)
	}
	var paths []string
	if info.IsDir() {
		if _, err := frame.FormatOf(job.Destination); err == nil && !isDir(job.Destination) {
			return nil, fmt.Errorf("FileJob.Destination %s names a file, but Source %s is a folder of inputs: name a folder for the outputs", job.Destination, job.Source)
		}
		entries, err := os.ReadDir(job.Source)
		if err != nil {
			return nil, fmt.Errorf("FileJob.Source: %w", err)
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
			return nil, fmt.Errorf("FileJob.Source: folder %s has no CSV, Parquet or Arrow files", job.Source)
		}
	} else {
		paths = []string{job.Source}
		if out, ok := outputFile(job); ok {
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
				return nil, fmt.Errorf("FileJob.Source: %w; set FileJob.InputFormat to read it anyway", err)
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

// outputFile reads a single-file job whose Destination names a file.
func outputFile(job FileJob) (fileInput, bool) {
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

// filesSource reads the inputs one after the other, as one stream of
// tasks numbered across files, with row ranges within each file.
type filesSource struct {
	inputs    []fileInput
	batchSize int
	pos       int // index of the input being read
	current   *rebatcher
	schemas   map[string]*arrow.Schema // each opened input's schema
	tasks     int
}

func (s *filesSource) next() (Task, *frame.Frame, error) {
	for s.pos < len(s.inputs) {
		if s.current == nil {
			in := s.inputs[s.pos]
			r, err := frame.OpenFile(in.path, in.format, frame.WithBatchRows(s.batchSize))
			if err != nil {
				return Task{}, nil, err
			}
			if s.schemas == nil {
				s.schemas = map[string]*arrow.Schema{}
			}
			s.schemas[in.path] = r.Schema()
			s.current = &rebatcher{r: r, source: in.path, batchSize: s.batchSize, firstIndex: s.tasks}
		}
		t, rows, err := s.current.next()
		if err == nil {
			s.tasks++
			return t, rows, nil
		}
		if err != io.EOF {
			return Task{}, nil, fmt.Errorf("%s: %w", s.inputs[s.pos].path, err)
		}
		if err := s.current.r.Close(); err != nil {
			return Task{}, nil, fmt.Errorf("%s: %w", s.inputs[s.pos].path, err)
		}
		s.current = nil
		s.pos++
	}
	return Task{}, nil, io.EOF
}

func (s *filesSource) total() int {
	if s.exhausted() {
		return s.tasks
	}
	return -1
}

func (s *filesSource) remaining() []Task { return nil }
func (s *filesSource) exhausted() bool   { return s.pos == len(s.inputs) }

// close closes the input being read, if the run stopped midway.
func (s *filesSource) close() {
	if s.current != nil {
		_ = s.current.r.Close()
	}
}

// fileWriters writes each input's outputs, in order, to its output file.
// The stream sink calls write serially; finish runs after the last write.
type fileWriters struct {
	inputs  []fileInput
	loader  model.Loader
	current *fileInput
	w       frame.Writer
	written map[string]bool // inputs whose output file is complete
}

func (w *fileWriters) write(b Batch) error {
	if w.current == nil || w.current.path != b.Task.Source {
		if err := w.closeCurrent(); err != nil {
			return err
		}
		i := slices.IndexFunc(w.inputs, func(in fileInput) bool { return in.path == b.Task.Source })
		w.current = &w.inputs[i]
		out, err := frame.CreateFile(w.current.output+".partial", w.current.outFmt)
		if err != nil {
			return err
		}
		w.w = out
	}
	return w.w.Write(b.Frame)
}

// closeCurrent completes the output being written.
func (w *fileWriters) closeCurrent() error {
	if w.current == nil {
		return nil
	}
	in := w.current
	w.current = nil
	if err := w.w.Close(); err != nil {
		return fmt.Errorf("%s: %w", in.output, err)
	}
	return w.commit(in)
}

func (w *fileWriters) commit(in *fileInput) error {
	if err := os.Rename(in.output+".partial", in.output); err != nil {
		return err
	}
	w.written[in.path] = true
	return nil
}

// finish completes the last output and, after a complete read, writes an
// empty output for each input that had no rows to score.
func (w *fileWriters) finish(src *filesSource, p *pool) error {
	src.close()
	if err := w.closeCurrent(); err != nil {
		return err
	}
	if !src.exhausted() {
		return nil
	}
	for i := range w.inputs {
		in := &w.inputs[i]
		if w.written[in.path] {
			continue
		}
		var opts []frame.WriteOption
		if schema := w.outputSchema(p, src.schemas[in.path]); schema != nil {
			opts = append(opts, frame.WithSchema(schema))
		}
		out, err := frame.CreateFile(in.output+".partial", in.outFmt, opts...)
		if err != nil {
			return err
		}
		if err := out.Close(); err != nil {
			return fmt.Errorf("%s: %w", in.output, err)
		}
		if err := w.commit(in); err != nil {
			return err
		}
	}
	return nil
}

// outputSchema is the columns of an output with no rows: those of the
// run's other outputs, or those the model's loader declares.
func (w *fileWriters) outputSchema(p *pool, input *arrow.Schema) *arrow.Schema {
	if first := p.firstOutput.Load(); first != nil {
		return first.schema
	}
	if s, ok := w.loader.(model.OutputSchemer); ok && input != nil {
		if schema, err := s.OutputSchema(input); err == nil {
			return schema
		}
	}
	return nil
}
