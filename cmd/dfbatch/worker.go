package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/dfbatch/dfbatch/engine/k8s"
	"github.com/dfbatch/dfbatch/model/onnx"
)

// workerCommand is `dfbatch worker`: the container command of the pods of
// a cloud run. It scores the pod's task (JOB_COMPLETION_INDEX) with an ONNX
// model that is in the image (--model) or in the staging bucket
// (--model-object, as `dfbatch run --cloud` uploads it). lookupEnv reads
// the pod's environment.
func workerCommand(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) error {
	fs := flag.NewFlagSet("dfbatch worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		modelPath   = fs.String("model", "", "ONNX model file in the image")
		modelObject = fs.String("model-object", "", "key of the ONNX model in the staging bucket ($"+k8s.EnvStage+"), as dfbatch run --cloud uploads it")
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
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	case (*modelPath == "") == (*modelObject == ""):
		return usageError{errors.New("give the model with one of --model (a file in the image) and --model-object (a key in the staging bucket)")}
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
	l, err := spec.loader()
	if err != nil {
		return usageError{err}
	}
	if err := (k8s.Worker{Loader: l, LookupEnv: lookupEnv, Log: stderr}).Run(ctx); err != nil {
		return reportedError{err}
	}
	return nil
}
