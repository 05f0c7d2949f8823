package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"

	"github.com/dfbatch/dfbatch/gpu"
	"github.com/dfbatch/dfbatch/model"
	"golang.org/x/sync/errgroup"
)

// WarmUp loads the model instances of opts' executors now and keeps them,
// so that later runs with the same executor resources start without paying
// the load: a service that scores every minute loads its model once. A run
// takes a warm instance for each executor it matches and gives it back at
// the end; a run that finds them all taken (another run is using them)
// loads its own. WarmUp replaces instances kept by an earlier call. Close
// releases them.
func (c *Client) WarmUp(ctx context.Context, opts Options) error {
	o, err := c.resolve(opts)
	if err != nil {
		return err
	}
	if o.Cloud {
		return errors.New("dfbatch: WarmUp starts executors in this process; a Cloud run's executors are the remote backend's")
	}
	specs, err := c.executorSpecs(o, o.Executors)
	if err != nil {
		return err
	}
	models := make([]model.Model, len(specs))
	g, gctx := errgroup.WithContext(ctx)
	for i, spec := range specs {
		g.Go(func() error {
			m, err := loadModel(gctx, c.loader, spec)
			if err != nil {
				return fmt.Errorf("dfbatch: warming up executor %d: %w", i, err)
			}
			models[i] = m
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		for _, m := range models {
			closeModel(m, c.logger)
		}
		return err
	}
	c.warm.replace(specs, models, c.logger)
	return nil
}

// Close releases the model instances kept by WarmUp. Instances a run is
// using are released when it ends. The client stays usable.
func (c *Client) Close() error {
	c.warm.replace(nil, nil, c.logger)
	return nil
}

// executorSpecs describes n executors with o's resources.
func (c *Client) executorSpecs(o Options, n int) ([]model.Executor, error) {
	var devices [][]gpu.Device
	if o.GPUs > 0 && n > 0 {
		var err error
		if devices, err = gpu.Assign(n, o.GPUs, o.GPUType); err != nil {
			return nil, fmt.Errorf("dfbatch: %w", optionErrorf("Options.GPUs", err, " %d: %v", o.GPUs, err))
		}
	}
	specs := make([]model.Executor, n)
	for i := range specs {
		specs[i] = model.Executor{
			Index: i, CPUs: o.CPUs, MemoryMiB: o.Memory, GPUType: o.GPUType,
			BuildID: o.BuildID, Logger: c.logger.With("executor", i),
		}
		if devices != nil {
			specs[i].Devices = devices[i]
		}
	}
	return specs, nil
}

// warmPool holds the instances WarmUp loaded, each usable by one run at a
// time.
type warmPool struct {
	mu        sync.Mutex
	instances []*warmInstance
}

type warmInstance struct {
	key    executorKey
	model  model.Model
	busy   bool
	closed bool // released by Close or a later WarmUp while busy
}

// executorKey is what an executor's model instance depends on.
type executorKey struct {
	index   int
	cpus    float64
	memory  int
	gpuType string
	buildID string
	devices string
}

func keyOf(spec model.Executor) executorKey {
	return executorKey{index: spec.Index, cpus: spec.CPUs, memory: spec.MemoryMiB, gpuType: spec.GPUType, buildID: spec.BuildID, devices: fmt.Sprint(spec.Devices)}
}

// take checks out the idle warm instance for spec, if there is one.
func (w *warmPool) take(spec model.Executor) (*warmInstance, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := keyOf(spec)
	for _, in := range w.instances {
		if in.key == key && !in.busy {
			in.busy = true
			return in, true
		}
	}
	return nil, false
}

// give returns a checked-out instance, closing it if it was released
// meanwhile.
func (w *warmPool) give(in *warmInstance, logger *slog.Logger) {
	w.mu.Lock()
	in.busy = false
	closed := in.closed
	w.mu.Unlock()
	if closed {
		closeModel(in.model, logger)
	}
}

// discard drops a checked-out instance that must not be used again (a call
// on it was abandoned) and closes it.
func (w *warmPool) discard(in *warmInstance, logger *slog.Logger) {
	w.mu.Lock()
	w.instances = slices.DeleteFunc(w.instances, func(x *warmInstance) bool { return x == in })
	in.closed = true
	w.mu.Unlock()
	closeModel(in.model, logger)
}

// replace swaps the kept instances, closing the idle old ones now and the
// busy ones when their run gives them back.
func (w *warmPool) replace(specs []model.Executor, models []model.Model, logger *slog.Logger) {
	fresh := make([]*warmInstance, len(models))
	for i, m := range models {
		fresh[i] = &warmInstance{key: keyOf(specs[i]), model: m}
	}
	w.mu.Lock()
	old := w.instances
	w.instances = fresh
	var idle []model.Model
	for _, in := range old {
		in.closed = true
		if !in.busy {
			idle = append(idle, in.model)
		}
	}
	w.mu.Unlock()
	for _, m := range idle {
		closeModel(m, logger)
	}
}

// closeModel closes a model that holds resources.
func closeModel(m model.Model, logger *slog.Logger) {
	if c, ok := m.(io.Closer); ok {
		if err := c.Close(); err != nil {
			logger.Warn("closing the model failed", "error", err)
		}
	}
}
