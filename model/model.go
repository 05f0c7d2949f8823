// Package model is the contract a model implements to be scored by dfbatch.
//
// A Model scores one batch: a frame in, a frame with the same number of rows
// out. A Loader builds one Model per executor, so a Model is only ever called
// from one goroutine at a time and need not be safe for concurrent use. A
// model that holds resources implements io.Closer; its executor closes it
// when the run ends.
//
// Models read their task's parameters with Getenv, as the reference
// platform's models read environment variables.
package model

import (
	"context"
	"log/slog"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/gpu"
)

// Model scores batches. Predict must return a frame with exactly as many
// rows as in, row i scoring input row i, and should return promptly once
// ctx is done (the task timed out or the run was cancelled).
type Model interface {
	Predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error)
}

// Loader builds the model instance of one executor. Load is called once per
// executor per run, concurrently for different executors.
type Loader interface {
	Load(ctx context.Context, exec Executor) (Model, error)
}

// LoaderFunc adapts a function to Loader.
type LoaderFunc func(ctx context.Context, exec Executor) (Model, error)

// Load calls f.
func (f LoaderFunc) Load(ctx context.Context, exec Executor) (Model, error) { return f(ctx, exec) }

// Executor describes the executor a model instance is loaded for, with the
// resources the run gives it.
type Executor struct {
	// Index numbers the run's executors from 0.
	Index int
	// CPUs is the executor's thread budget: a model that computes with
	// threads must use at most this many (rounded up).
	CPUs float64
	// MemoryMiB is the executor's memory budget in MiB; 0 means none.
	MemoryMiB int
	// GPUType is the GPU type the run asked for, "" for any.
	GPUType string
	// Devices are the GPUs given to this executor; empty for a CPU run.
	Devices []gpu.Device
	// BuildID selects a build (version) of the model; "" means the latest.
	BuildID string
	// Logger is the run's logger, tagged with the executor's index.
	Logger *slog.Logger
}

// Threads returns the executor's CPU budget as a whole number of threads,
// at least 1.
func (e Executor) Threads() int {
	n := int(e.CPUs)
	if float64(n) < e.CPUs {
		n++
	}
	return max(n, 1)
}

// OutputSchemer is implemented by loaders that know the columns their
// models return, so that a run with no rows can still return them.
type OutputSchemer interface {
	OutputSchema(input *arrow.Schema) (*arrow.Schema, error)
}

// Preparer is implemented by models that may need work before a call that
// must not count against the task's timeout: a subprocess model restarts a
// process killed by the previous task's timeout. The executor calls
// Prepare before every Predict, under the run's context but not the task's
// deadline; a model bounds its own wait (a start timeout). An error fails
// the attempt, as a Predict error would.
type Preparer interface {
	Prepare(ctx context.Context) error
}
