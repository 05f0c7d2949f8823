package k8s

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
)

// Worker runs the task of one pod of a remote run. The pod's environment,
// set by Manifests and by Kubernetes, says which execution, bucket and task
// (JOB_COMPLETION_INDEX); the worker reads the task's rows from the Stage,
// scores them with its Loader as a local executor would (engine.RunTask:
// the run's parameters, resources and task timeout, the attempt from the
// index's earlier failures) and writes the output back. Its log lines are
// the pod's log; on failure the last of them reach the client's error.
type Worker struct {
	// Loader builds the model, as for engine.NewClient.
	Loader model.Loader
	// LookupEnv reads the pod's environment; nil means os.LookupEnv.
	LookupEnv func(key string) (string, bool)
	// Log receives the worker's log; nil means os.Stderr.
	Log io.Writer
}

// RunWorker runs the task of the pod this process runs in with the model
// loader builds. A program that serves as the worker image of its own Go
// model calls it from main when InWorkerPod reports true, and exits
// non-zero on error so that Kubernetes counts the attempt as failed:
//
//	if k8s.InWorkerPod() {
//		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
//		defer stop()
//		if err := k8s.RunWorker(ctx, myLoader); err != nil {
//			os.Exit(1)
//		}
//		return
//	}
func RunWorker(ctx context.Context, loader model.Loader) error {
	return Worker{Loader: loader}.Run(ctx)
}

// InWorkerPod reports whether this process runs in a pod of a dfbatch Job:
// whether the Job's DFBATCH_STAGE variable is set.
func InWorkerPod() bool {
	_, ok := os.LookupEnv(EnvStage)
	return ok
}

// Run scores the pod's task. The error, also written to the log, names the
// task and its rows when they are known.
func (w Worker) Run(ctx context.Context) (err error) {
	log := w.Log
	if log == nil {
		log = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(log, nil))
	defer func() {
		if err != nil {
			// Plain text: the client quotes the log's last lines in the
			// task's error.
			msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "dfbatch worker: "), "dfbatch: ")
			fmt.Fprintf(log, "dfbatch worker: %s\n", msg)
		}
	}()
	spec, err := w.readEnv()
	if err != nil {
		return err
	}
	stage, err := OpenStage(ctx, spec.bucket, spec.execution, spec.format)
	if err != nil {
		return err
	}
	defer stage.Close()
	tasks, err := stage.ReadJob(ctx)
	if err != nil {
		return err
	}
	if spec.index >= len(tasks) {
		return fmt.Errorf("dfbatch worker: %s = %d, but execution %s has %d tasks", EnvIndex, spec.index, spec.execution, len(tasks))
	}
	t := tasks[spec.index]
	rows, err := stage.ReadInput(ctx, spec.index)
	if err != nil {
		return err
	}
	logger.Info("dfbatch worker scoring", "execution", spec.execution, "task", t.String(), "attempt", spec.attempt)
	start := time.Now()
	client := engine.NewClient(w.Loader, engine.WithLogger(logger))
	out, err := client.RunTask(ctx, t, spec.attempt, rows, spec.options)
	if err != nil {
		return err
	}
	if err := stage.WriteOutput(ctx, spec.index, out); err != nil {
		return err
	}
	logger.Info("dfbatch worker done", "task", t.String(), "rows", out.NumRows(), "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// workerSpec is what the pod's environment says about its task.
type workerSpec struct {
	execution, bucket string
	format            frame.Format
	index, attempt    int
	options           engine.Options
}

// readEnv reads the pod's environment, naming every variable at fault.
func (w Worker) readEnv() (workerSpec, error) {
	lookup := w.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var (
		errs    []error
		missing []string
	)
	required := func(key string) string {
		v, ok := lookup(key)
		if !ok || v == "" {
			missing = append(missing, key)
		}
		return v
	}
	number := func(key string, v string, parse func(string) error) {
		if v != "" {
			if err := parse(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", key, v, err))
			}
		}
	}
	optional := func(key string) string { v, _ := lookup(key); return v }

	s := workerSpec{execution: required(EnvExecutionID), bucket: required(EnvStage), format: frame.Format(optional(EnvFormat)), attempt: 1}
	o := &s.options
	o.GPUType, o.BuildID = optional(EnvGPUType), optional(EnvBuildID)
	number(EnvIndex, required(EnvIndex), func(v string) (err error) {
		if s.index, err = strconv.Atoi(v); err == nil && s.index < 0 {
			err = errors.New("must be >= 0")
		}
		return err
	})
	number(EnvBatchSize, required(EnvBatchSize), func(v string) (err error) { o.BatchSize, err = strconv.Atoi(v); return err })
	number(EnvIndexFailures, optional(EnvIndexFailures), func(v string) error {
		n, err := strconv.Atoi(v)
		s.attempt = n + 1
		return err
	})
	number(EnvCPUs, optional(EnvCPUs), func(v string) (err error) { o.CPUs, err = strconv.ParseFloat(v, 64); return err })
	number(EnvMemory, optional(EnvMemory), func(v string) (err error) { o.Memory, err = strconv.Atoi(v); return err })
	number(EnvGPUs, optional(EnvGPUs), func(v string) (err error) { o.GPUs, err = strconv.Atoi(v); return err })
	number(EnvTaskTimeout, optional(EnvTaskTimeout), func(v string) (err error) { o.TaskTimeout, err = time.ParseDuration(v); return err })
	if keys := optional(EnvParameters); keys != "" {
		o.Parameters = map[string]string{}
		for _, k := range strings.Split(keys, ",") {
			v, ok := lookup(k)
			if !ok {
				errs = append(errs, fmt.Errorf("%s names parameter %s, which is not in the environment", EnvParameters, k))
			}
			o.Parameters[k] = v
		}
	}
	if len(missing) > 0 {
		// One error for all: a process outside a Job's pod misses them all.
		errs = append([]error{fmt.Errorf("%s not set: the worker runs in the pods of a Job that the dfbatch Kubernetes backend creates",
			strings.Join(missing, ", "))}, errs...)
	}
	if len(errs) > 0 {
		return s, fmt.Errorf("dfbatch worker: %w", errors.Join(errs...))
	}
	return s, nil
}
