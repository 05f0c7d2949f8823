package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/dfbatch/dfbatch/frame"
)

// startRemote hands the run to the client's backend. The execution follows
// the backend's progress events, so Status, Events and Report work as for a
// local run.
func (c *Client) startRemote(ctx context.Context, in *frame.Frame, o Options) (*Execution, error) {
	tasks := Plan(in.NumRows(), o.BatchSize)
	if checker, ok := c.backend.(OptionsChecker); ok && len(tasks) > 0 {
		if err := checker.CheckOptions(len(tasks), o); err != nil {
			return nil, fmt.Errorf("dfbatch: the remote backend cannot run these options: %w", err)
		}
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	e := newExecution(o, cancel)
	e.tasks = len(tasks)
	e.report = Report{ExecutionID: e.id, Started: e.started, Tasks: len(tasks), RowsIn: in.NumRows(), InputRead: true}
	finished := make(map[int]bool, len(tasks))
	progress := func(ev Event) {
		e.emit(ev)
		e.mu.Lock()
		defer e.mu.Unlock()
		switch ev.Kind {
		case TaskFinished:
			if !finished[ev.Task.Index] {
				finished[ev.Task.Index] = true
				e.finished++
				e.rows += ev.Task.Rows()
				e.report.Finished++
				e.report.RowsOut += ev.Task.Rows()
			}
		case TaskFailed:
			e.report.Failed = append(e.report.Failed, &TaskError{Task: ev.Task, Executor: ev.Executor, Attempts: ev.Attempt, Err: ev.Err})
		}
	}
	if len(tasks) == 0 {
		// No rows: nothing to stage or run remotely.
		out, err := c.emptyOutput(in, nil)
		e.finish(out, err, c.logger)
		cancel(nil)
		return e, nil
	}
	c.logger.Info("dfbatch remote run started", "execution", e.id, "tasks", len(tasks), "batch_size", o.BatchSize, "executors", o.Executors)
	go func() {
		defer cancel(nil)
		jobCtx, stop := withJobTimeout(runCtx, o.JobTimeout)
		defer stop()
		out, err := c.backend.Run(jobCtx, RemoteJob{ID: e.id, Input: in, Tasks: tasks, Options: o, Progress: progress})
		e.mu.Lock()
		failed := make(map[int]bool, len(e.report.Failed))
		for _, f := range e.report.Failed {
			failed[f.Task.Index] = true
		}
		for _, t := range tasks {
			if !finished[t.Index] && !failed[t.Index] {
				e.report.Incomplete = append(e.report.Incomplete, t)
			}
		}
		r := e.report
		e.mu.Unlock()
		if cause := context.Cause(jobCtx); cause != nil && err != nil && !errors.Is(err, cause) {
			err = fmt.Errorf("%w: %w", cause, err)
		}
		if err != nil {
			err = fmt.Errorf("dfbatch: execution %s on the remote backend: %w", e.id, describeStop(err, r, len(tasks)))
		} else if got := rowsOf(out); out == nil || got != r.RowsOut {
			// Tolerated failed tasks (Options.MaxFailedTasks) have no rows.
			err = fmt.Errorf("dfbatch: execution %s: the remote backend returned %d rows where its %d finished tasks hold %d", e.id, got, r.Finished, r.RowsOut)
		} else if len(r.Failed) > 0 {
			err = fmt.Errorf("dfbatch: execution %s on the remote backend: %w", e.id, &RunError{Failed: r.Failed, Tolerated: o.MaxFailedTasks, Tasks: len(tasks)})
		}
		e.finish(out, err, c.logger)
	}()
	return e, nil
}

func rowsOf(f *frame.Frame) int {
	if f == nil {
		return 0
	}
	return f.NumRows()
}
