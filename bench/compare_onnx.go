package bench

import (
	"fmt"
	"io"
	"runtime"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/dfbatch/dfbatch/model/onnx/onnxpb"
)

// modelSpec is an ONNX model file as ONNX Runtime is fed it directly.
type modelSpec struct {
	path, input string
	features    int
	outputs     []outputSpec
	// check is the output compared between runners.
	check checkSpec
}

// outputSpec is a model output: [N] (width 0) or [N, width].
type outputSpec struct {
	name  string
	int64 bool
	width int
}

// checkSpec names one output column: output index and column in ONNX
// Runtime's tensors, column name in dfbatch's frames.
type checkSpec struct {
	output, col int
	column      string
}

// modelCase is a model with its input data, loaded on dfbatch's pure-Go
// runner and checked against ONNX Runtime (or, without it, against a
// plain Go implementation) once, before any timing.
type modelCase struct {
	name string
	spec *modelSpec
	in   *Inputs
	// goLoader is dfbatch's pure-Go runner of the model; goErr why not.
	goLoader *onnx.Loader
	goErr    error
	// expected are the checked output column's values for in: dfbatch's,
	// checked; else ONNX Runtime's.
	expected []float32
	// checkErr says that the runners disagree.
	checkErr error
	// mlp is the network of an MLP case.
	mlp *MLP
}

// mlpCase returns the case of Config.MLPs[i], building it on first use.
func (r *runner) mlpCase(i int) *modelCase {
	for len(r.mlpCases) <= i {
		r.mlpCases = append(r.mlpCases, nil)
	}
	if c := r.mlpCases[i]; c != nil {
		return c
	}
	m := NewMLP(uint64(i+1), r.cfg.MLPs[i]...)
	spec := &modelSpec{input: "input", features: m.Features(),
		outputs: []outputSpec{{name: "output", width: m.Outputs()}},
		check:   checkSpec{output: 0, col: 0, column: "output"}}
	c := r.newCase("MLP "+m.Name(), "mlp-"+m.Name()+".onnx", m.Proto(), spec, NewInputs(uint64(100+i), r.cfg.MLPRows[i], m.Features()),
		func(in *Inputs) []float32 { return m.Predict(in.Matrix, in.Rows) })
	c.mlp = m
	r.mlpCases[i] = c
	return c
}

// newCase writes the model, loads it on the pure-Go runner and checks it.
func (r *runner) newCase(name, file string, proto *onnxpb.ModelProto, spec *modelSpec, in *Inputs, reference func(*Inputs) []float32) *modelCase {
	c := &modelCase{name: name, spec: spec, in: in}
	r.logf("writing %s and %d rows of input", name, in.Rows)
	path, err := WriteModel(r.tmp, file, proto)
	if err != nil {
		c.goErr = err
		return c
	}
	spec.path = path
	c.goLoader, c.goErr = onnx.Open(path, onnx.Options{Features: FeatureNames(spec.features)})
	if c.goErr == nil {
		c.expected, c.goErr = r.goPredict(c, r.cfg.Batches[0])
	}
	var ortOut []float32
	if r.ortSkip == "" {
		s, err := newORTSession(spec, r.cfg.Batches[0], 1)
		if err == nil {
			ortOut, err = s.predict(in)
			s.close()
		}
		if err != nil {
			c.checkErr = fmt.Errorf("ONNX Runtime on %s: %w", name, err)
			r.note(c.checkErr.Error())
		}
	}
	switch {
	case c.goErr != nil:
		r.note(fmt.Sprintf("dfbatch's pure-Go runner on %s: %v", name, c.goErr))
		c.expected = ortOut
	case ortOut != nil:
		if err := agree(c.expected, ortOut); err != nil {
			c.checkErr = fmt.Errorf("dfbatch and ONNX Runtime disagree on %s: %w", name, err)
			r.note(c.checkErr.Error())
		} else {
			r.logf("%s: dfbatch and ONNX Runtime agree within 1e-4 on %d rows", name, in.Rows)
		}
	default:
		if err := agree(c.expected, reference(in)); err != nil {
			c.checkErr = fmt.Errorf("dfbatch disagrees with the plain Go %s: %w", name, err)
			r.note(c.checkErr.Error())
		}
	}
	return c
}

// goPredict scores c's input on one pure-Go instance in batches and
// returns the checked column.
func (r *runner) goPredict(c *modelCase, batch int) ([]float32, error) {
	inst, err := c.goLoader.Load(r.ctx, model.Executor{CPUs: 1})
	if err != nil {
		return nil, err
	}
	defer closeIfCloser(inst)
	var got []float32
	for start := 0; start < c.in.Rows; start += batch {
		out, err := inst.Predict(r.ctx, c.in.Frame.Slice(start, min(start+batch, c.in.Rows)))
		if err != nil {
			return nil, err
		}
		col, err := out.Col(c.spec.check.column)
		if err != nil {
			return nil, err
		}
		got = append(got, float32s(col)...)
	}
	return got, nil
}

// float32s reads a float column as float32s.
func float32s(a arrow.Array) []float32 {
	switch a := a.(type) {
	case *array.Float32:
		return a.Float32Values()
	case *array.Float64:
		v := make([]float32, a.Len())
		for i, x := range a.Float64Values() {
			v[i] = float32(x)
		}
		return v
	}
	return nil
}

func closeIfCloser(m any) {
	if c, ok := m.(io.Closer); ok {
		c.Close()
	}
}

// goOneThread is dfbatch's pure-Go runner called directly: one instance
// loaded with one CPU, Predict on frames of batch rows sliced ahead.
func (r *runner) goOneThread(c *modelCase, batch int) (contender, error) {
	inst, err := c.goLoader.Load(r.ctx, model.Executor{CPUs: 1})
	if err != nil {
		return contender{}, err
	}
	var batches []*frame.Frame
	for start := 0; start < c.in.Rows; start += batch {
		batches = append(batches, c.in.Frame.Slice(start, min(start+batch, c.in.Rows)))
	}
	ct := timedPasses("dfbatch pure Go, 1 thread", c.in.Rows, func() error {
		for _, b := range batches {
			if _, err := inst.Predict(r.ctx, b); err != nil {
				return err
			}
		}
		return nil
	})
	ct.close = func() { closeIfCloser(inst) }
	return ct, nil
}

// throughEngine is a loader run by the engine on c's input frame: the
// executors warmed up ahead, RunFrame timed.
func (r *runner) throughEngine(name string, l model.Loader, in *Inputs, batch, executors int) (contender, error) {
	client := engine.NewClient(l)
	opts := engine.Options{BatchSize: batch, Executors: executors, CPUs: 1}
	if err := client.WarmUp(r.ctx, opts); err != nil {
		client.Close()
		return contender{}, err
	}
	ct := timedPasses(name, in.Rows, func() error {
		_, err := client.RunFrame(r.ctx, in.Frame, opts)
		return err
	})
	ct.close = func() { client.Close() }
	return ct, nil
}

// ortDirect is ONNX Runtime called directly with threads intra-op
// threads; nil and the reason when it is not installed or fails.
func (r *runner) ortDirect(c *modelCase, batch, threads int) (*contender, string) {
	if r.ortSkip != "" {
		return nil, r.ortSkip
	}
	s, err := newORTSession(c.spec, batch, threads)
	if err != nil {
		return nil, "ONNX Runtime: " + shortErr(err)
	}
	name := "ONNX Runtime, 1 thread"
	if threads > 1 {
		name = fmt.Sprintf("ONNX Runtime, %d threads", threads)
	}
	ct := timedPasses(name, c.in.Rows, func() error { return s.pass(c.in) })
	ct.close = s.close
	return &ct, ""
}

// goAgainstORT adds the row of contender a (built by makeA) against ONNX
// Runtime at batch with threads threads.
func (r *runner) goAgainstORT(id, comparison string, c *modelCase, batch, threads int, t *target, makeA func() (contender, error)) {
	if !r.selected(id) {
		return
	}
	ortName := "ONNX Runtime"
	if c.goErr != nil {
		r.failed(id, comparison, "dfbatch", ortName, t, c.goErr)
		return
	}
	if c.checkErr != nil {
		r.failed(id, comparison, "dfbatch", ortName, t, c.checkErr)
		return
	}
	a, err := makeA()
	if err != nil {
		r.failed(id, comparison, "dfbatch", ortName, t, err)
		return
	}
	b, skip := r.ortDirect(c, batch, threads)
	r.pair(id, comparison, a, b, skip, t)
}

// mlps is comparison 3 (and the executor-scaling row of comparison 1 on
// the largest MLP): each MLP on dfbatch's pure-Go runner against ONNX
// Runtime, one thread and all cores, at each batch size, and dfbatch's
// ONNX Runtime backend against ONNX Runtime called directly.
func (r *runner) mlps() {
	cores := runtime.NumCPU()
	for i := range r.cfg.MLPs {
		name := NewMLP(0, r.cfg.MLPs[i]...).Name()
		var ids []string
		for _, b := range r.cfg.Batches {
			ids = append(ids, fmt.Sprintf("mlp/%s/b%d/1-thread", name, b), fmt.Sprintf("mlp/%s/b%d/all-cores", name, b))
		}
		var backendIDs []string
		for _, b := range r.cfg.Batches {
			backendIDs = append(backendIDs, fmt.Sprintf("mlp/%s/b%d/ort-backend", name, b))
		}
		scalingID := fmt.Sprintf("scaling/mlp-%s", name)
		last := i == len(r.cfg.MLPs)-1
		if !r.anySelected(slices.Concat(ids, backendIDs, []string{scalingID})...) || (!r.anySelected(slices.Concat(ids, backendIDs)...) && !last) {
			continue
		}
		c := r.mlpCase(i)
		for _, b := range r.cfg.Batches {
			r.goAgainstORT(fmt.Sprintf("mlp/%s/b%d/1-thread", name, b),
				fmt.Sprintf("3. ONNX MLP %s, batch %d, 1 thread (%s rows)", name, b, count(c.in.Rows)), c, b, 1, atLeast(0.5),
				func() (contender, error) { return r.goOneThread(c, b) })
			r.goAgainstORT(fmt.Sprintf("mlp/%s/b%d/all-cores", name, b),
				fmt.Sprintf("3. ONNX MLP %s, batch %d, all %d cores", name, b, cores), c, b, cores, nil,
				func() (contender, error) {
					return r.throughEngine(fmt.Sprintf("dfbatch pure Go, engine, %d executors", cores), c.goLoader, c.in, b, cores)
				})
		}
		for j, b := range r.cfg.Batches {
			r.ortBackend(backendIDs[j], c, b)
		}
		if last {
			r.scaling(scalingID, c)
		}
	}
}

// ortBackend compares dfbatch's ONNX Runtime backend, through the engine
// with one executor of one CPU, with ONNX Runtime called directly on one
// thread.
func (r *runner) ortBackend(id string, c *modelCase, batch int) {
	if !r.selected(id) {
		return
	}
	comparison := fmt.Sprintf("3. dfbatch's ONNX Runtime backend, %s, batch %d, 1 thread", c.name, batch)
	a := "dfbatch RuntimeORT, engine, 1 executor"
	if r.ortSkip != "" {
		r.add(Row{ID: id, Comparison: comparison, A: a, B: r.ortSkip, Ratio: "skipped", Target: ">= 0.9x", Met: "skipped"})
		return
	}
	r.goAgainstORT(id, comparison, c, batch, 1, atLeast(0.9), func() (contender, error) {
		l, err := onnx.Open(c.spec.path, onnx.Options{Features: FeatureNames(c.spec.features), Runtime: onnx.RuntimeORT, ORTLibrary: r.cfg.ORTLibrary})
		if err != nil {
			return contender{}, err
		}
		return r.throughEngine(a, l, c.in, batch, 1)
	})
}

// scaling compares two executors with one on a CPU-bound model, one CPU
// each.
func (r *runner) scaling(id string, c *modelCase) {
	if !r.selected(id) {
		return
	}
	batch := r.cfg.ScalingBatch
	comparison := fmt.Sprintf("1. engine scaling, CPU-bound: %s (pure Go), batch %d, 1 CPU per executor", c.name, batch)
	t := atLeast(1.8)
	if c.goErr != nil {
		r.failed(id, comparison, "engine, 2 executors", "engine, 1 executor", t, c.goErr)
		return
	}
	two, err := r.throughEngine("engine, 2 executors", c.goLoader, c.in, batch, 2)
	if err != nil {
		r.failed(id, comparison, "engine, 2 executors", "engine, 1 executor", t, err)
		return
	}
	one, err := r.throughEngine("engine, 1 executor", c.goLoader, c.in, batch, 1)
	if err != nil {
		two.close()
		r.failed(id, comparison, "engine, 2 executors", "engine, 1 executor", t, err)
		return
	}
	r.pair(id, comparison, two, &one, "", t)
}

// trees is comparison 4: a tree-ensemble classifier on dfbatch's pure-Go
// runner against ONNX Runtime.
func (r *runner) trees() {
	cores := runtime.NumCPU()
	var ids []string
	for _, b := range r.cfg.Batches {
		ids = append(ids, fmt.Sprintf("trees/b%d/1-thread", b), fmt.Sprintf("trees/b%d/all-cores", b))
	}
	if !r.anySelected(ids...) {
		return
	}
	sh := r.cfg.Trees
	t := NewTrees(7, sh.Trees, sh.Depth, sh.Features)
	spec := &modelSpec{input: "input", features: sh.Features,
		outputs: []outputSpec{{name: "label", int64: true}, {name: "probabilities", width: 2}},
		check:   checkSpec{output: 1, col: 1, column: "probabilities_1"}}
	c := r.newCase("tree ensemble ("+t.Name()+")", "trees.onnx", t.Proto(), spec, NewInputs(200, r.cfg.TreeRows, sh.Features),
		func(in *Inputs) []float32 { return t.Predict(in.Matrix, in.Rows) })
	for _, b := range r.cfg.Batches {
		r.goAgainstORT(fmt.Sprintf("trees/b%d/1-thread", b),
			fmt.Sprintf("4. trees: %s, binary, batch %d, 1 thread (%s rows)", t.Name(), b, count(c.in.Rows)), c, b, 1, atLeast(1.0),
			func() (contender, error) { return r.goOneThread(c, b) })
		r.goAgainstORT(fmt.Sprintf("trees/b%d/all-cores", b),
			fmt.Sprintf("4. trees: %s, batch %d, all %d cores", t.Name(), b, cores), c, b, cores, nil,
			func() (contender, error) {
				return r.throughEngine(fmt.Sprintf("dfbatch pure Go, engine, %d executors", cores), c.goLoader, c.in, b, cores)
			})
	}
}
