package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"iter"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/go-gota/gota/dataframe"
)

// Execution is a run in progress. Its methods are safe for concurrent use.
// The run stops on its own when every task is done, when more tasks fail
// than allowed, at the job timeout, or when the context given to Start is
// cancelled or Cancel is called; Wait then returns.
type Execution struct {
	id      string
	opts    Options
	started time.Time
	cancel  context.CancelCauseFunc
	done    chan struct{}

	mu      sync.Mutex
	changed *sync.Cond // signalled when events grow or the run ends
	state   State
	tasks   int // -1 while unknown
	running int
	events  []Event // the most recent events, at most maxEvents
	dropped int     // events dropped from the front of events
	report  Report
	out     *frame.Frame
	err     error
}

func newExecution(opts Options, cancel context.CancelCauseFunc) *Execution {
	e := &Execution{id: newID(), opts: opts, started: time.Now(), cancel: cancel, done: make(chan struct{}), tasks: -1}
	e.changed = sync.NewCond(&e.mu)
	return e
}

func newID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "dfb-" + hex.EncodeToString(b[:])
}

// ID identifies the execution in logs and remote resources.
func (e *Execution) ID() string { return e.id }

// Options returns the resolved options the execution runs with: the run's
// options over the client's defaults, with presets and defaults applied.
func (e *Execution) Options() Options { return e.opts.clone() }

// Status returns a snapshot of the execution's progress.
func (e *Execution) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	elapsed := time.Since(e.started)
	if e.state.Done() {
		elapsed = e.report.Duration
	}
	return Status{State: e.state, Tasks: e.tasks, Finished: e.report.Finished, Failed: len(e.report.Failed), Running: e.running, Rows: e.report.RowsOut, Elapsed: elapsed}
}

// Events returns the execution's task events, from its start, then new
// ones as they happen, for a range loop:
//
//	for ev := range execution.Events() { ... }
//
// The loop waits for each next event and ends after the last event of a
// finished run; breaking out of it early is safe. It runs in the caller's
// goroutine, starts none, and never slows the run: events are kept in a
// log that each loop reads at its own pace, so loops may be many, start
// late and lag. The log keeps the last 16,384 events, so a loop that
// starts late in a very long run, or falls that far behind, misses the
// oldest.
func (e *Execution) Events() iter.Seq[Event] {
	return func(yield func(Event) bool) {
		for seq := 0; ; seq++ {
			e.mu.Lock()
			for seq >= e.dropped+len(e.events) && !e.state.Done() {
				e.changed.Wait()
			}
			seq = max(seq, e.dropped)
			if seq >= e.dropped+len(e.events) {
				e.mu.Unlock()
				return
			}
			ev := e.events[seq-e.dropped]
			e.mu.Unlock()
			if !yield(ev) {
				return
			}
		}
	}
}

// maxEvents bounds the event log, so that a streamed run's memory does not
// grow with its number of tasks.
const maxEvents = 1 << 14

// Cancel stops the run: no task starts after it, running tasks see their
// context cancelled, and Wait returns once they have returned.
func (e *Execution) Cancel() { e.cancel(ErrCancelled) }

// Done is closed when the execution has ended.
func (e *Execution) Done() <-chan struct{} { return e.done }

// Wait waits for the run to end and returns its output: every finished
// task's rows, in input order (or completion order for an unordered run).
// A run that ended without all of its output returns an *IncompleteError
// carrying the final Report, which lists the missing rows; the frame still
// holds the rows that were scored, or is nil if none were or the output
// was streamed. Tolerated failed tasks (Options.MaxFailedTasks) are such
// an error too, matching ErrPartial: no run returns a nil error with rows
// missing.
func (e *Execution) Wait() (*frame.Frame, error) {
	<-e.done
	return e.out, e.err
}

// WaitDataFrame is Wait with the output as a gota DataFrame, for runs
// started with StartDataFrame (or Start). Where Wait's frame is nil or has
// no columns, the DataFrame is empty and its Err is the run's error.
func (e *Execution) WaitDataFrame() (dataframe.DataFrame, error) {
	out, err := e.Wait()
	if out == nil || out.NumCols() == 0 {
		return dataframe.DataFrame{Err: err}, err
	}
	return out.ToDataFrame(), err
}

// Report returns the execution's account of its tasks so far; it is
// complete once the execution has ended.
func (e *Execution) Report() Report {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.snapshot()
}

// snapshot copies the report; e.mu is held.
func (e *Execution) snapshot() Report {
	r := e.report
	r.Failed = slices.Clone(r.Failed)
	r.Incomplete = slices.Clone(r.Incomplete)
	r.Outputs = slices.Clone(r.Outputs)
	r.Files = slices.Clone(r.Files)
	r.ModelLogs = slices.Clone(r.ModelLogs)
	if !r.State.Done() {
		r.Duration = time.Since(e.started)
	}
	return r
}

func (e *Execution) emit(ev Event) {
	e.mu.Lock()
	switch ev.Kind {
	case TaskStarted:
		e.running++
	case TaskRetried, TaskFinished, TaskInterrupted:
		e.running--
	case TaskFailed:
		if ev.Attempt > 0 {
			e.running--
		}
	}
	if len(e.events) == maxEvents {
		half := maxEvents / 2
		e.events = append(e.events[:0], e.events[half:]...)
		e.dropped += half
	}
	e.events = append(e.events, ev)
	e.mu.Unlock()
	e.changed.Broadcast()
}

// Errors a run ends with, wrapped; test for them with errors.Is.
var (
	// ErrCancelled: Execution.Cancel was called.
	ErrCancelled = errors.New("run cancelled")
	// ErrJobTimeout: the run exceeded Options.JobTimeout.
	ErrJobTimeout = errors.New("job timeout exceeded")
)

// withJobTimeout bounds ctx by Options.JobTimeout, if set, with
// ErrJobTimeout as the cause.
func withJobTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, d, ErrJobTimeout)
}

// finish records the end of the run and wakes every waiter. A run error
// becomes an *IncompleteError carrying the final report.
func (e *Execution) finish(out *frame.Frame, err error, logger *slog.Logger) {
	e.mu.Lock()
	e.report.Duration = time.Since(e.started)
	switch {
	case err == nil:
		e.state = Succeeded
	case errors.Is(err, ErrPartial):
		e.state = Partial
	case errors.Is(err, ErrJobTimeout):
		e.state = TimedOut
	case errors.Is(err, context.Canceled) || errors.Is(err, ErrCancelled):
		e.state = Cancelled
	default:
		e.state = Failed
	}
	e.report.State = e.state
	if err != nil {
		if out != nil && out.NumRows() == 0 {
			out = nil // nothing was scored
		}
		inc := &IncompleteError{Err: err}
		e.report.Err = inc
		inc.Report = e.snapshot()
		err = inc
	}
	e.out, e.err = out, err
	r := e.report
	e.mu.Unlock()
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelError
	}
	logger.Log(context.Background(), level, "dfbatch run ended", "execution", e.id, "state", r.State.String(),
		"tasks", r.Tasks, "finished", r.Finished, "failed", len(r.Failed), "incomplete", len(r.Incomplete),
		"rows_out", r.RowsOut, "duration", r.Duration, "error", err)
	// Waiters wake last: once Wait returns, the run does nothing more.
	e.changed.Broadcast()
	close(e.done)
}

// describeStop explains why a run stopped early and how much of it is
// done; total is the number of tasks, or -1 when the input was not read to
// its end.
func describeStop(cause error, r Report, total int) error {
	return &StopError{Cause: cause, Finished: r.Finished, Total: total, Rerun: len(r.Failed) + len(r.Incomplete)}
}
