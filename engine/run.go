package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dfbatch/dfbatch/frame"
)

// Run is one execution's tasks as its Backend sees them: it hands out the
// tasks with their rows, takes their outputs and failures, and keeps the
// execution's state (Status, Events, Report), whichever backend runs them.
// Its methods are safe for concurrent use, except Next, which one goroutine
// at a time calls.
type Run struct {
	exec   *Execution
	logger *slog.Logger
	src    source
	sink   sink
	// scored, if set, is given each scored output before the sink: a file
	// run's checkpoint. An error stops the run.
	scored func(Task, *frame.Frame) error

	// firstOutputs holds, by Task.Source, the first output's schema of
	// each input (*outputShape), which every later output of that input
	// must match: the outputs of one input go to one file or frame, those
	// of a folder's files to a file each.
	firstOutputs sync.Map

	// window, for a streamed run, bounds the tasks whose rows are held in
	// this process: Next takes a slot for each task it hands out, and the
	// slot is freed when the task's output is delivered or dropped, or
	// when Release says the backend holds its rows no more. nil when the
	// outputs are retained: the input is in memory anyway.
	window chan struct{}

	mu          sync.Mutex
	outstanding map[int]Task // handed out, neither delivered nor failed
	held        map[int]bool // tasks holding a slot of window
}

type outputShape struct {
	schema *arrow.Schema
	task   int
}

func newRun(e *Execution, logger *slog.Logger, src source) *Run {
	return &Run{exec: e, logger: logger, src: src, outstanding: map[int]Task{}, held: map[int]bool{}}
}

// ID returns the execution's ID, for naming remote resources.
func (r *Run) ID() string { return r.exec.id }

// Options returns the run's resolved options.
func (r *Run) Options() Options { return r.exec.opts.clone() }

// Tasks returns the number of tasks, or -1 while the input is still being
// read.
func (r *Run) Tasks() int {
	r.exec.mu.Lock()
	defer r.exec.mu.Unlock()
	return r.exec.tasks
}

// Next returns the next task to score, in input order, with its rows
// numbered as the input numbers them (frame.RowOffset). It returns io.EOF
// after the last task, ctx's error once ctx has ended, and any error
// reading the input, which ends the run. Tasks whose outputs a checkpoint
// holds are delivered on the way, not handed out. In a streamed run, Next
// waits while about 2 x Executors tasks it handed out are held: neither
// delivered, failed nor released (Release).
func (r *Run) Next(ctx context.Context) (Task, *frame.Frame, error) {
	for {
		if r.window != nil {
			select {
			case r.window <- struct{}{}:
			case <-ctx.Done():
				return Task{}, nil, ctx.Err()
			}
		}
		j, err := r.src.next()
		t := j.task
		if err == io.EOF {
			if r.window != nil {
				<-r.window // the slot taken for no task
			}
			r.exec.mu.Lock()
			r.exec.tasks = r.src.total()
			r.exec.report.Tasks = r.exec.tasks
			r.exec.mu.Unlock()
			return Task{}, nil, io.EOF
		}
		if err != nil {
			return Task{}, nil, fmt.Errorf("reading the input: %w", err)
		}
		r.mu.Lock()
		r.outstanding[t.Index] = t
		r.held[t.Index] = r.window != nil
		r.mu.Unlock()
		r.exec.mu.Lock()
		r.exec.report.RowsIn += t.Rows()
		r.exec.report.Tasks = max(r.exec.report.Tasks, t.Index+1)
		r.exec.mu.Unlock()
		if j.output == nil {
			return t, j.rows, nil
		}
		if err := r.resume(t, j.output); err != nil {
			return Task{}, nil, err
		}
	}
}

// streamSink is a sink that hands the outputs to consume, in task order
// if ordered, reading at most about 2 x Executors tasks ahead of it.
func (r *Run) streamSink(ordered bool, consume func(Batch) error) sink {
	r.window = make(chan struct{}, 2*r.exec.opts.Executors)
	return newStreamSink(ordered, consume, r.delivered, r.Release)
}

// resume delivers a task's output taken from a checkpoint.
func (r *Run) resume(t Task, out *frame.Frame) error {
	if err := r.CheckOutput(t, out); err != nil {
		return fmt.Errorf("the checkpointed output of %s: %w", t, err)
	}
	r.exec.mu.Lock()
	r.exec.report.Resumed++
	r.exec.report.RowsResumed += t.Rows()
	r.exec.mu.Unlock()
	r.exec.emit(Event{Kind: TaskResumed, Task: t, Executor: -1, Time: time.Now()})
	return r.sink.put(t, out)
}

// Release tells the run that the backend no longer holds task t's rows in
// this process (it staged them elsewhere), so that Next may hand out more
// tasks before t's output comes back.
func (r *Run) Release(t Task) {
	r.mu.Lock()
	held := r.held[t.Index]
	delete(r.held, t.Index)
	r.mu.Unlock()
	if held {
		<-r.window
	}
}

// Event records a step of a task's attempt (TaskStarted, TaskRetried,
// TaskFinished, TaskInterrupted, TaskFailed) for Status and Events. What
// the task produced goes to Finish or Fail.
func (r *Run) Event(ev Event) { r.exec.emit(ev) }

// Log records the lines a task's attempt logged (Report.ModelLogs).
func (r *Run) Log(l ModelLog) {
	if len(l.Lines) == 0 {
		return
	}
	r.exec.mu.Lock()
	r.exec.report.ModelLogs = append(r.exec.report.ModelLogs, l)
	r.exec.mu.Unlock()
}

// CheckOutput makes every task's output have the columns of the first
// output of the same input; an output that does not is a permanent error
// of its task, not to be retried.
func (r *Run) CheckOutput(t Task, out *frame.Frame) error {
	v, loaded := r.firstOutputs.LoadOrStore(t.Source, &outputShape{schema: out.Schema(), task: t.Index})
	if !loaded {
		return nil
	}
	first := v.(*outputShape)
	if first.schema == out.Schema() {
		return nil // a model that reuses its schema object: nothing to compare
	}
	if err := frame.SameSchema(first.schema, out.Schema()); err != nil {
		return permanent{fmt.Errorf("the output's columns differ from those of task %d: %w", first.task, err)}
	}
	return nil
}

// firstOutput is the first output of source's tasks, or when source has
// none yet that of another source; nil when no task has an output.
func (r *Run) firstOutput(source string) *outputShape {
	if v, ok := r.firstOutputs.Load(source); ok {
		return v.(*outputShape)
	}
	var other *outputShape
	r.firstOutputs.Range(func(_, v any) bool {
		other = v.(*outputShape)
		return false
	})
	return other
}

// Finish takes task t's output, which CheckOutput passed. An error (the
// output could not be written) stops the run: the backend must not hand
// out more work.
func (r *Run) Finish(t Task, out *frame.Frame) error {
	if r.scored != nil {
		if err := r.scored(t, out); err != nil {
			return err
		}
	}
	return r.sink.put(t, out)
}

// errTooManyFailures stops the run once more tasks failed than allowed;
// the run's error is built from the Report afterwards.
var errTooManyFailures = errors.New("too many failed tasks")

// Fail records a task that failed for good. Its error stops the run: more
// tasks failed than Options.MaxFailedTasks allows, or delivering the
// outputs that waited for this task failed.
func (r *Run) Fail(te *TaskError) error {
	r.mu.Lock()
	delete(r.outstanding, te.Task.Index)
	r.mu.Unlock()
	r.exec.mu.Lock()
	r.exec.report.Failed = append(r.exec.report.Failed, te)
	failed := len(r.exec.report.Failed)
	r.exec.mu.Unlock()
	r.logger.Warn("task failed", "execution", r.exec.id, "task", te.Task.Index, "rows", te.Task.String(), "attempts", te.Attempts, "error", te.Err)
	if failed > r.exec.opts.MaxFailedTasks {
		return errTooManyFailures
	}
	return r.sink.drop(te.Task)
}

// delivered records a task whose output reached the result; the sink
// calls it.
func (r *Run) delivered(t Task) {
	r.mu.Lock()
	delete(r.outstanding, t.Index)
	r.mu.Unlock()
	r.exec.mu.Lock()
	r.exec.report.Finished++
	r.exec.report.RowsOut += t.Rows()
	r.exec.mu.Unlock()
}

// recordFiles records what a file run wrote (Report.Outputs, Files) and
// where it kept its checkpoint, if it did.
func (r *Run) recordFiles(outputs []string, files []FileResult, checkpoint string) {
	r.exec.mu.Lock()
	defer r.exec.mu.Unlock()
	r.exec.report.Outputs, r.exec.report.Files, r.exec.report.Checkpoint = outputs, files, checkpoint
}

// end completes the report once the backend has returned err, and returns
// the run's error: why it stopped (ctx's cause), with how much of it is
// done, or a RunError for failed tasks.
func (r *Run) end(ctx context.Context, err error) error {
	r.mu.Lock()
	incomplete := slices.Collect(maps.Values(r.outstanding))
	r.mu.Unlock()
	incomplete = append(incomplete, r.src.remaining()...)
	slices.SortFunc(incomplete, func(a, b Task) int { return a.Index - b.Index })
	e := r.exec
	e.mu.Lock()
	e.report.Incomplete = incomplete
	e.report.InputRead = r.src.exhausted()
	if t := r.src.total(); t >= 0 {
		e.tasks = t
	}
	e.report.Tasks = max(e.tasks, e.report.Tasks)
	slices.SortFunc(e.report.Failed, func(a, b *TaskError) int { return a.Task.Index - b.Task.Index })
	rep, total := e.report, e.tasks
	e.mu.Unlock()

	opts := r.exec.opts
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, ErrJobTimeout):
		return describeStop(fmt.Errorf("%w (Options.JobTimeout = %s)", cause, opts.JobTimeout), rep, total)
	case cause != nil:
		return describeStop(cause, rep, total)
	case errors.Is(err, errTooManyFailures):
		return &RunError{Failed: rep.Failed, Tolerated: opts.MaxFailedTasks, Tasks: total}
	case err != nil:
		return describeStop(err, rep, total)
	case len(incomplete) > 0 || !rep.InputRead:
		return describeStop(errors.New("the backend returned with tasks neither finished nor failed"), rep, total)
	case len(rep.Failed) > 0:
		// Tolerated failures: the run ended, without their rows.
		return &RunError{Failed: rep.Failed, Tolerated: opts.MaxFailedTasks, Tasks: total}
	}
	return nil
}
