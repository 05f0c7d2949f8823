package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/dfbatch/dfbatch/engine/k8s"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/dfbatch/dfbatch/model/subprocess"
)

// workerCommand is `dfbatch worker`: the container command of the pods of
// a cloud run. It scores the pod's task (JOB_COMPLETION_INDEX) with an ONNX
// model that is in the image (--model) or in the staging bucket
// (--model-object, as `dfbatch run --cloud` uploads it), or with a model
// process in any language that the image holds (--command), which
// inherits the pod's environment, the run's parameters included, and
// whose stderr is the pod's log. lookupEnv reads the pod's environment.
func workerCommand(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) error {
	fs := newCommandFlags("dfbatch worker", "dfbatch worker (--model PATH | --model-object KEY | --command LINE) [flags]   (in the pods of a cloud run)")
	var (
		modelPath   = fs.String("model", "", "ONNX model file in the image")
		modelObject = fs.String("model-object", "", "key of the ONNX model in the staging bucket ($"+k8s.EnvStage+"), as dfbatch run --cloud uploads it")
		command     = fs.String("command", "", `a model process in the image speaking dfbatch's protocol, e.g. "python3 /model/predict.py"`)
		cmdFormat   = fs.String("command-format", "", "--command: payload format, arrow or csv (default: the process's first choice)")
		runtime     = fs.String("runtime", "", "what runs the model: go or onnxruntime (default go)")
		ortLib      = fs.String("ort-lib", "", "ONNX Runtime's shared library for --runtime onnxruntime (default $"+onnx.ORTLibraryEnv+")")
		outputs     = keyValues{}
		features    list
		keep        list
		columns     list
	)
	fs.Var(outputs, "rename", "rename a model output column, onnx_name=column (repeatable)")
	fs.Var(&features, "features", "feature columns in the model's input order, comma-separated")
	fs.Var(&keep, "keep-columns", "input columns to copy next to the predictions, comma-separated")
	keepIndex := fs.Bool("keep-index", false, keepIndexUsage)
	fs.Var(&columns, "output-columns", "model output columns to write (after --rename), comma-separated; default all")
	if err := fs.parse(args, stderr); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	case countSet(*modelPath, *modelObject, *command) != 1:
		return usageError{errors.New("give the model with one of --model (a file in the image), --model-object (a key in the staging bucket) and --command (a process in the image)")}
	case *command != "":
		payload, err := subprocess.ParseFormat(*cmdFormat)
		if err != nil {
			return usageError{fmt.Errorf("--command-format: %w", err)}
		}
		spec := modelSpec{command: *command, commandFormat: payload, keep: keep, keepIndex: *keepIndex}
		return runWorker(ctx, spec, lookupEnv, stderr)
	}
	rt, err := onnx.ParseRuntime(*runtime)
	if err != nil {
		return usageError{fmt.Errorf("--runtime: %w", err)}
	}
	path := *modelPath
	if *modelObject != "" {
		bucket, _ := lookupEnv(k8s.EnvStage)
		if bucket == "" {
			return usageError{fmt.Errorf("--model-object needs %s, the staging bucket, which the Job sets", k8s.EnvStage)}
		}
		dir, err := os.MkdirTemp("", "dfbatch-model-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if path, err = k8s.FetchModel(ctx, bucket, *modelObject, dir); err != nil {
			return err
		}
	}
	spec := modelSpec{path: path, features: features, outputs: outputs, columns: columns, keep: keep, keepIndex: *keepIndex, runtime: rt, ortLib: *ortLib}
	return runWorker(ctx, spec, lookupEnv, stderr)
}

// runWorker scores the pod's task with the model spec binds.
func runWorker(ctx context.Context, spec modelSpec, lookupEnv func(string) (string, bool), stderr io.Writer) error {
	l, err := spec.loader()
	if err != nil {
		return usageError{err}
	}
	if err := (k8s.Worker{Loader: l, LookupEnv: lookupEnv, Log: stderr}).Run(ctx); err != nil {
		return reportedError{err}
	}
	return nil
}

// countSet counts the non-empty values.
func countSet(values ...string) int {
	n := 0
	for _, v := range values {
		if v != "" {
			n++
		}
	}
	return n
}
