package engine

import (
	"context"

	"github.com/dfbatch/dfbatch/frame"
)

// Backend runs jobs outside this process, for Options.Cloud. The
// Kubernetes backend implements it.
type Backend interface {
	// Run scores the job's tasks remotely and returns their outputs
	// concatenated in task order. It reports each task's progress through
	// job.Progress, returns when the job has ended, and stops the remote
	// job when ctx is cancelled. A task that failed for good is returned as
	// a *TaskError, wrapped.
	Run(ctx context.Context, job RemoteJob) (*frame.Frame, error)
}

// OptionsChecker is implemented by a Backend that can tell, before a run
// starts, that it cannot run tasks tasks with options o (a parameter name
// its executors cannot take, a resource it cannot express). Client.Start
// returns the error, so that no task starts.
type OptionsChecker interface {
	CheckOptions(tasks int, o Options) error
}

// RemoteJob is what a Backend needs to run a job.
type RemoteJob struct {
	// ID is the execution's ID, for naming remote resources.
	ID string
	// Input holds every row; Tasks cut it as a local run would.
	Input *frame.Frame
	Tasks []Task
	// Options are the run's resolved options.
	Options Options
	// Progress receives the tasks' events; it is safe for concurrent use.
	Progress func(Event)
}
