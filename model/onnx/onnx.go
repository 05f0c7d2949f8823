// Package onnx scores ONNX models. A Loader reads and checks a model file
// once, and decides then what runs its graph; it is a model.Loader, so each
// executor gets its own instance. Frame columns bind to the model's inputs
// by an explicit feature list or by input names, and each output becomes
// one column, or K columns for an [N,K] output.
//
// What runs a graph, for each executor, in this order:
//
//   - An executor with GPUs (model.Executor.Devices) runs the compiled plan
//     below on a gpu.Stream of its first device. A graph the GPU path cannot
//     run whole (ai.onnx.ml operators, operators without a GPU kernel, the
//     gorgonia fallback's graphs) fails to load there, naming what it
//     lacks, unless Options.CPUFallback sends that executor down the CPU
//     paths below.
//   - Options.Runtime = RuntimeORT runs the graph on ONNX Runtime, loaded
//     from its shared library (ort.go), one session per executor; it needs
//     cgo.
//   - Otherwise, RuntimeGo, the default, in pure Go: a graph of ai.onnx.ml
//     operators (tree ensembles, linear models, scalers, the casts and
//     label lookups exporters put around them) runs on the ML graph
//     (mlgraph.go); one that also has standard operators runs its dense
//     front on the compiled plan and the rest on the ML graph (mixed.go).
//   - A graph of standard operators is compiled into a plan (plan.go): fused
//     dense layers on a register-blocked float32 GEMM (internal/sgemm) and
//     vectorized element-wise steps (internal/vecmath). This is the main
//     path for neural networks.
//   - A graph the plan cannot take (an operator or a shape it lacks) runs on
//     gorgonia through onnx-go (dense.go), the fallback, one graph per
//     distinct row count. Builds with the cuda tag leave gorgonia out and
//     refuse such graphs at load, pointing to RuntimeORT.
//
// Every choice is made at load, so a model either loads with a runtime for
// all its nodes or fails naming the first node and operator that none can
// run, with the list of those supported.
package onnx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model"
)

// Options say how a frame meets the model.
type Options struct {
	// Features are the frame columns, in order, that make up the model's
	// single [N,F] input. Unset, each model input binds to the column of
	// its own name.
	Features []string
	// Outputs renames model outputs to output columns: ONNX output name ->
	// column name (the prefix, for an [N,K] output), or one column of an
	// [N,K] output ("probabilities_1") -> its name.
	Outputs map[string]string
	// Columns are the output columns to return, after renaming; unset,
	// all of them.
	Columns []string
	// Runtime is what runs the graph: RuntimeGo (the default) or
	// RuntimeORT.
	Runtime Runtime
	// ORTLibrary is the path of ONNX Runtime's shared library
	// (libonnxruntime.so) for RuntimeORT; unset, $DFBATCH_ORT_LIB.
	ORTLibrary string
	// CPUFallback lets an executor that has GPUs score on the CPU when the
	// GPU path lacks part of the model. Unset, loading the model on such
	// an executor fails, naming what the GPU path lacks.
	CPUFallback bool
}

// Runtime names what runs a model's graph.
type Runtime string

const (
	// RuntimeGo runs the graph in this process in pure Go: dense networks
	// on a compiled plan of fused layers (or on gorgonia for operators the
	// plan lacks), ai.onnx.ml graphs on the ML operators. No cgo, no
	// shared library.
	RuntimeGo Runtime = "go"
	// RuntimeORT runs the graph on ONNX Runtime, loaded from its shared
	// library at load time, for operators the Go runtime lacks. Each
	// executor gets its own session with as many intra-op threads as its
	// CPUs. It needs cgo.
	RuntimeORT Runtime = "onnxruntime"
)

// ParseRuntime reads a runtime's name: "go" or "onnxruntime" (also "ort").
func ParseRuntime(s string) (Runtime, error) {
	switch strings.ToLower(s) {
	case "", string(RuntimeGo):
		return RuntimeGo, nil
	case string(RuntimeORT), "ort":
		return RuntimeORT, nil
	}
	return "", fmt.Errorf("unknown ONNX runtime %q; known: %s, %s", s, RuntimeGo, RuntimeORT)
}

// maxMLOpset is the newest ai.onnx.ml opset whose operators this runner
// implements.
const maxMLOpset = 4

// Loader holds a checked model. It is safe for concurrent use; Load gives
// each executor its own instance.
type Loader struct {
	name    string
	data    []byte
	proto   *onnxpb.ModelProto
	opts    Options
	inputs  []tensorSpec
	outputs []string
	// mlGraph says the graph runs on the pure-Go ML operators, compiled
	// in mlNodes, after front when the graph mixes in dense layers;
	// otherwise it runs on the plan or gorgonia. mlInputs are the indexes
	// of the inputs the ML nodes read.
	mlGraph  bool
	mlNodes  []mlNode
	front    *frontPlan
	mlInputs []int
	// plan is the compiled dense graph; nil for ML graphs and for dense
	// graphs that run on gorgonia, notPlanned saying why.
	plan       *plan
	notPlanned error
	// schema is the output's, learned by running the model on one row.
	schema *arrow.Schema
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
	check := l.check
	switch opts.Runtime {
	case "", RuntimeGo:
	case RuntimeORT:
		check = l.checkORT
	default:
		return nil, fmt.Errorf("onnx: %s: Options.Runtime %q is not a runtime; use %q or %q", name, opts.Runtime, RuntimeGo, RuntimeORT)
	}
	if err := check(); err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", name, err)
	}
	if err := l.probe(); err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", name, err)
	}
	return l, nil
}

// Path says what runs the graph, for logs and benchmarks: "compiled
// plan", "ML operators", "ONNX Runtime", or "gorgonia" with the reason the
// plan could not take the graph.
func (l *Loader) Path() string {
	switch {
	case l.opts.Runtime == RuntimeORT:
		return "ONNX Runtime"
	case l.mlGraph && l.front != nil:
		return "compiled plan and ML operators"
	case l.mlGraph:
		return "ML operators"
	case l.plan != nil:
		return "compiled plan"
	}
	return fmt.Sprintf("%s (not compiled: %v)", fallbackName, l.notPlanned)
}

// probe runs the model once on a zero row, so that whatever cannot run
// fails at load time, not in the first task, and so that the output's
// columns are known before any task.
func (l *Loader) probe() error {
	m, err := l.Load(context.Background(), model.Executor{})
	if err != nil {
		return err
	}
	if c, ok := m.(io.Closer); ok {
		defer c.Close()
	}
	var cols []frame.Column
	for i := range l.inputs {
		for _, name := range l.inputColumns(i) {
			cols = append(cols, frame.Float64s(name, []float64{0}))
		}
	}
	zero, err := frame.New(dedupe(cols)...)
	if err != nil {
		return err
	}
	raw, err := m.(rawPredictor).predictRaw(zero)
	if err != nil {
		return fmt.Errorf("a trial run on one row: %w", err)
	}
	names := make([]string, len(raw))
	for i, c := range raw {
		names[i] = c.Name
	}
	if err := l.checkRenames(names); err != nil {
		return err
	}
	out, err := l.finish(raw)
	if err != nil {
		return err
	}
	l.schema = out.Schema()
	return nil
}

// checkRenames refuses an Options.Outputs key that names neither an
// output nor one of its columns: the rename would silently not happen.
func (l *Loader) checkRenames(columns []string) error {
	for _, from := range slices.Sorted(maps.Keys(l.opts.Outputs)) {
		if !slices.Contains(l.outputs, from) && !slices.Contains(columns, from) {
			return fmt.Errorf("Options.Outputs renames %q, which is neither an output nor an output column; the outputs are %s and their columns %s",
				from, strings.Join(l.outputs, ", "), strings.Join(columns, ", "))
		}
	}
	return nil
}

// dedupe drops columns whose name came earlier.
func dedupe(cols []frame.Column) []frame.Column {
	seen := map[string]bool{}
	out := cols[:0]
	for _, c := range cols {
		if !seen[c.Name] {
			seen[c.Name] = true
			out = append(out, c)
		}
	}
	return out
}

// check reads the graph's inputs and outputs and refuses operators the
// runner lacks and inputs it cannot feed. A graph of ai.onnx.ml operators
// runs on the pure-Go ML graph, one that also has standard operators the
// ML graph lacks on a front plan and the ML graph (see checkMixed), any
// other on the compiled plan or gorgonia.
func (l *Loader) check() error {
	g := l.proto.GetGraph()
	if g == nil || len(g.GetNode()) == 0 {
		return fmt.Errorf("the model has no graph nodes")
	}
	// ai.onnx.ml opset 5 replaced the tree ensembles this runner implements
	// (opsets 1 to 3, unchanged in 4) with a new TreeEnsemble operator.
	if v := onnxpb.Opset(l.proto, onnxpb.MLDomain); v > maxMLOpset {
		return fmt.Errorf("the model imports %s opset %d; supported: 1 to %d", onnxpb.MLDomain, v, maxMLOpset)
	}
	// A graph the ML runner can run whole runs there (tree ensembles, linear
	// models, and the Casts around them); a graph with ML operators must.
	mlWhole, mlAny := true, false
	for _, n := range g.GetNode() {
		domain := onnxpb.CanonicalDomain(n.GetDomain())
		mlAny = mlAny || domain == onnxpb.MLDomain
		mlWhole = mlWhole && runsOnMLGraph(n)
	}
	l.mlGraph = mlWhole || mlAny
	if mlWhole {
		nodes, err := compileML(g.GetNode(), graphConstants(g))
		if err != nil {
			return err
		}
		l.mlNodes = nodes
	}
	if err := l.readSignature(g); err != nil {
		return err
	}
	switch {
	case mlWhole:
		l.mlInputs = inputsReadBy(l.inputs, g.GetNode(), g.GetOutput())
		return nil
	case mlAny:
		return l.checkMixed(g)
	}
	return l.checkDense(g)
}

// readSignature reads the graph's inputs (those that are not weights) and
// outputs, and checks that frame columns can feed the inputs.
func (l *Loader) readSignature(g *onnxpb.GraphProto) error {
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
		l.outputs = append(l.outputs, v.GetName())
	}
	if err := l.checkBinding(); err != nil {
		return err
	}
	return nil
}

// checkDense compiles a graph of standard operators into a plan, or when
// the plan lacks one of its operators or shapes, checks that gorgonia can
// run it instead.
func (l *Loader) checkDense(g *onnxpb.GraphProto) error {
	p, err := compilePlan(g, l.inputs)
	var why *errNotPlanned
	if !errors.As(err, &why) {
		l.plan = p
		return err
	}
	l.notPlanned = why
	return l.checkFallback(g, why)
}

// checkBinding makes sure every input can be fed from frame columns.
func (l *Loader) checkBinding() error {
	if len(l.opts.Features) > 0 {
		if len(l.inputs) != 1 {
			return fmt.Errorf("Options.Features binds columns to a single [N,F] input, but the model has %d inputs (%s); leave Features unset to bind each input to the column of its name", len(l.inputs), inputNames(l.inputs))
		}
		in := &l.inputs[0]
		if in.width > 0 && in.width != len(l.opts.Features) {
			return fmt.Errorf("input %q takes %s per row, but Options.Features names %s", in.name, plural(in.width, "feature"), plural(len(l.opts.Features), "column"))
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

// unsupportedIn is the load-time error for an operator the runner lacks.
func unsupportedIn(n *onnxpb.NodeProto, supported []string) error {
	list := slices.Clone(supported)
	slices.Sort(list)
	return fmt.Errorf("operator %s (domain %s) of node %q is not supported; supported: %s", n.GetOpType(), onnxpb.CanonicalDomain(n.GetDomain()), n.GetName(), strings.Join(list, ", "))
}

// plural is n followed by noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
