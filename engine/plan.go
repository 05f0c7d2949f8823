package engine

import (
	"fmt"

	"github.com/dfbatch/dfbatch/model"
)

// Task is one batch of rows scored by one model call: rows [Start, End) of
// its source.
type Task struct {
	// Index numbers a run's tasks from 0, in input order.
	Index int
	// Start and End are the task's rows, [Start, End), in its source.
	Start, End int
	// Source names the file the rows come from; "" for an in-memory frame.
	Source string
}

// Rows returns the number of rows in the task.
func (t Task) Rows() int { return t.End - t.Start }

// String names the task and its rows the way error messages do, with an
// inclusive last row: "task 3 (rows 150-199)".
func (t Task) String() string {
	where := "rows"
	if t.Source != "" {
		where = t.Source + " rows"
	}
	if t.Rows() == 0 {
		return fmt.Sprintf("task %d (%s: none)", t.Index, where)
	}
	return fmt.Sprintf("task %d (%s %d-%d)", t.Index, where, t.Start, t.End-1)
}

func (t Task) forModel(attempt, executor int) model.Task {
	return model.Task{Index: t.Index, Start: t.Start, End: t.End, Source: t.Source, Attempt: attempt, Executor: executor}
}

// Plan splits rows into tasks of batchSize contiguous rows; the last task
// holds the remainder. There are ceil(rows/batchSize) tasks: 1000 rows in
// batches of 50 make 20.
func Plan(rows, batchSize int) []Task {
	if rows <= 0 || batchSize <= 0 {
		return nil
	}
	tasks := make([]Task, 0, (rows+batchSize-1)/batchSize)
	for start := 0; start < rows; start += batchSize {
		tasks = append(tasks, Task{Index: len(tasks), Start: start, End: min(start+batchSize, rows)})
	}
	return tasks
}
