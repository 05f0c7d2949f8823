package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"golang.org/x/sync/errgroup"
)

// pool is the backend of runs in this process: a bounded set of
// executors, each with its own model instance, scoring the tasks that
// its Run hands out.
type pool struct {
	run       *Run
	opts      Options
	loader    model.Loader
	logger    *slog.Logger
	executors int
	specs     []model.Executor // one per executor
	warm      *warmPool
	// abandoned counts model calls still running after their attempt
	// ended (see Options.TaskTimeout).
	abandoned abandonedCalls

	// jobs carries the dispatcher's tasks to the executors; nil when the
	// executors take them from an in-memory source themselves, one at a
	// time under taking.
	jobs   <-chan job
	taking sync.Mutex
}

// job is a task with its rows, as an executor scores it.
type job struct {
	task Task
	rows *frame.Frame
	// output, when a source sets it, is the task's output taken from a
	// checkpoint: Run.Next delivers it without handing the task out.
	output *frame.Frame
}

// Run implements Backend: it scores every task r hands out, and returns
// once they are all finished or failed, or the run has stopped.
func (p *pool) Run(ctx context.Context, r *Run) error {
	p.run = r
	g, gctx := errgroup.WithContext(ctx)
	if !r.src.inMemory() {
		jobs := make(chan job)
		p.jobs = jobs
		g.Go(func() error {
			defer close(jobs)
			return p.dispatch(gctx, jobs)
		})
	}
	for i := 0; i < p.executors; i++ {
		g.Go(func() error { return p.supervise(gctx, i) })
	}
	err := g.Wait()
	// A model that honours its context returns soon after its timeout:
	// give abandoned calls a moment, so that their instances (a process)
	// are closed before the run ends. A model deaf to it is left behind.
	grace, cancel := context.WithTimeout(context.Background(), stopGrace)
	_ = p.abandoned.wait(grace, 0)
	cancel()
	return err
}

// dispatch hands tasks to the executors in input order, reading one ahead
// of them.
func (p *pool) dispatch(ctx context.Context, jobs chan<- job) error {
	for {
		j, ok, err := p.take(ctx)
		if !ok {
			return err
		}
		select {
		case jobs <- j:
		case <-ctx.Done():
			return nil
		}
	}
}

// nextJob returns an executor's next task to score: from the dispatcher,
// or taken from an in-memory source directly. ok is false when there is
// none left or the run has stopped.
func (p *pool) nextJob(ctx context.Context) (j job, ok bool, err error) {
	if p.jobs != nil {
		j, ok = <-p.jobs
		return j, ok && ctx.Err() == nil, nil
	}
	p.taking.Lock()
	defer p.taking.Unlock()
	if ctx.Err() != nil {
		return job{}, false, nil
	}
	return p.take(ctx)
}

// take reads the next task from the run. ok is false at the end of the
// input, when the run stops, or with an error.
func (p *pool) take(ctx context.Context) (j job, ok bool, err error) {
	t, rows, err := p.run.Next(ctx)
	switch {
	case err == nil:
		return job{task: t, rows: rows}, true, nil
	case err == io.EOF || ctx.Err() != nil:
		return job{}, false, nil
	}
	return job{}, false, err
}

// execute is one executor: it loads its model instance, then scores tasks
// until there are none left or the run stops.
func (p *pool) execute(ctx context.Context, x *executor) error {
	defer x.release()
	if _, err := x.instance(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	// One context per executor carries the parameters; tasks add to it.
	params := model.WithParameters(ctx, p.opts.Parameters)
	for {
		j, ok, err := p.nextJob(ctx)
		if !ok {
			return err
		}
		out, attempts, err := p.score(params, x, j)
		var load *loadError
		switch {
		case err == nil:
			if err := p.run.Finish(j.task, out); err != nil {
				return err
			}
		case ctx.Err() != nil:
			return nil // interrupted: the task stays outstanding, so incomplete
		case errors.As(err, &load):
			return load // the task stays outstanding, so incomplete
		default:
			if err := p.run.Fail(&TaskError{Task: j.task, Executor: x.index, Attempts: attempts, Err: err}); err != nil {
				return err
			}
		}
	}
}

// executor holds one executor's model instance, loading a fresh one after
// a call was abandoned.
type executor struct {
	pool  *pool
	index int
	spec  model.Executor
	m     model.Model // nil until loaded, and after an abandoned call
	// giveBack ends the executor's use of m; discard closes m, which must
	// not be used again.
	giveBack, discard func()
	// guard is shared with the executor's supervisor.
	guard callGuard
}

// loadError stops an executor whose model could not be loaded.
type loadError struct{ err error }

func (e *loadError) Error() string { return e.err.Error() }
func (e *loadError) Unwrap() error { return e.err }

// instance returns the executor's model instance, loading one if needed.
func (x *executor) instance(ctx context.Context) (model.Model, error) {
	if x.m != nil {
		return x.m, nil
	}
	if err := x.pool.abandoned.wait(ctx, x.pool.executors); err != nil {
		return nil, err
	}
	m, giveBack, discard, err := x.pool.acquire(ctx, x.spec)
	if err != nil {
		return nil, &loadError{fmt.Errorf("executor %d: loading the model: %w", x.index, err)}
	}
	x.m, x.giveBack, x.discard = m, giveBack, discard
	return m, nil
}

// abandon leaves call running and drops the instance it runs on: it is
// closed once the call returns, and the next task loads a fresh one.
func (x *executor) abandon(call *modelCall, t Task) {
	p := x.pool
	p.logger.Warn("model call abandoned: it ignored the end of its context; its instance will be closed when it returns",
		"execution", p.run.ID(), "executor", x.index, "task", t.String())
	discard := x.discard
	x.m, x.giveBack, x.discard = nil, nil, nil
	p.abandoned.add()
	go func() {
		<-call.done
		discard()
		p.abandoned.done()
	}()
}

func (x *executor) release() {
	if x.m != nil {
		x.giveBack()
	}
}

// abandonedCalls counts model calls left running after their attempt
// ended, so that executors can wait before loading more instances.
type abandonedCalls struct {
	mu      sync.Mutex
	n       int
	changed chan struct{} // closed and replaced when n drops
}

func (a *abandonedCalls) add() {
	a.mu.Lock()
	a.n++
	a.mu.Unlock()
}

func (a *abandonedCalls) done() {
	a.mu.Lock()
	a.n--
	if a.changed != nil {
		close(a.changed)
		a.changed = nil
	}
	a.mu.Unlock()
}

// wait returns once at most limit abandoned calls are running, or with
// ctx's error.
func (a *abandonedCalls) wait(ctx context.Context, limit int) error {
	for {
		a.mu.Lock()
		if a.n <= limit {
			a.mu.Unlock()
			return nil
		}
		if a.changed == nil {
			a.changed = make(chan struct{})
		}
		changed := a.changed
		a.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// acquire gives an executor its model instance: a warm one kept by
// Client.WarmUp if one matches and is free, else a new one. giveBack ends
// the run's use of the instance (a warm one goes back to the client);
// discard closes it for good, for an instance that must not be reused.
func (p *pool) acquire(ctx context.Context, spec model.Executor) (m model.Model, giveBack, discard func(), err error) {
	if in, ok := p.warm.take(spec); ok {
		return in.model, func() { p.warm.give(in, p.logger) }, func() { p.warm.discard(in, p.logger) }, nil
	}
	if m, err = loadModel(ctx, p.loader, spec); err != nil {
		return nil, nil, nil, err
	}
	closeIt := func() { closeModel(m, p.logger) }
	return m, closeIt, closeIt, nil
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

// score runs a task's attempts until one succeeds, the error is permanent,
// the retries are spent, or the run stops. It returns the attempts made.
func (p *pool) score(ctx context.Context, x *executor, j job) (*frame.Frame, int, error) {
	if err := checkMemory(p.opts.Memory, j.task, j.rows); err != nil {
		p.run.Event(Event{Kind: TaskFailed, Task: j.task, Executor: x.index, Err: err, Time: time.Now()})
		return nil, 0, err
	}
	for attempt := 1; ; attempt++ {
		m, err := x.instance(ctx)
		if err != nil {
			return nil, attempt - 1, err
		}
		start := time.Now()
		p.run.Event(Event{Kind: TaskStarted, Task: j.task, Executor: x.index, Attempt: attempt, Time: start})
		out, err := p.attempt(ctx, x, m, j, attempt, start)
		ev := Event{Task: j.task, Executor: x.index, Attempt: attempt, Duration: time.Since(start), Err: err, Time: time.Now()}
		if err == nil {
			ev.Kind = TaskFinished
			p.run.Event(ev)
			return out, attempt, nil
		}
		if ctx.Err() != nil {
			ev.Kind = TaskInterrupted
			p.run.Event(ev)
			return nil, attempt, err
		}
		var perm permanent
		if errors.As(err, &perm) || attempt > p.opts.Retries {
			ev.Kind = TaskFailed
			p.run.Event(ev)
			return nil, attempt, err
		}
		ev.Kind = TaskRetried
		p.run.Event(ev)
		p.logger.Debug("retrying task", "execution", p.run.ID(), "task", j.task.Index, "attempt", attempt, "error", err)
		select {
		case <-time.After(backoff(p.opts.RetryBackoff, attempt)):
		case <-ctx.Done():
			return nil, attempt, ctx.Err()
		}
	}
}

// backoff is the pause after the given failed attempt: base, doubled for
// each later attempt, at most maxBackoff.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
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
	// The largest leading slice of this batch that fits: sizes do not
	// grow linearly with rows (validity bitmaps round up to bytes, strings
	// vary), so an average per row could suggest a batch that still does
	// not fit.
	lo, hi := 0, rows.NumRows()-1 // rows lo fit, rows hi+1 do not
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if rows.Slice(0, mid).ByteSize() <= budget {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	advice := fmt.Sprintf("lower Options.BatchSize to at most %d rows or raise Options.Memory", lo)
	if lo == 0 {
		advice = "a single row does not fit: raise Options.Memory"
	}
	return permanent{fmt.Errorf("its input batch alone takes %s, over the executor memory budget of %d MiB (%d bytes, Options.Memory); %s",
		describeBytes(size), memoryMiB, budget, advice)}
}

// describeBytes writes a size in MiB, with the exact bytes.
func describeBytes(n int64) string {
	return fmt.Sprintf("%.2f MiB (%d bytes)", float64(n)/(1<<20), n)
}

// attempt makes one call to the model and checks what it returned. The
// call runs on the executor's goroutine, or on its own with a task timeout
// (see scoreAttempt).
func (p *pool) attempt(ctx context.Context, x *executor, m model.Model, j job, attempt int, start time.Time) (*frame.Frame, error) {
	logged := &modelLogLines{}
	ctx = model.WithLog(ctx, logged.add)
	var out *frame.Frame
	err := prepare(ctx, m)
	if err == nil {
		t := j.task.forModel(attempt, x.index)
		if p.opts.TaskTimeout > 0 {
			var abandoned *modelCall
			out, abandoned, err = scoreAttempt(ctx, m, t, j.rows, p.opts.TaskTimeout)
			if abandoned != nil {
				x.abandon(abandoned, j.task)
			}
		} else {
			out, err = x.scoreInline(ctx, m, t, j.rows, &inlineCall{task: j.task, attempt: attempt, start: start, logged: logged})
		}
	}
	p.recordModelLogs(j.task, attempt, x.index, logged)
	if err != nil {
		return nil, err
	}
	return out, p.run.CheckOutput(j.task, out)
}

// recordModelLogs adds the lines a model logged during an attempt, if any,
// to the report.
func (p *pool) recordModelLogs(t Task, attempt, executor int, logged *modelLogLines) {
	logged.mu.Lock()
	defer logged.mu.Unlock()
	p.run.Log(ModelLog{Task: t, Attempt: attempt, Executor: executor, Lines: slices.Clone(logged.lines), Dropped: logged.dropped})
}

// prepare readies a model that implements model.Preparer for its next
// call, outside the task's timeout.
func prepare(ctx context.Context, m model.Model) error {
	pr, ok := m.(model.Preparer)
	if !ok {
		return nil
	}
	if err := pr.Prepare(ctx); err != nil {
		return fmt.Errorf("preparing the model: %w", err)
	}
	return nil
}

// stopGrace is how long an attempt whose run was cancelled or timed out
// waits for its model call to return before abandoning it (a task timeout
// abandons at once; see also supervise), and how long a run that has ended
// waits for its abandoned calls to return before it returns without them.
const stopGrace = time.Second

// modelCall is one Predict running in its own goroutine, so that its
// attempt can end at its deadline even if the model ignores its context.
type modelCall struct {
	done chan struct{} // closed when Predict has returned
	out  *frame.Frame
	err  error
}

func callModel(ctx context.Context, m model.Model, rows *frame.Frame) *modelCall {
	c := &modelCall{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.out, c.err = predict(ctx, m, rows)
	}()
	return c
}

// predict calls the model, turning a panic into an error.
func predict(ctx context.Context, m model.Model, rows *frame.Frame) (out *frame.Frame, err error) {
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return m.Predict(ctx, rows)
}

// scoreAttempt makes one call to the model for task t, under taskTimeout
// (0 for none), turning a panic into an error, and checks that the model
// returned one row per input row. The attempt ends when the call returns
// or its context ends, whichever is first: a call still running then is
// returned as abandoned, for the caller to drop its model instance.
func scoreAttempt(ctx context.Context, m model.Model, t model.Task, rows *frame.Frame, taskTimeout time.Duration) (out *frame.Frame, abandoned *modelCall, err error) {
	ctx = model.WithTask(ctx, t)
	if taskTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, taskTimeout, ErrTaskTimeout)
		defer cancel()
	}
	call := callModel(ctx, m, rows)
	select {
	case <-call.done:
	case <-ctx.Done():
		if !errors.Is(context.Cause(ctx), ErrTaskTimeout) {
			// The run is stopping: a model that honours its context
			// returns now, and its instance can be closed in order.
			select {
			case <-call.done:
			case <-time.After(stopGrace):
			}
		}
		select {
		case <-call.done:
		default:
			return nil, call, stopped(ctx, taskTimeout)
		}
	}
	if errors.Is(context.Cause(ctx), ErrTaskTimeout) {
		// A model that ignored its context and returned late still timed out.
		return nil, nil, stopped(ctx, taskTimeout)
	}
	out, err = checkOutput(call.out, call.err, rows)
	return out, nil, err
}

// checkOutput passes on a model call's output and error, making sure that
// a call without error returned one row per input row.
func checkOutput(out *frame.Frame, err error, rows *frame.Frame) (*frame.Frame, error) {
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, errors.New("the model returned no frame and no error")
	}
	if out.NumRows() != rows.NumRows() {
		return nil, fmt.Errorf("the model returned %s for %s; a model must return one row per input row", plural(out.NumRows(), "row"), plural(rows.NumRows(), "input row"))
	}
	return out, nil
}

// stopped is the error of an attempt whose context ended.
func stopped(ctx context.Context, taskTimeout time.Duration) error {
	if cause := context.Cause(ctx); errors.Is(cause, ErrTaskTimeout) {
		return fmt.Errorf("%w (Options.TaskTimeout = %s)", ErrTaskTimeout, taskTimeout)
	}
	return context.Cause(ctx)
}

// ErrTaskTimeout is the error of a task attempt that exceeded
// Options.TaskTimeout, wrapped in its TaskError.
var ErrTaskTimeout = errors.New("task timeout exceeded")
