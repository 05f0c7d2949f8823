package engine_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/dfbatch/dfbatch/engine"
)

func TestRunErrorStartsWhatFollowsQuotedLogLinesOnALineOfItsOwn(t *testing.T) {
	podLog := func(name string) error {
		return errors.New("pod " + name + " exited with code 1; last log lines:\n  | scoring\n  | dfbatch worker: boom")
	}
	failed := make([]*engine.TaskError, 4)
	for i := range failed {
		failed[i] = &engine.TaskError{Task: engine.Task{Index: i, Start: i * 10, End: i*10 + 10}, Executor: -1, Attempts: 2, Err: podLog(string(rune('a' + i)))}
	}
	err := &engine.RunError{Failed: failed, Tasks: 10}
	assert.Equal(t, "4 of 10 tasks failed (at most 0 tolerated)"+
		"; task 0 (rows 0-9) failed after 2 attempts: pod a exited with code 1; last log lines:\n  | scoring\n  | dfbatch worker: boom"+
		"\ntask 1 (rows 10-19) failed after 2 attempts: pod b exited with code 1; last log lines:\n  | scoring\n  | dfbatch worker: boom"+
		"\ntask 2 (rows 20-29) failed after 2 attempts: pod c exited with code 1; last log lines:\n  | scoring\n  | dfbatch worker: boom"+
		"\nand 1 more (see the execution's Report)", err.Error())

	oneLine := &engine.RunError{Failed: []*engine.TaskError{
		{Task: engine.Task{Index: 0, End: 10}, Executor: 1, Attempts: 1, Err: errors.New("boom")},
		{Task: engine.Task{Index: 1, Start: 10, End: 20}, Executor: 0, Attempts: 1, Err: errors.New("bang")},
	}, Tasks: 2}
	assert.Equal(t, "2 of 2 tasks failed (at most 0 tolerated); task 0 (rows 0-9) failed on executor 1 after 1 attempt: boom"+
		"; task 1 (rows 10-19) failed on executor 0 after 1 attempt: bang", oneLine.Error())
}
