package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
)

// Without a task timeout, an executor calls its model on the executor's
// goroutine: a separate goroutine per call, and the switches to and from
// it, cost more than a cheap model's call itself. A model that ignores the
// end of the run must still not hold the run up for longer than stopGrace,
// so each executor runs under a supervisor, the goroutine the run waits
// for. Once the run has stopped and the executor's model call has gone on
// for stopGrace, the supervisor leaves the call behind: it accounts for the
// attempt as interrupted and returns, and the executor's goroutine, when
// the call finally returns, closes the instance and ends without touching
// the run.

// errModelGoexit stops a run whose model ended its executor's goroutine.
var errModelGoexit = errors.New("the model's call ended its goroutine (runtime.Goexit, as t.FailNow does)")

// supervise runs executor index on a goroutine of its own and returns its
// error, or nil once it has left the executor's model call behind.
func (p *pool) supervise(ctx context.Context, index int) error {
	x := &executor{pool: p, index: index, spec: p.specs[index]}
	done := make(chan error, 1)
	go func() {
		// A model that calls runtime.Goexit (t.FailNow in a test) ends
		// the executor's goroutine midway; the run must not wait for it.
		returned := false
		var err error
		defer func() {
			if !returned {
				err = fmt.Errorf("executor %d: %w", index, errModelGoexit)
			}
			done <- err
		}()
		err = p.execute(ctx, x)
		returned = true
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	grace := time.NewTimer(stopGrace)
	defer grace.Stop()
	select {
	case err := <-done:
		return err
	case <-grace.C:
	}
	if x.leaveBehind(ctx) {
		return nil
	}
	// The executor is not in a model call, and starts none now that the
	// run has stopped: it returns once it has handled what it holds.
	return <-done
}

// inlineCall is a model call on the executor's goroutine, with what the
// supervisor needs to account for its attempt if it leaves it behind.
type inlineCall struct {
	task    Task
	attempt int
	start   time.Time // when the attempt started
	logged  *modelLogLines
}

// callGuard tells an executor's goroutine and its supervisor apart on the
// call in progress: exactly one of them ends its attempt.
type callGuard struct {
	mu      sync.Mutex
	current *inlineCall // nil between calls
	left    bool        // the supervisor left current behind
}

// scoreInline calls the model on the executor's goroutine, as scoreAttempt
// does on another, unless the run has stopped. If the supervisor left the
// call behind meanwhile, the goroutine closes the instance and ends there.
func (x *executor) scoreInline(ctx context.Context, m model.Model, t model.Task, rows *frame.Frame, call *inlineCall) (*frame.Frame, error) {
	if !x.begin(ctx, call) {
		return nil, context.Cause(ctx)
	}
	out, err := predict(model.WithTask(ctx, t), m, rows)
	if x.end() {
		x.endLeftBehind()
	}
	return checkOutput(out, err, rows)
}

// begin records call as in progress, unless the run has stopped: once it
// has, no call starts, so the supervisor need not wait for one.
func (x *executor) begin(ctx context.Context, call *inlineCall) bool {
	x.guard.mu.Lock()
	defer x.guard.mu.Unlock()
	if ctx.Err() != nil {
		return false
	}
	x.guard.current = call
	return true
}

// end records that the call in progress returned, and reports whether the
// supervisor left it behind.
func (x *executor) end() (left bool) {
	x.guard.mu.Lock()
	defer x.guard.mu.Unlock()
	x.guard.current = nil
	return x.guard.left
}

// leaveBehind is the supervisor's side: if the executor is in a model call,
// it marks the call left behind and ends its attempt as the executor would
// have (model logs, the abandoned call counted, TaskInterrupted), and
// returns true.
func (x *executor) leaveBehind(ctx context.Context) bool {
	x.guard.mu.Lock()
	call := x.guard.current
	x.guard.left = call != nil
	x.guard.mu.Unlock()
	if call == nil {
		return false
	}
	p := x.pool
	p.logger.Warn("model call abandoned: it ignored the end of the run; its instance will be closed when it returns",
		"execution", p.run.ID(), "executor", x.index, "task", call.task.String())
	p.abandoned.add()
	p.recordModelLogs(call.task, call.attempt, x.index, call.logged)
	p.run.Event(Event{Kind: TaskInterrupted, Task: call.task, Executor: x.index, Attempt: call.attempt,
		Duration: time.Since(call.start), Err: context.Cause(ctx), Time: time.Now()})
	return true
}

// endLeftBehind ends the goroutine of an executor whose call was left
// behind and has now returned: it closes the instance, which must not be
// used again, and exits. The deferred calls on its way out find nothing to
// do: the executor has no instance left to release, and its supervisor,
// which has accounted for the attempt, no longer listens. The run may be
// over.
func (x *executor) endLeftBehind() {
	discard := x.discard
	x.m, x.giveBack, x.discard = nil, nil, nil
	discard()
	x.pool.abandoned.done()
	runtime.Goexit()
}
