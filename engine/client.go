// Package engine scores frames with a model in batches, the way a hosted
// batch-inference platform does: the input is split into tasks of
// Options.BatchSize rows, at most Options.Executors tasks run at once, each
// executor with its own model instance, every task's model sees the run's
// Parameters, and the outputs come back as one frame in input order.
//
// Runs happen in this process on a bounded set of goroutines, or on a
// remote Backend when Options.Cloud is set; either way the engine plans
// the tasks, keeps the execution's state and writes the outputs.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"

	"github.com/dfbatch/dfbatch/engine/internal/checkpoint"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/go-gota/gota/dataframe"
)

// Client scores data with one model. It is safe for concurrent use; each
// run loads its own model instances.
//
// Runs take a *frame.Frame or, converted once at each edge, a gota
// DataFrame, in pairs: RunFrame and Run, Start and StartDataFrame,
// Execution.Wait and WaitDataFrame, Report.RerunFrame and RerunDataFrame.
// Stream takes any frame.Reader (frame.NewFrameReader streams a frame) and
// RunFiles files.
type Client struct {
	loader    model.Loader
	defaults  Options
	logger    *slog.Logger
	backend   Backend
	instances map[string]Instance
	warm      *warmPool
	// createFile creates the files of file runs; tests inject write
	// errors through it.
	createFile checkpoint.Files
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithDefaults sets the model's deployed configuration: the options a run
// takes for every field it leaves unset.
func WithDefaults(o Options) ClientOption { return func(c *Client) { c.defaults = o } }

// WithLogger sends the client's logs to l. By default a client logs
// nothing.
func WithLogger(l *slog.Logger) ClientOption { return func(c *Client) { c.logger = l } }

// WithBackend sets the remote backend that runs jobs with Options.Cloud.
func WithBackend(b Backend) ClientOption { return func(c *Client) { c.backend = b } }

// WithInstances adds instance presets for Options.Instance, or replaces the
// built-in ones of the same name.
func WithInstances(presets map[string]Instance) ClientOption {
	return func(c *Client) { maps.Copy(c.instances, presets) }
}

// NewClient returns a client for the model that loader builds. A
// model.Func or model.DataFrameFunc is its own loader.
func NewClient(loader model.Loader, opts ...ClientOption) *Client {
	c := &Client{loader: loader, logger: slog.New(slog.DiscardHandler), instances: maps.Clone(instances), warm: &warmPool{}, createFile: checkpoint.OS}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Run scores a gota DataFrame and returns the output as one, in input
// order: StartDataFrame, then Execution.WaitDataFrame. RunFrame is the same
// for a frame.
func (c *Client) Run(ctx context.Context, df dataframe.DataFrame, opts Options) (dataframe.DataFrame, error) {
	e, err := c.StartDataFrame(ctx, df, opts)
	if err != nil {
		return dataframe.DataFrame{Err: err}, err
	}
	return e.WaitDataFrame()
}

// StartDataFrame is Start for a gota DataFrame, converted to a frame once
// here; Execution.WaitDataFrame returns the output as a DataFrame, and
// Report.RerunDataFrame the rows to score again.
func (c *Client) StartDataFrame(ctx context.Context, df dataframe.DataFrame, opts Options) (*Execution, error) {
	if df.Err != nil {
		return nil, fmt.Errorf("dfbatch: the input DataFrame carries an error: %w", df.Err)
	}
	if df.Ncol() == 0 {
		return nil, errors.New("dfbatch: the input DataFrame has no columns")
	}
	in, err := frame.FromDataFrame(df)
	if err != nil {
		return nil, fmt.Errorf("dfbatch: converting the input: %w", err)
	}
	return c.Start(ctx, in, opts)
}

// RunFrame scores a frame and returns the output, in input order unless
// Options.Unordered. On error the frame holds the rows that were scored, if
// any; see Execution.Wait.
func (c *Client) RunFrame(ctx context.Context, in *frame.Frame, opts Options) (*frame.Frame, error) {
	e, err := c.Start(ctx, in, opts)
	if err != nil {
		return nil, err
	}
	return e.Wait()
}

// Start validates the options and starts scoring in in the background. An
// error here means no task started. Cancelling ctx cancels the run.
func (c *Client) Start(ctx context.Context, in *frame.Frame, opts Options) (*Execution, error) {
	if in == nil {
		return nil, errors.New("dfbatch: the input frame is nil")
	}
	if in.NumCols() == 0 {
		return nil, errors.New("dfbatch: the input frame has no columns")
	}
	o, err := c.resolve(opts)
	if err != nil {
		return nil, err
	}
	src := newFrameSource(in, o.BatchSize)
	var retained *retainSink
	return c.start(ctx, o, runPlan{
		src: src,
		newSink: func(r *Run) sink {
			retained = newRetainSink(!o.Unordered, r.delivered)
			return retained
		},
		collect: func(r *Run, runErr error) (*frame.Frame, error) {
			frames := retained.frames(src.total())
			if len(frames) == 0 {
				if runErr != nil {
					return nil, nil
				}
				return c.emptyOutput(in, r.firstOutput(""))
			}
			out, err := frame.Concat(frames...)
			if err != nil {
				return nil, err
			}
			return out.WithRowOffset(0), nil
		},
	})
}

// Stream scores the frames that r yields, cut into tasks of BatchSize rows,
// and hands each task's output to consume as soon as it is its turn: in
// input order, or as tasks finish with Options.Unordered. Calls to consume
// are serial. At most about 2 x Executors batches are held at once, however
// long the stream. An error from consume stops the run. Wait's frame is nil.
func (c *Client) Stream(ctx context.Context, r frame.Reader, opts Options, consume func(Batch) error) (*Execution, error) {
	o, err := c.resolve(opts)
	if err != nil {
		return nil, err
	}
	return c.start(ctx, o, runPlan{
		src: &rebatcher{r: r, batchSize: o.BatchSize},
		newSink: func(run *Run) sink {
			return run.streamSink(!o.Unordered, consume)
		},
		collect: func(*Run, error) (*frame.Frame, error) { return nil, nil },
	})
}

func (c *Client) resolve(opts Options) (Options, error) {
	o, err := resolveOptions(opts, c.defaults, c.instances)
	if err != nil {
		return o, fmt.Errorf("dfbatch: %w", err)
	}
	if o.Cloud && c.backend == nil {
		return o, fmt.Errorf("dfbatch: %w", ErrNoBackend)
	}
	return o, nil
}

// runPlan is what a run is made of, whichever backend runs it.
type runPlan struct {
	src source
	// newSink builds the sink once the run exists.
	newSink func(*Run) sink
	// scored, if set, takes each scored output before the sink.
	scored func(Task, *frame.Frame) error
	// collect builds the output after the run; runErr is the run's error.
	collect func(r *Run, runErr error) (*frame.Frame, error)
}

// start picks the run's backend and runs it in the background.
func (c *Client) start(ctx context.Context, o Options, plan runPlan) (*Execution, error) {
	src := plan.src
	backend, err := c.backendFor(o, src.total())
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	e := newExecution(o, cancel)
	e.tasks = src.total()
	e.report = Report{ExecutionID: e.id, Started: e.started, Tasks: max(e.tasks, 0)}
	r := newRun(e, c.logger, src)
	r.scored = plan.scored
	r.sink = plan.newSink(r)
	c.logger.Info("dfbatch run started", "execution", e.id, "tasks", e.tasks, "batch_size", o.BatchSize,
		"executors", o.Executors, "cpus", o.CPUs, "memory_mib", o.Memory, "cloud", o.Cloud)
	go func() {
		defer cancel(nil)
		jobCtx, stop := withJobTimeout(runCtx, o.JobTimeout)
		defer stop()
		var err error
		if src.total() != 0 {
			// A run of no rows has nothing for a backend to do.
			err = backend.Run(jobCtx, r)
		}
		err = r.end(jobCtx, err)
		out, cerr := plan.collect(r, err)
		if err == nil {
			err = cerr
		}
		if err != nil {
			err = fmt.Errorf("dfbatch: execution %s: %w", e.id, err)
		}
		e.finish(out, err, c.logger)
	}()
	return e, nil
}

// backendFor returns what runs tasks tasks (-1: not known yet) with
// options o: the remote backend for Options.Cloud, after it checked the
// options, else a pool of executors in this process.
func (c *Client) backendFor(o Options, tasks int) (Backend, error) {
	if o.Cloud {
		if checker, ok := c.backend.(OptionsChecker); ok && tasks != 0 {
			if err := checker.CheckOptions(tasks, o); err != nil {
				return nil, fmt.Errorf("dfbatch: the remote backend cannot run these options: %w", err)
			}
		}
		return c.backend, nil
	}
	executors := o.Executors
	if tasks >= 0 {
		executors = min(executors, tasks)
	}
	if cores := runtime.NumCPU(); float64(o.Executors)*o.CPUs > float64(cores) {
		c.logger.Warn("executors x cpus exceeds this machine's CPUs; executors will compete for cores",
			"executors", o.Executors, "cpus", o.CPUs, "machine_cpus", cores)
	}
	specs, err := c.executorSpecs(o, executors)
	if err != nil {
		return nil, err
	}
	return &pool{opts: o, loader: c.loader, logger: c.logger, executors: executors, specs: specs, warm: c.warm}, nil
}

// emptyOutput is the output of a run in which no task finished: the
// columns of the first output (first, nil if none), else the model's output
// columns when its loader declares them, else no columns.
func (c *Client) emptyOutput(in *frame.Frame, first *outputShape) (*frame.Frame, error) {
	if first != nil {
		return frame.Empty(first.schema), nil
	}
	if s, ok := c.loader.(model.OutputSchemer); ok {
		schema, err := s.OutputSchema(in.Schema())
		if err != nil {
			return nil, fmt.Errorf("the model's output schema: %w", err)
		}
		return frame.Empty(schema), nil
	}
	return frame.New()
}
