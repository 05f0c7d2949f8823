// Package onnx scores ONNX models: neural networks of standard operators
// on gorgonia through onnx-go, and the ai.onnx.ml operators that tabular
// exporters write (tree ensembles, linear models, scalers...) in pure Go.
//
// A Loader reads and checks a model file once; it is a model.Loader, so
// each executor gets its own instance. Frame columns bind to the model's
// inputs by an explicit feature list or by input names, and each output
// becomes one column, or K columns for an [N,K] output.
package onnx

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/dfbatch/dfbatch/model/onnx/onnxpb"
)

// Options say how a frame meets the model.
type Options struct {
	// Features are the frame columns, in order, that make up the model's
	// single [N,F] input. Unset, each model input binds to the column of
	// its own name.
	Features []string
	// Outputs renames model outputs to output columns: ONNX output name ->
	// column name (the prefix, for an [N,K] output).
	Outputs map[string]string
}

// Loader holds a checked model. It is safe for concurrent use; Load gives
// each executor its own instance.
type Loader struct {
	name    string
	data    []byte
	proto   *onnxpb.ModelProto
	opts    Options
	inputs  []tensorSpec
	outputs []tensorSpec
}

// Open reads and checks the ONNX model at path. An operator the runner
// lacks is an error naming it, its node and the supported operators.
func Open(path string, opts Options) (*Loader, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return New(path, data, opts)
}

// New checks an ONNX model held in memory; name is how errors refer to it.
func New(name string, data []byte, opts Options) (*Loader, error) {
	proto, err := onnxpb.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", name, err)
	}
	l := &Loader{name: name, data: data, proto: proto, opts: opts}
	if err := l.check(); err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", name, err)
	}
	if err := l.probe(); err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", name, err)
	}
	return l, nil
}

// probe builds and runs the graph once on a zero row, so that whatever
// gorgonia cannot build fails at load time, not in the first task.
func (l *Loader) probe() error {
	g := &denseGraph{model: l.data, inputs: l.inputs, graphs: map[int]*gorgoniaGraph{}}
	outs, err := g.run(1, func(int, any) error { return nil })
	if err != nil {
		return err
	}
	for i, t := range outs {
		if len(t.Shape()) == 0 || t.Shape()[0] != 1 {
			return fmt.Errorf("output %q has shape %v for a 1-row input: its first dimension is not the batch", l.outputs[i].name, t.Shape())
		}
	}
	return nil
}

// check reads the graph's inputs and outputs and refuses operators the
// runner lacks and inputs it cannot feed.
func (l *Loader) check() error {
	g := l.proto.GetGraph()
	if g == nil || len(g.GetNode()) == 0 {
		return fmt.Errorf("the model has no graph nodes")
	}
	for _, n := range g.GetNode() {
		if n.GetDomain() != "" && n.GetDomain() != "ai.onnx" {
			return unsupported(n)
		}
		if !slices.Contains(gorgonnxOperators, n.GetOpType()) {
			return unsupported(n)
		}
	}
	initialized := map[string]bool{}
	for _, t := range g.GetInitializer() {
		initialized[t.GetName()] = true
	}
	for _, v := range g.GetInput() {
		if initialized[v.GetName()] {
			continue // a weight, not a graph input
		}
		spec, err := specOf(v)
		if err != nil {
			return fmt.Errorf("input %q: %w", v.GetName(), err)
		}
		l.inputs = append(l.inputs, spec)
	}
	for _, v := range g.GetOutput() {
		spec, err := specOf(v)
		if err != nil {
			return fmt.Errorf("output %q: %w", v.GetName(), err)
		}
		l.outputs = append(l.outputs, spec)
	}
	return l.checkBinding()
}

// checkBinding makes sure every input can be fed from frame columns.
func (l *Loader) checkBinding() error {
	if len(l.opts.Features) > 0 {
		if len(l.inputs) != 1 {
			return fmt.Errorf("Options.Features binds columns to a single [N,F] input, but the model has %d inputs (%s); leave Features unset to bind each input to the column of its name", len(l.inputs), inputNames(l.inputs))
		}
		in := &l.inputs[0]
		if in.width > 0 && in.width != len(l.opts.Features) {
			return fmt.Errorf("input %q takes %d features per row, but Options.Features names %d columns", in.name, in.width, len(l.opts.Features))
		}
		// A dynamic feature dimension takes the features' count.
		in.width, in.dims = len(l.opts.Features), []int{len(l.opts.Features)}
		return nil
	}
	for _, in := range l.inputs {
		if in.width != 1 {
			return fmt.Errorf("input %q takes %s values per row; name the feature columns, in input order, with Options.Features (or --features)", in.name, widthText(in.width))
		}
	}
	return nil
}

func widthText(w int) string {
	if w < 0 {
		return "a dynamic number of"
	}
	return fmt.Sprint(w)
}

func inputNames(specs []tensorSpec) string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = fmt.Sprintf("%q", s.name)
	}
	return strings.Join(names, ", ")
}

// unsupported is the load-time error for an operator the runner lacks.
func unsupported(n *onnxpb.NodeProto) error {
	domain := n.GetDomain()
	if domain == "" {
		domain = "ai.onnx"
	}
	return fmt.Errorf("operator %s (domain %s) of node %q is not supported; supported: %s", n.GetOpType(), domain, n.GetName(), strings.Join(gorgonnxOperators, ", "))
}
