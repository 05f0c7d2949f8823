package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/dfbatch/dfbatch/model/subprocess"
)

// modelSpec is a model and how to bind it, an ONNX model file or a
// command: what `dfbatch run` opens locally and hands to `dfbatch worker`
// in each pod of a cloud run.
type modelSpec struct {
	// command is a --command model's command line; "" for an ONNX model.
	command       string
	commandFormat subprocess.Format
	path          string
	features      []string
	outputs       map[string]string // ONNX output name -> column
	columns       []string
	keep          []string
	// keepIndex keeps the input's pandas index columns (--keep-index).
	keepIndex bool
	runtime   onnx.Runtime
	ortLib    string
	// config is the deployment.json the binding comes from, for errors;
	// "" for flags.
	config string
}

// loader opens the model.
func (m modelSpec) loader() (model.Loader, error) {
	if m.command != "" {
		return keepInputs(subprocess.Command{Args: subprocess.Shell(m.command), Format: m.commandFormat}, m.keep, m.keepIndex), nil
	}
	l, err := onnx.Open(m.path, onnx.Options{Features: m.features, Outputs: m.outputs, Columns: m.columns, Runtime: m.runtime, ORTLibrary: m.ortLib})
	if err != nil {
		if m.config != "" {
			return nil, fmt.Errorf("%s: %w", m.config, err)
		}
		return nil, err
	}
	return keepInputs(l, m.keep, m.keepIndex), nil
}

// keepInputs has l's models carry the keep columns into their output,
// after the input's pandas index columns if index is set.
func keepInputs(l model.Loader, keep []string, index bool) model.Loader {
	if len(keep) > 0 {
		l = model.WithInputColumns(l, keep...)
	}
	if index {
		l = model.WithPandasIndex(l)
	}
	return l
}

// bindingArgs are the flags of `dfbatch worker` that bind the model as m
// does; the model file and the ONNX Runtime library are the worker's own,
// and a command runs in the worker's image.
func (m modelSpec) bindingArgs() []string {
	var args []string
	if m.command != "" {
		args = append(args, "--command", m.command)
		if m.commandFormat != "" {
			args = append(args, "--command-format", string(m.commandFormat))
		}
	}
	if len(m.features) > 0 {
		args = append(args, "--features", strings.Join(m.features, ","))
	}
	for _, k := range slices.Sorted(maps.Keys(m.outputs)) {
		args = append(args, "--rename", k+"="+m.outputs[k])
	}
	if len(m.columns) > 0 {
		args = append(args, "--output-columns", strings.Join(m.columns, ","))
	}
	if len(m.keep) > 0 {
		args = append(args, "--keep-columns", strings.Join(m.keep, ","))
	}
	if m.keepIndex {
		args = append(args, "--keep-index")
	}
	if m.runtime != "" {
		args = append(args, "--runtime", string(m.runtime))
	}
	return args
}
