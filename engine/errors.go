package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dfbatch/dfbatch/engine/internal/checkpoint"
)

// TaskError is the failure of one task: which rows, on which executor, on
// which attempt, and why. Runs return it wrapped; find it with errors.As.
type TaskError struct {
	Task Task
	// Executor is the index of the executor that ran the task, or -1 when
	// it ran on a remote backend, whose error names where (a pod).
	Executor int
	// Attempts is how many times the task was tried.
	Attempts int
	Err      error
}

func (e *TaskError) Error() string {
	where := ""
	if e.Executor >= 0 {
		where = fmt.Sprintf(" on executor %d", e.Executor)
	}
	if e.Attempts == 0 {
		return fmt.Sprintf("%s was refused%s before its first attempt: %v", e.Task, where, e.Err)
	}
	return fmt.Sprintf("%s failed%s after %s: %v", e.Task, where, plural(e.Attempts, "attempt"), e.Err)
}

// plural is "1 task", "2 tasks".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Unwrap returns the cause.
func (e *TaskError) Unwrap() error { return e.Err }

// PanicError is a model panic, recovered and turned into its task's error.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("model panicked: %v", e.Value)
}

// RunError is the failure of tasks: more of them than
// Options.MaxFailedTasks allows, which stopped the run, or no more than it
// allows (Partial), in which case the run finished without their rows and
// errors.Is(err, ErrPartial) holds. It lists every failed task; errors.As
// finds each *TaskError in it.
type RunError struct {
	Failed    []*TaskError
	Tolerated int
	Tasks     int // -1 when the input's size was never known
}

// ErrPartial is the error of a run that finished with failed tasks it was
// allowed to tolerate (Options.MaxFailedTasks): its output holds every
// other row. Test for it with errors.Is; the error is a *RunError inside
// an *IncompleteError, whose Report names the missing rows.
var ErrPartial = errors.New("the output lacks the rows of failed tasks")

// Partial reports whether the failures were tolerated.
func (e *RunError) Partial() bool { return len(e.Failed) <= e.Tolerated }

// Is makes errors.Is(err, ErrPartial) hold for tolerated failures.
func (e *RunError) Is(target error) bool { return target == ErrPartial && e.Partial() }

func (e *RunError) Error() string {
	var b strings.Builder
	total := "?"
	if e.Tasks >= 0 {
		total = fmt.Sprint(e.Tasks)
	}
	if e.Partial() {
		fmt.Fprintf(&b, "%d of %s tasks failed, within the %d tolerated (Options.MaxFailedTasks): %v", len(e.Failed), total, e.Tolerated, ErrPartial)
	} else {
		fmt.Fprintf(&b, "%d of %s tasks failed (at most %d tolerated)", len(e.Failed), total, e.Tolerated)
	}
	// A task error may end with quoted lines (a remote pod's log): what
	// follows it then starts a line of its own, not the last quoted one.
	sep := func() string {
		if strings.Contains(b.String(), "\n") {
			return "\n"
		}
		return "; "
	}
	for i, f := range e.Failed {
		if i == 3 {
			fmt.Fprintf(&b, "%sand %d more (see the execution's Report)", sep(), len(e.Failed)-i)
			break
		}
		fmt.Fprintf(&b, "%s%v", sep(), f)
	}
	return b.String()
}

// Unwrap returns the task errors.
func (e *RunError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f
	}
	return errs
}

// IncompleteError is the error of every run that ended without all of its
// output: tasks failed (a *RunError, which for tolerated failures matches
// ErrPartial), the run was cancelled or timed out, the input could not be
// read or an output not written. Report is the run's final report: its
// Rerun and RerunFrame (RerunDataFrame for gota) name exactly the rows to
// score again, and Client.Run's callers reach it through errors.As.
type IncompleteError struct {
	Report Report
	Err    error
}

func (e *IncompleteError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *IncompleteError) Unwrap() error { return e.Err }

// StopError is why a run stopped before its last task, with how far it
// got; it is the Err of the run's IncompleteError. Report().Rerun() lists
// the tasks to run again.
type StopError struct {
	// Cause is what stopped the run: a failed task past
	// Options.MaxFailedTasks, the job timeout, cancellation, an output
	// that could not be written.
	Cause error
	// Finished is the number of tasks that finished.
	Finished int
	// Total is the number of tasks, or -1 when the input was not read to
	// its end.
	Total int
	// Rerun is the number of planned tasks that did not finish.
	Rerun int
}

func (e *StopError) Error() string {
	return fmt.Sprintf("%v %s; Report().Rerun() lists the %s to run again%s",
		e.Cause, e.Progress(), plural(e.Rerun, "task"), e.unread())
}

// Progress says how far the run got: "after 3 of 5 tasks finished".
func (e *StopError) Progress() string {
	if e.Total < 0 {
		return "after " + plural(e.Finished, "task") + " finished"
	}
	return fmt.Sprintf("after %d of %d tasks finished", e.Finished, e.Total)
}

// unread adds that the input past the planned tasks was never read.
func (e *StopError) unread() string {
	if e.Total < 0 {
		return ", and the input after them was never read"
	}
	return ""
}

// Unwrap returns the cause.
func (e *StopError) Unwrap() error { return e.Cause }

// Errors of file runs that did not start, wrapped; test for them with
// errors.Is.
var (
	// ErrCheckpointMismatch: FileJob.Resume found a checkpoint made for
	// another job (inputs, options or model changed); the error names each
	// difference. A run without Resume starts over.
	ErrCheckpointMismatch = checkpoint.ErrMismatch
	// ErrDestinationLocked: another run is writing the job's outputs.
	ErrDestinationLocked = checkpoint.ErrLocked
)

// ErrNoBackend is returned for Options.Cloud on a client without a remote
// backend.
var ErrNoBackend = errors.New("Options.Cloud is set but the client has no remote backend; pass one with engine.WithBackend, or unset Cloud to run in this process")

// permanent marks an error that retrying cannot fix.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }
