package engine

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dfbatch/dfbatch/engine/internal/checkpoint"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
)

// fileRun is one run of a FileJob: it reads the inputs, writes each output
// under a temporary name in the work folder, renames it once it holds every
// row of its input, and keeps the checkpoint.
type fileRun struct {
	client *Client
	job    FileJob
	inputs []fileInput
	work   string
	create checkpoint.Files
	unlock func()
	cp     *checkpoint.Checkpoint // nil with FileJob.NoCheckpoint
	index  map[string]int         // input path -> index in inputs

	mu    sync.Mutex
	state []inputState // per input; the reader, writer and finish share it
	src   *filesSource

	// The writer's side, used by one goroutine at a time.
	current *outputFile
}

// inputState is where one input stands.
type inputState struct {
	kept     bool // written by the run this one resumed; not read again
	written  bool // its output holds every row, under its final name
	rowsRead int
	readAll  bool
	schema   *arrow.Schema // the input's, once opened
}

// open takes the work folder's lock and sets up the checkpoint: a new one,
// or with FileJob.Resume the interrupted run's, whose committed outputs are
// kept.
func (r *fileRun) open(o Options) (err error) {
	r.index = make(map[string]int, len(r.inputs))
	for i, in := range r.inputs {
		r.index[in.path] = i
	}
	r.state = make([]inputState, len(r.inputs))
	if r.unlock, err = checkpoint.Lock(r.work); err != nil {
		if errors.Is(err, checkpoint.ErrLocked) {
			return optionErrorf("FileJob.Destination", err, ": %v: another run is writing these outputs; wait for it to end", err)
		}
		return optionErrorf("FileJob.Destination", err, ": %v", err)
	}
	defer func() {
		if err != nil {
			r.abort()
		}
	}()
	removePartials(r.work)
	exists := checkpoint.Exists(r.work)
	if !r.job.Resume && exists {
		r.client.logger.Warn("discarding the checkpoint of an interrupted run; FileJob.Resume would continue it", "checkpoint", r.work)
	}
	if r.job.NoCheckpoint {
		if r.job.Resume {
			return optionErrorf("FileJob.Resume", nil, " needs a checkpoint, but %s is set", optionName("FileJob.NoCheckpoint"))
		}
		return nil
	}
	job, err := r.identify(o)
	if err != nil {
		return err
	}
	if !r.job.Resume || !exists {
		r.cp, err = checkpoint.Create(r.work, job, r.create)
		return err
	}
	if r.cp, err = checkpoint.Open(r.work, job, r.create); err != nil {
		return optionErrorf("FileJob.Resume", err, ": cannot resume from %s: %v; run without %s to start over", r.work, err, optionName("FileJob.Resume"))
	}
	for i, in := range r.inputs {
		commit, ok := r.cp.Committed(i)
		if !ok {
			continue
		}
		if info, err := os.Stat(in.output); err == nil && info.Size() == commit.Size {
			r.state[i].kept, r.state[i].written, r.state[i].readAll = true, true, true
		}
	}
	return nil
}

// identify describes the job for its checkpoint.
func (r *fileRun) identify(o Options) (checkpoint.Job, error) {
	ids := make([]checkpoint.Input, len(r.inputs))
	for i, in := range r.inputs {
		id, err := checkpoint.Identify(in.path)
		if err != nil {
			return checkpoint.Job{}, optionErrorf("FileJob.Source", err, ": %v", err)
		}
		id.Format, id.Output, id.OutputFormat = string(in.format), in.output, string(in.outFmt)
		ids[i] = id
	}
	return checkpoint.NewJob(ids, o.BatchSize, o.Parameters, o.BuildID, r.fingerprint()), nil
}

// fingerprint is FileJob.Fingerprint with how CSV and JSON Lines inputs
// are read and outputs written, which change the outputs' bytes as much as the model.
func (r *fileRun) fingerprint() map[string]string {
	j := r.job
	if j.NAValues == nil && j.ColumnTypes == nil && j.Delimiter == 0 && j.Thousands == 0 && j.Decimal == 0 && j.Compression == "" && j.RowGroupRows == 0 {
		return j.Fingerprint
	}
	fp := maps.Clone(j.Fingerprint)
	if fp == nil {
		fp = map[string]string{}
	}
	if j.NAValues != nil {
		values, _ := json.Marshal(j.NAValues) // a []string always encodes
		fp["FileJob.NAValues"] = string(values)
	}
	if j.ColumnTypes != nil {
		types := make([]string, 0, len(j.ColumnTypes))
		for name, t := range j.ColumnTypes {
			types = append(types, strconv.Quote(name)+"="+t.String())
		}
		slices.Sort(types)
		fp["FileJob.ColumnTypes"] = strings.Join(types, ", ")
	}
	for name, sep := range map[string]rune{"FileJob.Delimiter": j.Delimiter, "FileJob.Thousands": j.Thousands, "FileJob.Decimal": j.Decimal} {
		if sep != 0 {
			fp[name] = strconv.QuoteRune(sep)
		}
	}
	if j.Compression != "" {
		fp["FileJob.Compression"] = j.Compression
	}
	if j.RowGroupRows != 0 {
		fp["FileJob.RowGroupRows"] = strconv.Itoa(j.RowGroupRows)
	}
	return fp
}

// result is what the run's report says of input in before its state:
// where it goes and how it is read.
func (r *fileRun) result(in fileInput) FileResult {
	return FileResult{Input: in.path, Format: in.format, Output: in.output, ReadOptions: r.job.ReadOptions(in.format)}
}

// abort releases what open took, for a run that does not start, and
// removes the work folder unless it holds a checkpoint.
func (r *fileRun) abort() {
	if r.cp != nil {
		r.cp.Close()
	}
	if r.unlock != nil {
		if !checkpoint.Exists(r.work) {
			removeWorkFolder(r.work)
		}
		r.unlock()
	}
}

// removeWorkFolder removes a work folder that holds nothing but its lock;
// the caller holds the lock.
func removeWorkFolder(work string) {
	os.Remove(filepath.Join(work, "lock"))
	os.Remove(work)
}

// source reads the inputs not kept from an interrupted run.
func (r *fileRun) source(batchSize int) source {
	r.src = &filesSource{run: r, batchSize: batchSize}
	return r.src
}

// save checkpoints a scored output.
func (r *fileRun) save(t Task, out *frame.Frame) error {
	if r.cp == nil {
		return nil
	}
	return r.cp.Save(checkpoint.Span{N: r.index[t.Source], Start: t.Start, End: t.End}, out)
}

// outputFile is an output being written under its temporary name.
type outputFile struct {
	n       int
	file    checkpoint.File
	buf     *bufio.Writer
	w       frame.Writer
	partial string
	rows    int  // rows written, from the input's first
	gap     bool // a task's rows are missing
}

func (r *fileRun) partialPath(n int) string {
	return filepath.Join(r.work, filepath.Base(r.inputs[n].output)+".partial")
}

// write takes the outputs in input order, from the stream sink.
func (r *fileRun) write(b Batch) error {
	n := r.index[b.Task.Source]
	if r.current == nil || r.current.n != n {
		if err := r.closeCurrent(); err != nil {
			return err
		}
		out, err := r.createOutput(n, nil)
		if err != nil {
			return err
		}
		r.current = out
	}
	out := r.current
	if b.Task.Start != out.rows {
		out.gap = true // a failed task's rows are missing
	}
	out.rows = b.Task.End
	if out.gap {
		return nil // the output will be discarded
	}
	return out.w.Write(b.Frame)
}

// createOutput opens input n's output under its temporary name.
func (r *fileRun) createOutput(n int, opts []frame.WriteOption) (*outputFile, error) {
	in := r.inputs[n]
	path := r.partialPath(n)
	f, err := r.create(path)
	if err != nil {
		return nil, fmt.Errorf("creating the output of %s: %w", in.path, err)
	}
	buf := bufio.NewWriterSize(f, 1<<16)
	w, err := frame.NewWriter(buf, in.output, in.outFmt, append(r.job.WriteOptions(in.outFmt), opts...)...)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return &outputFile{n: n, file: f, buf: buf, w: w, partial: path}, nil
}

// closeCurrent ends the output being written: it is committed if it holds
// every row of its input, and removed otherwise.
func (r *fileRun) closeCurrent() error {
	out := r.current
	if out == nil {
		return nil
	}
	r.current = nil
	r.mu.Lock()
	st := r.state[out.n]
	r.mu.Unlock()
	if out.gap || !st.readAll || out.rows != st.rowsRead {
		discardOutput(out)
		return nil
	}
	return r.commit(out)
}

// commit finishes an output, makes it durable and renames it to its final
// name.
func (r *fileRun) commit(out *outputFile) error {
	in := r.inputs[out.n]
	err := out.w.Close()
	if err == nil {
		err = out.buf.Flush()
	}
	if err == nil {
		err = out.file.Sync()
	}
	if cerr := out.file.Close(); err == nil {
		err = cerr
	}
	var info os.FileInfo
	if err == nil {
		info, err = os.Stat(out.partial)
	}
	if err == nil {
		err = os.Rename(out.partial, in.output)
	}
	if err != nil {
		os.Remove(out.partial)
		return fmt.Errorf("writing %s: %w", in.output, err)
	}
	syncDir(filepath.Dir(in.output))
	r.mu.Lock()
	r.state[out.n].written = true
	r.mu.Unlock()
	if r.cp != nil {
		return r.cp.Commit(out.n, in.output, info.Size())
	}
	return nil
}

func discardOutput(out *outputFile) {
	out.file.Close()
	os.Remove(out.partial)
}

// syncDir makes a rename in dir durable; where a folder cannot be synced,
// the rename is still atomic.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// finish runs after the last task: it ends the output being written,
// writes the outputs of inputs without rows, records every input's
// outcome, and cleans the work folder: all of it once every output is
// written, else all but the checkpoint.
func (r *fileRun) finish(run *Run) error {
	r.src.close()
	err := r.closeCurrent()
	if err == nil {
		err = r.writeEmptyOutputs(run)
	}
	r.mu.Lock()
	files := make([]FileResult, len(r.inputs))
	var outputs []string
	complete := true
	for i, in := range r.inputs {
		st := r.state[i]
		files[i] = r.result(in)
		files[i].Written, files[i].Kept, files[i].RowsRead, files[i].ReadAll = st.written, st.kept, st.rowsRead, st.readAll
		if st.written {
			outputs = append(outputs, in.output)
		}
		complete = complete && st.written
	}
	r.mu.Unlock()
	kept := ""
	if r.cp != nil {
		if complete {
			err = errors.Join(err, r.cp.Remove())
		} else {
			err = errors.Join(err, r.cp.Close())
			kept = r.work
		}
	}
	removePartials(r.work)
	if kept == "" {
		removeWorkFolder(r.work) // while locked: see checkpoint.Lock
	}
	r.unlock()
	run.recordFiles(outputs, files, kept)
	return err
}

// writeEmptyOutputs writes the output of each input read to its end
// without a row: the model's columns and no rows.
func (r *fileRun) writeEmptyOutputs(run *Run) error {
	for i := range r.inputs {
		r.mu.Lock()
		st := r.state[i]
		r.mu.Unlock()
		if st.written || !st.readAll || st.rowsRead > 0 {
			continue
		}
		var opts []frame.WriteOption
		if schema := r.outputSchema(run, r.inputs[i].path, st.schema); schema != nil {
			opts = append(opts, frame.WithSchema(schema))
		}
		out, err := r.createOutput(i, opts)
		if err != nil {
			return err
		}
		if err := r.commit(out); err != nil {
			return err
		}
	}
	return nil
}

// outputSchema is the columns of the output of source, an input with no
// rows: those of the run's other outputs, or those the model's loader
// declares.
func (r *fileRun) outputSchema(run *Run, source string, input *arrow.Schema) *arrow.Schema {
	if first := run.firstOutput(source); first != nil {
		return first.schema
	}
	if s, ok := r.client.loader.(model.OutputSchemer); ok && input != nil {
		if schema, err := s.OutputSchema(input); err == nil {
			return schema
		}
	}
	return nil
}

// removePartials deletes the temporary outputs in a work folder, such as
// those a crashed run left.
func removePartials(work string) {
	partials, _ := filepath.Glob(filepath.Join(work, "*.partial"))
	for _, path := range partials {
		os.Remove(path)
	}
}

// filesSource reads the inputs one after the other, as one stream of
// tasks numbered across files, with row ranges within each file. With a
// checkpoint, a task whose output it holds comes with that output.
type filesSource struct {
	run       *fileRun
	batchSize int
	pos       int // index of the input being read
	current   *rebatcher
	tasks     int
}

func (s *filesSource) next() (job, error) {
	r := s.run
	for ; s.pos < len(r.inputs); s.pos++ {
		r.mu.Lock()
		kept := r.state[s.pos].kept
		r.mu.Unlock()
		if kept {
			continue
		}
		in := r.inputs[s.pos]
		if s.current == nil {
			opts := append(r.job.ReadOptions(in.format), frame.WithBatchRows(s.batchSize))
			rd, err := frame.OpenFile(in.path, in.format, opts...)
			if err != nil {
				return job{}, err
			}
			r.mu.Lock()
			r.state[s.pos].schema = rd.Schema()
			r.mu.Unlock()
			s.current = &rebatcher{r: rd, source: in.path, batchSize: s.batchSize, firstIndex: s.tasks}
		}
		j, err := s.current.next()
		if err == nil {
			s.tasks++
			r.mu.Lock()
			r.state[s.pos].rowsRead = j.task.End
			r.mu.Unlock()
			if r.cp != nil {
				if j.output, err = r.cp.Output(checkpoint.Span{N: s.pos, Start: j.task.Start, End: j.task.End}); err != nil {
					return job{}, err
				}
			}
			return j, nil
		}
		if err != io.EOF {
			return job{}, fmt.Errorf("%s: %w", in.path, err)
		}
		if err := s.current.r.Close(); err != nil {
			return job{}, fmt.Errorf("%s: %w", in.path, err)
		}
		s.current = nil
		r.mu.Lock()
		r.state[s.pos].readAll = true
		r.mu.Unlock()
	}
	return job{}, io.EOF
}

func (s *filesSource) inMemory() bool { return false }

func (s *filesSource) total() int {
	if s.exhausted() {
		return s.tasks
	}
	return -1
}

func (s *filesSource) remaining() []Task { return nil }
func (s *filesSource) exhausted() bool   { return s.pos == len(s.run.inputs) }

// close closes the input being read, if the run stopped midway.
func (s *filesSource) close() {
	if s.current != nil {
		_ = s.current.r.Close()
		s.current = nil
	}
}
