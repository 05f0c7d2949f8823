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
)

// modelSpec is an ONNX model file as ONNX Runtime is fed it directly.
type modelSpec struct {
	path, input string
	features    int
	outputs     []outputSpec
}

// outputSpec is a model output: [N] (width 0) or [N, width], int64 labels
// or float32s.
type outputSpec struct {
	name  string
	int64 bool
	width int
}

// columns are the names of the frame columns dfbatch makes of the output.
func (o outputSpec) columns() []string {
	if o.width <= 1 {
		return []string{o.name}
	}
	names := make([]string, o.width)
	for j := range names {
		names[j] = fmt.Sprintf("%s_%d", o.name, j)
	}
	return names
}

// outputValues are one output's values for every row, row after row:
// float32s, or int64 labels.
type outputValues struct {
	f32 []float32
	i64 []int64
}

// modelCase is a model with its input data, loaded on dfbatch's pure-Go
// runner and checked, every output and every row, against ONNX Runtime
// and against a reference made without either, once, before any timing.
type modelCase struct {
	name string
	spec *modelSpec
	in   *Inputs
	// goLoader is dfbatch's pure-Go runner of the model; goErr why not.
	goLoader *onnx.Loader
	goErr    error
	// expected are dfbatch's outputs on in, checked.
	expected []outputValues
	// checkErr says that the runners or the reference disagree.
	checkErr error
	// tolerance is the relative difference accepted on float outputs.
	tolerance float64
	// untimed says why the case is checked against its reference only,
	// without ONNX Runtime, and not timed; "" when it is.
	untimed string
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
	in := NewInputs(uint64(100+i), r.cfg.MLPRows[i], m.Features())
	c := &modelCase{name: "MLP " + m.Name(), in: in, mlp: m, tolerance: 1e-4}
	r.mlpCases[i] = c
	r.logf("writing %s and %d rows of input", c.name, in.Rows)
	path, err := WriteModel(r.tmp, "mlp-"+m.Name()+".onnx", m.Proto())
	if err != nil {
		c.goErr = err
		return c
	}
	c.spec = &modelSpec{path: path, input: "input", features: m.Features(), outputs: []outputSpec{{name: "output", width: m.Outputs()}}}
	r.check(c, []outputValues{{f32: m.Predict(in.Matrix, in.Rows)}})
	return c
}

// check loads c's model on the pure-Go runner and checks its outputs, at
// two batch sizes (the second leaves a short last batch), against ONNX
// Runtime's and ONNX Runtime's against reference (or, without ONNX
// Runtime, dfbatch's against reference). It sets c.expected, c.goErr and
// c.checkErr.
func (r *runner) check(c *modelCase, reference []outputValues) {
	c.goLoader, c.goErr = onnx.Open(c.spec.path, onnx.Options{Features: FeatureNames(c.spec.features)})
	if c.goErr != nil {
		r.note(fmt.Sprintf("dfbatch's pure-Go runner on %s: %v", c.name, c.goErr))
		return
	}
	batch := r.cfg.Batches[0]
	if c.expected, c.goErr = r.goPredict(c, batch); c.goErr != nil {
		r.note(fmt.Sprintf("dfbatch's pure-Go runner on %s: %v", c.name, c.goErr))
		return
	}
	fail := func(format string, args ...any) {
		c.checkErr = fmt.Errorf(format, args...)
		r.note(c.checkErr.Error())
	}
	odd := batch*3/4 + 1
	again, err := r.goPredict(c, odd)
	if err == nil {
		err = agreeOutputs(c.spec, again, c.expected, c.tolerance)
	}
	if err != nil {
		fail("dfbatch on %s at batch %d against batch %d: %w", c.name, odd, batch, err)
		return
	}
	what, want := "the reference", reference
	if r.ortSkip == "" && c.untimed == "" {
		s, err := newORTSession(c.spec, batch, 1)
		if err == nil {
			want, err = s.predict(c.in)
			s.close()
		}
		if err != nil {
			fail("ONNX Runtime on %s: %w", c.name, err)
			return
		}
		if err := agreeOutputs(c.spec, want, reference, c.tolerance); err != nil {
			fail("ONNX Runtime disagrees with the reference on %s: %w", c.name, err)
			return
		}
		what = "ONNX Runtime (which agrees with the reference)"
	}
	if err := agreeOutputs(c.spec, c.expected, want, c.tolerance); err != nil {
		fail("dfbatch disagrees with %s on %s: %w", what, c.name, err)
		return
	}
	r.logf("%s: dfbatch agrees with %s on every output of %d rows at batch %d and %d (within %g)", c.name, what, c.in.Rows, batch, odd, c.tolerance)
}

// goPredict scores c's input on one pure-Go instance in batches and
// returns every output of the spec.
func (r *runner) goPredict(c *modelCase, batch int) ([]outputValues, error) {
	inst, err := c.goLoader.Load(r.ctx, model.Executor{CPUs: 1})
	if err != nil {
		return nil, err
	}
	defer closeIfCloser(inst)
	got := make([]outputValues, len(c.spec.outputs))
	for start := 0; start < c.in.Rows; start += batch {
		out, err := inst.Predict(r.ctx, c.in.Frame.Slice(start, min(start+batch, c.in.Rows)))
		if err != nil {
			return nil, err
		}
		for i, o := range c.spec.outputs {
			if err := appendOutput(&got[i], out, o); err != nil {
				return nil, err
			}
		}
	}
	return got, nil
}

// appendOutput appends output o of frame out to v, row after row.
func appendOutput(v *outputValues, out *frame.Frame, o outputSpec) error {
	names := o.columns()
	cols := make([]arrow.Array, len(names))
	for j, name := range names {
		col, err := out.Col(name)
		if err != nil {
			return err
		}
		cols[j] = col
	}
	for row := range out.NumRows() {
		for _, col := range cols {
			switch col := col.(type) {
			case *array.Int64:
				v.i64 = append(v.i64, col.Value(row))
			case *array.Float32:
				v.f32 = append(v.f32, col.Value(row))
			case *array.Float64:
				v.f32 = append(v.f32, float32(col.Value(row)))
			default:
				return fmt.Errorf("column %q is %s, not a number", names[0], col.DataType())
			}
		}
	}
	return nil
}

func closeIfCloser(m any) {
	if c, ok := m.(io.Closer); ok {
		c.Close()
	}
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

// ortPeer is how ONNX Runtime is run against dfbatch's executors.
type ortPeer int

const (
	// ortSessions is N sessions of 1 intra-op thread, each on its own
	// goroutine taking the next batch: the peer of N executors.
	ortSessions ortPeer = iota
	// ortThreads is one session of N intra-op threads splitting each batch.
	ortThreads
)

// ortDirect is ONNX Runtime called directly on threads threads, run as
// peer says; nil and the reason when it is not installed or fails.
func (r *runner) ortDirect(c *modelCase, batch, threads int, peer ortPeer) (*contender, string) {
	if r.ortSkip != "" {
		return nil, r.ortSkip
	}
	name := "ONNX Runtime, 1 session of 1 thread"
	if threads > 1 && peer == ortSessions {
		name = fmt.Sprintf("ONNX Runtime, %d sessions of 1 thread", threads)
	} else if threads > 1 {
		name = fmt.Sprintf("ONNX Runtime, 1 session of %d threads", threads)
	}
	sessions, intraOp := threads, 1
	if peer == ortThreads {
		sessions, intraOp = 1, threads
	}
	pool, err := newORTPool(c.spec, batch, sessions, intraOp)
	if err != nil {
		return nil, "ONNX Runtime: " + shortErr(err)
	}
	ct := timedPasses(name, c.in.Rows, func() error { return pool.pass(c.in) })
	ct.close = pool.close
	return &ct, ""
}

// goAgainstORT adds the row of contender a (built by makeA) against ONNX
// Runtime at batch on threads threads, run as peer says.
func (r *runner) goAgainstORT(id, comparison string, c *modelCase, batch, threads int, peer ortPeer, t *target, makeA func() (contender, error)) {
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
	b, skip := r.ortDirect(c, batch, threads, peer)
	r.pair(id, comparison, a, b, skip, t)
}

// againstORT adds the rows of c at batch through the engine against ONNX
// Runtime: 1 executor against 1 session of 1 thread, then, on a machine
// of several cores, one executor per core against as many single-thread
// sessions (the equal peer) and, when oneSession, against one session of
// as many threads. idPrefix and what name the rows; t1 and tN are the
// targets at 1 thread and on all cores.
func (r *runner) againstORT(idPrefix, what string, c *modelCase, batch int, t1, tN *target, oneSession bool) {
	engineOn := func(executors int) func() (contender, error) {
		return func() (contender, error) {
			return r.throughEngine(fmt.Sprintf("dfbatch pure Go, engine, %s", executorsName(executors, " ")), c.goLoader, c.in, batch, executors)
		}
	}
	r.goAgainstORT(idPrefix+"/1-thread", fmt.Sprintf("%s, batch %d, 1 thread (%s rows)", what, batch, count(c.in.Rows)),
		c, batch, 1, ortSessions, t1, engineOn(1))
	cores := runtime.NumCPU()
	if cores == 1 {
		return
	}
	r.goAgainstORT(idPrefix+"/all-cores", fmt.Sprintf("%s, batch %d, %d executors vs %d sessions", what, batch, cores, cores),
		c, batch, cores, ortSessions, tN, engineOn(cores))
	if !oneSession {
		return
	}
	r.goAgainstORT(idPrefix+"/all-cores-1-session", fmt.Sprintf("%s, batch %d, %d executors vs 1 session of %d threads", what, batch, cores, cores),
		c, batch, cores, ortThreads, nil, engineOn(cores))
}

// mlps is comparison 3 (and the executor-scaling row of comparison 1 on
// the largest MLP): each MLP as PyTorch exports it on dfbatch's pure-Go
// runner, through the engine, against ONNX Runtime at each batch size,
// and dfbatch's ONNX Runtime backend against ONNX Runtime called directly.
func (r *runner) mlps() {
	for i := range r.cfg.MLPs {
		name := NewMLP(0, r.cfg.MLPs[i]...).Name()
		var ids, backendIDs []string
		for _, b := range r.cfg.Batches {
			prefix := fmt.Sprintf("mlp/%s/b%d/", name, b)
			ids = append(ids, prefix+"1-thread", prefix+"all-cores", prefix+"all-cores-1-session")
			backendIDs = append(backendIDs, prefix+"ort-backend")
		}
		scalingID := fmt.Sprintf("scaling/mlp-%s", name)
		last := i == len(r.cfg.MLPs)-1
		if !r.anySelected(slices.Concat(ids, backendIDs, []string{scalingID})...) || (!r.anySelected(slices.Concat(ids, backendIDs)...) && !last) {
			continue
		}
		c := r.mlpCase(i)
		for j, b := range r.cfg.Batches {
			r.againstORT(fmt.Sprintf("mlp/%s/b%d", name, b), "3. PyTorch MLP "+name, c, b, atLeast(0.8), atLeast(0.8), true)
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
		r.add(Row{ID: id, Comparison: comparison, A: a, B: r.ortSkip, Ratio: "skipped", WallRatio: "skipped", Target: atLeast(0.9).text, Met: "skipped"})
		return
	}
	r.goAgainstORT(id, comparison, c, batch, 1, ortSessions, atLeast(0.9), func() (contender, error) {
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
	t := atLeastWall(1.8)
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
