package engine

import "time"

// EventKind says what happened to a task.
type EventKind int

const (
	// TaskStarted: an attempt of the task began on an executor.
	TaskStarted EventKind = iota
	// TaskRetried: an attempt failed and the task will be tried again.
	TaskRetried
	// TaskFinished: the task's output is ready.
	TaskFinished
	// TaskFailed: the task failed and will not be tried again.
	TaskFailed
	// TaskInterrupted: the run stopped while the task ran; the Report
	// lists it as incomplete.
	TaskInterrupted
	// TaskResumed: the task's output was taken from the checkpoint of an
	// interrupted run (FileJob.Resume) instead of being scored; Executor
	// is -1.
	TaskResumed
)

func (k EventKind) String() string {
	switch k {
	case TaskStarted:
		return "started"
	case TaskRetried:
		return "retried"
	case TaskFinished:
		return "finished"
	case TaskFailed:
		return "failed"
	case TaskInterrupted:
		return "interrupted"
	case TaskResumed:
		return "resumed"
	}
	return "unknown"
}

// Event is one step of one task.
type Event struct {
	Kind     EventKind
	Task     Task
	Executor int
	// Attempt counts from 1. It is 0 for TaskResumed, and for a
	// TaskFailed of a task refused before its first attempt (its input
	// alone exceeds Options.Memory), which has no TaskStarted.
	Attempt int
	// Duration is how long the attempt ran; zero for TaskStarted.
	Duration time.Duration
	// Err is the attempt's error for TaskRetried and TaskFailed.
	Err  error
	Time time.Time
}
