package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"golang.org/x/sync/errgroup"
)

// pool runs one execution's tasks on a bounded set of executors, each with
// its own model instance.
type pool struct {
	exec      *Execution
	opts      Options
	loader    model.Loader
	logger    *slog.Logger
	src       source
	sink      sink
	window    chan struct{} // nil when outputs are retained, not streamed
	executors int
	specs     []model.Executor // one per executor
	warm      *warmPool

	// firstOutput is the first output's schema, which every later output
	// must match.
	firstOutput atomic.Pointer[outputShape]

	mu          sync.Mutex
	outstanding map[int]Task // handed out, neither delivered nor failed
}

type outputShape struct {
	schema *arrow.Schema
	task   int
}

type job struct {
	task Task
	rows *frame.Frame
}

// errTooManyFailures stops the executors once more tasks failed than
// allowed; the run's error is built from the Report afterwards.
var errTooManyFailures = errors.New("too many failed tasks")

// run scores every task and returns the run's error. The context's cause
// tells cancellation and job timeout apart.
func (p *pool) run(ctx context.Context) error {
	p.outstanding = map[int]Task{}
	jobs := make(chan job)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(jobs)
		return p.dispatch(gctx, jobs)
	})
	for i := 0; i < p.executors; i++ {
		g.Go(func() error { return p.execute(gctx, i, jobs) })
	}
	err := g.Wait()

	incomplete := slices.Collect(maps.Values(p.outstanding))
	incomplete = append(incomplete, p.src.remaining()...)
	slices.SortFunc(incomplete, func(a, b Task) int { return a.Index - b.Index })
	e := p.exec
	e.mu.Lock()
	e.report.Incomplete = incomplete
	e.report.InputRead = p.src.exhausted()
	if t := p.src.total(); t >= 0 {
		e.tasks = t
	}
	e.report.Tasks = max(e.tasks, e.report.Tasks)
	slices.SortFunc(e.report.Failed, func(a, b *TaskError) int { return a.Task.Index - b.Task.Index })
	r, total := e.report, e.tasks
	e.mu.Unlock()

	switch cause := context.Cause(ctx); {
	case errors.Is(cause, ErrJobTimeout):
		return describeStop(fmt.Errorf("%w (Options.JobTimeout = %s)", cause, p.opts.JobTimeout), r, total)
	case cause != nil:
		return describeStop(cause, r, total)
	case errors.Is(err, errTooManyFailures):
		return &RunError{Failed: r.Failed, Tolerated: p.opts.MaxFailedTasks, Tasks: total}
	case err != nil:
		return describeStop(err, r, total)
	}
	return nil
}

// dispatch hands tasks to the executors in input order. With a window, it
// reads a task only when fewer than cap(window) tasks are read but not yet
// delivered, which bounds a streamed run's memory.
func (p *pool) dispatch(ctx context.Context, jobs chan<- job) error {
	for {
		if p.window != nil {
			select {
			case p.window <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
		}
		t, rows, err := p.src.next()
		if err == io.EOF {
			p.exec.mu.Lock()
			p.exec.tasks = p.src.total()
			p.exec.report.Tasks = p.exec.tasks
			p.exec.mu.Unlock()
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the input: %w", err)
		}
		p.mu.Lock()
		p.outstanding[t.Index] = t
		p.mu.Unlock()
		p.exec.mu.Lock()
		p.exec.report.RowsIn += t.Rows()
		p.exec.report.Tasks = max(p.exec.report.Tasks, t.Index+1)
		p.exec.mu.Unlock()
		select {
		case jobs <- job{task: t, rows: rows}:
		case <-ctx.Done():
			return nil
		}
	}
}

// execute is one executor: it loads its model instance, then scores tasks
// until there are none left or the run stops.
func (p *pool) execute(ctx context.Context, index int, jobs <-chan job) error {
	m, release, err := p.acquire(ctx, p.specs[index])
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("executor %d: loading the model: %w", index, err)
	}
	defer release()
	// One context per executor carries the parameters; tasks add to it.
	params := model.WithParameters(ctx, p.opts.Parameters)
	for j := range jobs {
		if ctx.Err() != nil {
			return nil
		}
		out, attempts, err := p.score(params, m, index, j)
		switch {
		case err == nil:
			if err := p.sink.put(j.task, out); err != nil {
				return err
			}
		case ctx.Err() != nil:
			return nil // interrupted: the task stays outstanding, so incomplete
		default:
			if err := p.fail(&TaskError{Task: j.task, Executor: index, Attempts: attempts, Err: err}); err != nil {
				return err
			}
		}
	}
	return nil
}

// acquire gives an executor its model instance: a warm one kept by
// Client.WarmUp if one matches and is free, else a new one. release gives
// the instance back or closes it.
func (p *pool) acquire(ctx context.Context, spec model.Executor) (m model.Model, release func(), err error) {
	if in, ok := p.warm.take(spec); ok {
		return in.model, func() { p.warm.give(in, p.logger) }, nil
	}
	if m, err = loadModel(ctx, p.loader, spec); err != nil {
		return nil, nil, err
	}
	return m, func() { closeModel(m, p.logger) }, nil
}

// loadModel calls the loader, turning a panic or a nil model into an error.
func loadModel(ctx context.Context, loader model.Loader, spec model.Executor) (m model.Model, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	m, err = loader.Load(ctx, spec)
	if err == nil && m == nil {
		err = errors.New("the loader returned no model")
	}
	return m, err
}

// fail records a task that failed for good, and stops the run once more
// tasks failed than allowed.
func (p *pool) fail(te *TaskError) error {
	p.mu.Lock()
	delete(p.outstanding, te.Task.Index)
	p.mu.Unlock()
	p.exec.mu.Lock()
	p.exec.report.Failed = append(p.exec.report.Failed, te)
	failed := len(p.exec.report.Failed)
	p.exec.mu.Unlock()
	p.logger.Warn("task failed", "execution", p.exec.id, "task", te.Task.Index, "rows", te.Task.String(), "attempts", te.Attempts, "error", te.Err)
	if failed > p.opts.MaxFailedTasks {
		return errTooManyFailures
	}
	return p.sink.drop(te.Task)
}

// delivered records a task whose output reached the result.
func (p *pool) delivered(t Task) {
	p.mu.Lock()
	delete(p.outstanding, t.Index)
	p.mu.Unlock()
	p.exec.mu.Lock()
	p.exec.finished++
	p.exec.rows += t.Rows()
	p.exec.report.Finished++
	p.exec.report.RowsOut += t.Rows()
	p.exec.mu.Unlock()
}

// score runs a task's attempts until one succeeds, the error is permanent,
// the retries are spent, or the run stops. It returns the attempts made.
func (p *pool) score(ctx context.Context, m model.Model, executor int, j job) (*frame.Frame, int, error) {
	if err := checkMemory(p.opts.Memory, j.task, j.rows); err != nil {
		p.exec.emit(Event{Kind: TaskFailed, Task: j.task, Executor: executor, Err: err, Time: time.Now()})
		return nil, 0, err
	}
	for attempt := 1; ; attempt++ {
		start := time.Now()
		p.exec.emit(Event{Kind: TaskStarted, Task: j.task, Executor: executor, Attempt: attempt, Time: start})
		out, err := p.attempt(ctx, m, executor, j, attempt)
		ev := Event{Task: j.task, Executor: executor, Attempt: attempt, Duration: time.Since(start), Err: err, Time: time.Now()}
		if err == nil {
			ev.Kind = TaskFinished
			p.exec.emit(ev)
			return out, attempt, nil
		}
		if ctx.Err() != nil {
			ev.Kind = TaskInterrupted
			p.exec.emit(ev)
			return nil, attempt, err
		}
		var perm permanent
		if errors.As(err, &perm) || attempt > p.opts.Retries {
			ev.Kind = TaskFailed
			p.exec.emit(ev)
			return nil, attempt, err
		}
		ev.Kind = TaskRetried
		p.exec.emit(ev)
		p.logger.Debug("retrying task", "execution", p.exec.id, "task", j.task.Index, "attempt", attempt, "error", err)
		backoff := min(p.opts.RetryBackoff<<(attempt-1), maxBackoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, attempt, ctx.Err()
		}
	}
}

// checkMemory fails a task whose input alone exceeds the executor's memory
// budget of memoryMiB: it could not succeed, so it is not tried.
func checkMemory(memoryMiB int, t Task, rows *frame.Frame) error {
	if memoryMiB <= 0 {
		return nil
	}
	budget := int64(memoryMiB) << 20
	size := rows.ByteSize()
	if size <= budget {
		return nil
	}
	perRow := max(size/int64(max(t.Rows(), 1)), 1)
	return permanent{fmt.Errorf("its input batch alone takes %.1f MiB, over the executor memory budget of %d MiB (Options.Memory); lower Options.BatchSize to at most %d rows or raise Options.Memory",
		float64(size)/(1<<20), memoryMiB, budget/perRow)}
}

// attempt makes one call to the model and checks what it returned.
func (p *pool) attempt(ctx context.Context, m model.Model, executor int, j job, attempt int) (*frame.Frame, error) {
	logged := &modelLogLines{}
	out, err := scoreAttempt(model.WithLog(ctx, logged.add), m, j.task.forModel(attempt, executor), j.rows, p.opts.TaskTimeout)
	logged.mu.Lock()
	if len(logged.lines) > 0 {
		p.exec.mu.Lock()
		p.exec.report.ModelLogs = append(p.exec.report.ModelLogs, ModelLog{
			Task: j.task, Attempt: attempt, Executor: executor, Lines: logged.lines, Dropped: logged.dropped,
		})
		p.exec.mu.Unlock()
	}
	logged.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return out, p.checkSchema(j.task, out)
}

// scoreAttempt makes one call to the model for task t, under taskTimeout
// (0 for none), turning a panic into an error, and checks that the model
// returned one row per input row.
func scoreAttempt(ctx context.Context, m model.Model, t model.Task, rows *frame.Frame, taskTimeout time.Duration) (out *frame.Frame, err error) {
	ctx = model.WithTask(ctx, t)
	if taskTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, taskTimeout, ErrTaskTimeout)
		defer cancel()
	}
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	out, err = m.Predict(ctx, rows)
	if errors.Is(context.Cause(ctx), ErrTaskTimeout) {
		// A model that ignored its context and returned late still timed out.
		return nil, fmt.Errorf("%w (Options.TaskTimeout = %s)", ErrTaskTimeout, taskTimeout)
	}
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, errors.New("the model returned no frame and no error")
	}
	if out.NumRows() != rows.NumRows() {
		return nil, fmt.Errorf("the model returned %d rows for %d input rows; a model must return one row per input row", out.NumRows(), rows.NumRows())
	}
	return out, nil
}

// ErrTaskTimeout is the error of a task attempt that exceeded
// Options.TaskTimeout, wrapped in its TaskError.
var ErrTaskTimeout = errors.New("task timeout exceeded")

// checkSchema makes every task's output have the first output's columns.
func (p *pool) checkSchema(t Task, out *frame.Frame) error {
	first := p.firstOutput.Load()
	if first == nil {
		if p.firstOutput.CompareAndSwap(nil, &outputShape{schema: out.Schema(), task: t.Index}) {
			return nil
		}
		first = p.firstOutput.Load()
	}
	if first.schema == out.Schema() {
		return nil // a model that reuses its schema object: nothing to compare
	}
	if err := frame.SameSchema(first.schema, out.Schema()); err != nil {
		return permanent{fmt.Errorf("the output's columns differ from those of task %d: %w", first.task, err)}
	}
	return nil
}
