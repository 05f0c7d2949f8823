package engine

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

// State is where an execution stands.
type State int

const (
	// Running: tasks are being scored.
	Running State = iota
	// Succeeded: every task's output is in the result.
	Succeeded
	// Failed: more tasks failed than allowed, the input could not be read,
	// or the output could not be written.
	Failed
	// Cancelled: the caller cancelled the run or its context.
	Cancelled
	// TimedOut: the run exceeded Options.JobTimeout.
	TimedOut
	// Partial: every task ran, but some failed within
	// Options.MaxFailedTasks: the result lacks their rows, which the Report
	// lists (Wait's error matches ErrPartial).
	Partial
)

func (s State) String() string {
	switch s {
	case Running:
		return "running"
	case Succeeded:
		return "succeeded"
	case Failed:
		return "failed"
	case Cancelled:
		return "cancelled"
	case TimedOut:
		return "timed out"
	case Partial:
		return "partial"
	}
	return "unknown"
}

// Done reports whether the execution has ended.
func (s State) Done() bool { return s != Running }

// Status is a snapshot of an execution's progress.
type Status struct {
	State State
	// Tasks is the number of tasks, or -1 while a streamed input is still
	// being read.
	Tasks int
	// Finished counts the tasks whose output is done; Failed those that
	// failed after their retries; Running the attempts in progress.
	Finished, Failed, Running int
	// Rows counts the input rows of finished tasks.
	Rows    int
	Elapsed time.Duration
}

// Report is an execution's account of its tasks, complete once it ends.
// Every input row is either in the output or in a task of Failed or
// Incomplete, so Rerun names exactly the rows to score again. A file run is
// the exception: an output that would lack rows is not written at all
// (Files), and the finished tasks of its input wait in the checkpoint;
// RerunFile names the rows to score again, which are what Resume scores.
type Report struct {
	ExecutionID string
	State       State
	// Tasks is the number of tasks planned or read; Finished how many of
	// them are in the output.
	Tasks, Finished int
	// RowsIn and RowsOut count the rows read and the rows in the output.
	RowsIn, RowsOut int
	// Resumed counts the tasks, and RowsResumed their rows, whose outputs
	// a resumed file run took from its checkpoint instead of scoring them
	// (they count in Finished and RowsOut too).
	Resumed, RowsResumed int
	// Failed lists the tasks that failed after their retries, by index.
	Failed []*TaskError
	// Incomplete lists the tasks that are neither in the output nor failed:
	// never started, interrupted, or finished but held back because the run
	// stopped before an earlier task's output was written.
	Incomplete []Task
	// InputRead is false when a streamed input was not read to its end,
	// so rows after the last task listed were never read.
	InputRead bool
	// Outputs lists the output files of a file-to-file run that hold every
	// row of their input, in input order: written by this run or, when it
	// resumed, kept from the interrupted one.
	Outputs []string
	// Files says what a file-to-file run did with each input, in input
	// order.
	Files []FileResult
	// Checkpoint is the folder holding the checkpoint of a file run that
	// did not write every output, for a later run with FileJob.Resume;
	// "" when none was kept.
	Checkpoint string
	// ModelLogs holds the lines models logged (model.Log), one entry per
	// task attempt that logged any, in the order attempts ended. Each
	// attempt keeps its last maxModelLogLines lines.
	ModelLogs []ModelLog
	Started   time.Time
	Duration  time.Duration
	// Err is the error the run ended with, nil on success.
	Err error
}

// ModelLog is what a model logged while scoring one attempt of a task.
type ModelLog struct {
	Task     Task
	Attempt  int
	Executor int
	Lines    []string
	// Dropped counts earlier lines not kept.
	Dropped int
}

// maxModelLogLines bounds the lines kept per task attempt.
const maxModelLogLines = 1000

// modelLogLines keeps the last maxModelLogLines lines logged during one
// attempt; safe for concurrent use.
type modelLogLines struct {
	mu      sync.Mutex
	lines   []string
	dropped int
}

func (m *modelLogLines) add(line string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.lines) == maxModelLogLines {
		// Reslicing, not copying: append moves the window to a new array
		// once it reaches the end of the old one.
		m.lines = m.lines[1:]
		m.dropped++
	}
	m.lines = append(m.lines, line)
}

// Rerun returns the tasks whose rows are missing from the output, failed or
// incomplete, in input order.
func (r Report) Rerun() []Task {
	tasks := slices.Clone(r.Incomplete)
	for _, f := range r.Failed {
		tasks = append(tasks, f.Task)
	}
	slices.SortFunc(tasks, func(a, b Task) int { return a.Index - b.Index })
	return tasks
}

// RerunFrame returns the rows of in, the frame the run scored, that are
// missing from the output, ready to be run again.
func (r Report) RerunFrame(in *frame.Frame) (*frame.Frame, error) {
	tasks, err := r.rerunInMemory(in.NumRows())
	if err != nil {
		return nil, err
	}
	parts := make([]*frame.Frame, 0, len(tasks))
	for _, t := range tasks {
		parts = append(parts, in.Slice(t.Start, t.End))
	}
	if len(parts) == 0 {
		return in.Slice(0, 0), nil
	}
	return frame.Concat(parts...)
}

// RerunDataFrame is RerunFrame for the gota DataFrame that Client.Run
// scored: its rows missing from the output, ready to be run again.
func (r Report) RerunDataFrame(df dataframe.DataFrame) (dataframe.DataFrame, error) {
	tasks, err := r.rerunInMemory(df.Nrow())
	if err != nil {
		return dataframe.DataFrame{Err: err}, err
	}
	var rows []int
	for _, t := range tasks {
		for i := t.Start; i < t.End; i++ {
			rows = append(rows, i)
		}
	}
	if len(rows) == 0 {
		// gota's Subset refuses an empty selection; an empty filter keeps
		// the columns.
		return df.Filter(dataframe.F{Colidx: 0, Comparator: series.CompFunc, Comparando: func(series.Element) bool { return false }}), nil
	}
	out := df.Subset(rows)
	return out, out.Err
}

// rerunInMemory checks that the tasks to re-run come from an in-memory
// frame of the given rows.
func (r Report) rerunInMemory(rows int) ([]Task, error) {
	tasks := r.Rerun()
	for _, t := range tasks {
		if t.Source != "" {
			return nil, fmt.Errorf("%s comes from a file; re-run that file's rows instead (Report.RerunFile)", t)
		}
		if t.End > rows {
			return nil, fmt.Errorf("%s is beyond the frame's %d rows: is it the frame the run scored?", t, rows)
		}
	}
	return tasks, nil
}
