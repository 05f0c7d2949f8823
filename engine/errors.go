package engine

import (
	"errors"
	"fmt"
	"strings"
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
	if e.Executor < 0 {
		return fmt.Sprintf("%s failed after %d attempt(s): %v", e.Task, e.Attempts, e.Err)
	}
	return fmt.Sprintf("%s failed on executor %d after %d attempt(s): %v", e.Task, e.Executor, e.Attempts, e.Err)
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

// RunError is returned when more tasks failed than Options.MaxFailedTasks
// allows. It lists every failed task; errors.As finds each *TaskError in it.
type RunError struct {
	Failed    []*TaskError
	Tolerated int
	Tasks     int // -1 when the input's size was never known
}

func (e *RunError) Error() string {
	var b strings.Builder
	total := "?"
	if e.Tasks >= 0 {
		total = fmt.Sprint(e.Tasks)
	}
	fmt.Fprintf(&b, "%d of %s tasks failed (at most %d tolerated)", len(e.Failed), total, e.Tolerated)
	for i, f := range e.Failed {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more (see the execution's Report)", len(e.Failed)-i)
			break
		}
		fmt.Fprintf(&b, "; %v", f)
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

// ErrNoBackend is returned for Options.Cloud on a client without a remote
// backend.
var ErrNoBackend = errors.New("Options.Cloud is set but the client has no remote backend; pass one with engine.WithBackend, or unset Cloud to run in this process")

// permanent marks an error that retrying cannot fix.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }
