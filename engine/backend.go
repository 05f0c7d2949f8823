package engine

import "context"

// Backend runs the tasks of a run, the way database/sql/driver's drivers
// run the statements of database/sql: the engine plans the tasks, keeps
// the execution's state and writes the outputs; a backend only scores.
// The executors of this process are the backend of every run without
// Options.Cloud; WithBackend sets the one that runs Options.Cloud runs,
// such as engine/k8s's on Kubernetes.
type Backend interface {
	// Run scores the tasks that run.Next hands out until it returns
	// io.EOF: each scored output, once run.CheckOutput passes it, goes to
	// run.Finish, and each task that failed for good to run.Fail; attempts
	// are reported through run.Event and their logs through run.Log. It
	// returns when every task handed out is finished or failed, or soon
	// after ctx ends (the run then lists what is incomplete), and stops,
	// returning the error, when Next, Finish or Fail return one other than
	// io.EOF. A backend that holds a task's rows outside this process
	// calls run.Release once they are stored, so that a streamed run can
	// read ahead of its outputs.
	Run(ctx context.Context, run *Run) error
}

// OptionsChecker is implemented by a Backend that can tell, before a run
// starts, that it cannot run tasks tasks with options o (a parameter name
// its executors cannot take, a resource it cannot express); tasks is -1
// when the input is a stream whose length is unknown. Client.Start
// returns the error, so that no task starts.
type OptionsChecker interface {
	CheckOptions(tasks int, o Options) error
}
