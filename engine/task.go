package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
)

// RunTask scores one task of a run planned elsewhere, as an executor of
// that run would: it loads a model instance for executor 0 with the run's
// resources, and the model sees the task's index, row range and attempt
// (model.TaskFrom), the run's Parameters (model.Getenv) and a deadline of
// Options.TaskTimeout. A task whose rows alone exceed Options.Memory fails
// without running. The instance is closed before RunTask returns, unless
// its call ignored the task timeout: RunTask then returns at the timeout
// and closes the instance once the call returns.
//
// It is what a remote worker calls: each pod of the Kubernetes backend runs
// one task this way. It makes one attempt, numbered attempt (from 1);
// retrying belongs to whoever planned the run. rows must hold t.Rows()
// rows. A failed task is returned as a *TaskError.
func (c *Client) RunTask(ctx context.Context, t Task, attempt int, rows *frame.Frame, opts Options) (*frame.Frame, error) {
	switch {
	case rows == nil:
		return nil, fmt.Errorf("dfbatch: %v: the task's rows are nil", t)
	case rows.NumRows() != t.Rows():
		return nil, fmt.Errorf("dfbatch: %v has %s but %d were given", t, plural(t.Rows(), "row"), rows.NumRows())
	case attempt < 1:
		return nil, fmt.Errorf("dfbatch: %v: attempt must be >= 1, got %d", t, attempt)
	}
	o, err := c.resolve(opts)
	if err != nil {
		return nil, err
	}
	specs, err := c.executorSpecs(o, 1)
	if err != nil {
		return nil, err
	}
	fail := func(err error) error {
		// Executor -1: the task runs alone, not on one of a pool's executors.
		return fmt.Errorf("dfbatch: %w", &TaskError{Task: t, Executor: -1, Attempts: attempt, Err: err})
	}
	if err := checkMemory(o.Memory, t, rows); err != nil {
		return nil, fail(err)
	}
	m, err := loadModel(ctx, c.loader, specs[0])
	if err != nil {
		return nil, fail(fmt.Errorf("loading the model: %w", err))
	}
	// The model's log lines go to the client's logger: in a worker pod,
	// that is the pod's log.
	logged := func(line string) { c.logger.Info("model log", "task", t.String(), "line", line) }
	ctx = model.WithLog(model.WithParameters(ctx, o.Parameters), logged)
	var (
		out       *frame.Frame
		abandoned *modelCall
	)
	err = prepare(ctx, m)
	if err == nil {
		out, abandoned, err = scoreAttempt(ctx, m, t.forModel(attempt, 0), rows, o.TaskTimeout)
	}
	if abandoned != nil {
		// The call ignored its timeout: return now, close the model when
		// it returns.
		go func() {
			<-abandoned.done
			closeModel(m, c.logger)
		}()
	} else {
		closeModel(m, c.logger)
	}
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(err, cause) {
			err = fmt.Errorf("%w: %w", cause, err)
		}
		return nil, fail(err)
	}
	return out, nil
}
