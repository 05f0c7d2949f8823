//go:build cgo

package onnx

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model"
	ort "github.com/yalue/onnxruntime_go"
	"gorgonia.org/tensor"
)

// ortOutputTypes are the output element types RuntimeORT turns into
// columns.
var ortOutputTypes = []ort.TensorElementDataType{
	ort.TensorElementDataTypeFloat, ort.TensorElementDataTypeDouble,
	ort.TensorElementDataTypeInt64, ort.TensorElementDataTypeString,
}

// maxORTBatches bounds the row counts one executor keeps tensors for:
// usually two occur, a full batch and the last, shorter one.
const maxORTBatches = 4

// checkORT reads the graph's inputs and outputs for RuntimeORT and has
// ONNX Runtime build a session of the model, so that a model it cannot
// run, or an output that cannot become columns, fails at Open.
func (l *Loader) checkORT() error {
	if err := loadORTLibrary(l.opts); err != nil {
		return err
	}
	g := l.proto.GetGraph()
	if g == nil || len(g.GetNode()) == 0 {
		return fmt.Errorf("the model has no graph nodes")
	}
	if err := l.readSignature(g); err != nil {
		return err
	}
	_, outputs, err := ort.GetInputOutputInfoWithONNXData(l.data)
	if err != nil {
		return fmt.Errorf("ONNX Runtime %s cannot load the model: %w", ort.GetVersion(), err)
	}
	for i, o := range outputs {
		if o.OrtValueType == ort.ONNXTypeTensor && slices.Contains(ortOutputTypes, o.DataType) {
			continue
		}
		declared := "unknown"
		if i < len(g.GetOutput()) {
			declared = onnxpb.TypeString(g.GetOutput()[i].GetType())
		}
		return fmt.Errorf("output %q is %s; RuntimeORT returns tensors of float, double, int64 or string; "+
			"RuntimeGo turns a ZipMap's sequence of maps into one column per class", o.Name, declared)
	}
	return nil
}

// loadORT builds an executor's session: as many intra-op threads as the
// executor's CPUs, and operators run one after another, since inter-op
// threads would exceed the budget.
func (l *Loader) loadORT(exec model.Executor) (model.Model, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("ONNX Runtime session options: %w", err)
	}
	// A session keeps its own copy of the options.
	defer opts.Destroy()
	for _, set := range []func() error{
		func() error { return opts.SetIntraOpNumThreads(exec.Threads()) },
		func() error { return opts.SetInterOpNumThreads(1) },
		func() error { return opts.SetExecutionMode(ort.ExecutionModeSequential) },
	} {
		if err := set(); err != nil {
			return nil, fmt.Errorf("ONNX Runtime session options: %w", err)
		}
	}
	names := make([]string, len(l.inputs))
	for i, spec := range l.inputs {
		names[i] = spec.name
	}
	runOpts, err := ort.NewRunOptions()
	if err != nil {
		return nil, fmt.Errorf("ONNX Runtime run options: %w", err)
	}
	session, err := ort.NewDynamicAdvancedSessionWithONNXData(l.data, names, l.outputs, opts)
	if err != nil {
		runOpts.Destroy()
		return nil, fmt.Errorf("ONNX Runtime session for executor %d: %w", exec.Index, err)
	}
	s := &ortSession{session: session, runOpts: runOpts, batches: map[int]*ortBatch{}, reusable: reusableOutputs(l.proto.GetGraph())}
	m := &ortModel{l: l, s: s}
	// A model nobody closes (the trial run's) still frees its session.
	m.cleanup = runtime.AddCleanup(m, (*ortSession).destroy, s)
	return m, nil
}

// reusableOutputs tells which outputs keep their tensors from one call to
// the next: those whose shape is fixed by the row count.
func reusableOutputs(g *onnxpb.GraphProto) []bool {
	reusable := make([]bool, len(g.GetOutput()))
	for i, v := range g.GetOutput() {
		dims, _, elem, ok := onnxpb.ShapeOf(v)
		reusable[i] = ok && elem != onnxpb.TensorProto_STRING && len(dims) > 0 && !slices.ContainsFunc(dims[1:], func(d int64) bool { return d < 1 })
	}
	return reusable
}

// ortModel is one executor's instance of a model on ONNX Runtime.
type ortModel struct {
	l       *Loader
	s       *ortSession
	cleanup runtime.Cleanup
}

// ortSession is what an ortModel holds in C memory: the session, and the
// tensors of the row counts it has met.
type ortSession struct {
	session *ort.DynamicAdvancedSession
	batches map[int]*ortBatch
	// reusable[i] says output i keeps its tensor between calls.
	reusable []bool

	// runOpts carry the flag that stops a run whose context is done;
	// ONNX Runtime checks it between operators.
	runOpts *ort.RunOptions
	// mu guards the Predict call in progress, numbered call (0: none), and
	// stopped, which says the flag is set: a context may end at any time,
	// even after its call returned.
	mu      sync.Mutex
	call    uint64
	calls   uint64
	stopped bool
}

// ortBatch holds one row count's tensors. The inputs are backed by Go
// slices that each call fills in place; ONNX Runtime writes the reusable
// outputs into the tensors it allocated on the first call, so that a call
// allocates nothing but the output columns.
type ortBatch struct {
	inputs []ort.Value
	// f32, f64 and i64 are input i's backing slice, by its element type.
	f32 [][]float32
	f64 [][]float64
	i64 [][]int64
	// float64s is where int64 inputs are read before conversion.
	float64s []float64
	// outputs are the tensors kept from the first call; nil where ONNX
	// Runtime allocates the output each call.
	outputs []ort.Value
	// run is the output slice handed to the session, which fills its nil
	// entries.
	run []ort.Value
	// shapes are the outputs' shapes: kept with their tensors, the others'
	// only for the call.
	shapes []ort.Shape
}

// Predict scores in; the columns take Options' names. A context that ends
// stops the run between two operators.
func (m *ortModel) Predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	call := m.s.begin()
	stop := context.AfterFunc(ctx, func() { m.s.stop(call) })
	out, err := predict(m.l, m, in)
	stop()
	m.s.end()
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("%w (%w)", context.Cause(ctx), err)
	}
	return out, err
}

// begin numbers a Predict call, which its context may stop.
func (s *ortSession) begin() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.call = s.calls
	return s.call
}

// stop sets the flag that ends call's run, if call is still in progress.
func (s *ortSession) stop(call uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.call == call && !s.stopped {
		s.stopped = s.runOpts.Terminate() == nil
	}
}

// end clears the flag for the next call.
func (s *ortSession) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.call = 0
	if s.stopped {
		s.runOpts.UnsetTerminate()
		s.stopped = false
	}
}

// Close frees the session and its tensors.
func (m *ortModel) Close() error {
	m.cleanup.Stop()
	m.s.destroy()
	return nil
}

// predictRaw fills the inputs of the frame's row count from its columns,
// runs the session and copies the outputs out.
func (m *ortModel) predictRaw(in *frame.Frame) ([]frame.Column, error) {
	// The cleanup must not free the session while it runs.
	defer runtime.KeepAlive(m)
	rows := in.NumRows()
	b, err := m.s.batch(m.l.inputs, rows)
	if err != nil {
		return nil, err
	}
	for i, spec := range m.l.inputs {
		if err := b.fill(i, in, m.l.inputColumns(i)); err != nil {
			return nil, fmt.Errorf("input %q: %w", spec.name, err)
		}
	}
	copy(b.run, b.outputs)
	if err := m.s.session.RunWithOptions(b.inputs, b.run, m.s.runOpts); err != nil {
		b.release()
		return nil, fmt.Errorf("ONNX Runtime on %d rows: %w", rows, err)
	}
	values := make([]*matrix, len(b.run))
	for i, v := range b.run {
		keep := m.s.reusable[i]
		if b.shapes[i] == nil {
			b.shapes[i] = v.GetShape()
		}
		if values[i], err = ortMatrix(v, b.shapes[i], rows, keep); err != nil {
			err = fmt.Errorf("output %q: %w", m.l.outputs[i], err)
			break
		}
		if keep && b.outputs[i] == nil {
			b.outputs[i], b.run[i] = v, nil
		}
	}
	b.release()
	if err != nil {
		return nil, err
	}
	return m.l.columns(values), nil
}

// batch returns the tensors of rows rows, making them on first use.
func (s *ortSession) batch(inputs []tensorSpec, rows int) (*ortBatch, error) {
	if b, ok := s.batches[rows]; ok {
		return b, nil
	}
	b := &ortBatch{
		inputs: make([]ort.Value, len(inputs)),
		f32:    make([][]float32, len(inputs)), f64: make([][]float64, len(inputs)), i64: make([][]int64, len(inputs)),
		outputs: make([]ort.Value, len(s.reusable)), run: make([]ort.Value, len(s.reusable)), shapes: make([]ort.Shape, len(s.reusable)),
	}
	for i, spec := range inputs {
		shape := ort.NewShape(int64(rows))
		for _, d := range spec.dims {
			shape = append(shape, int64(d))
		}
		n := rows * spec.width
		var err error
		switch spec.dtype {
		case tensor.Float32:
			b.f32[i] = make([]float32, n)
			b.inputs[i], err = newTensor(shape, b.f32[i])
		case tensor.Float64:
			b.f64[i] = make([]float64, n)
			b.inputs[i], err = newTensor(shape, b.f64[i])
		default:
			b.i64[i] = make([]int64, n)
			b.inputs[i], err = newTensor(shape, b.i64[i])
			b.float64s = make([]float64, max(n, len(b.float64s)))
		}
		if err != nil {
			b.destroy()
			return nil, fmt.Errorf("input %q: a tensor of shape %v: %w", spec.name, shape, err)
		}
	}
	if len(s.batches) == maxORTBatches {
		for rows, old := range s.batches {
			old.destroy()
			delete(s.batches, rows)
			break
		}
	}
	s.batches[rows] = b
	return b, nil
}

// newTensor wraps data in a tensor; a failure is a nil Value, not a
// Value holding a nil tensor.
func newTensor[T ort.TensorData](shape ort.Shape, data []T) (ort.Value, error) {
	t, err := ort.NewTensor(shape, data)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// fill writes input i's columns into its tensor, row-major.
func (b *ortBatch) fill(i int, in *frame.Frame, cols []string) error {
	var n int
	var err error
	switch {
	case b.f32[i] != nil:
		var x []float32
		x, err = in.Float32Matrix(b.f32[i], cols...)
		n = len(x)
	case b.f64[i] != nil:
		var x []float64
		x, err = in.Float64Matrix(b.f64[i], cols...)
		n = len(x)
	default:
		var x []float64
		x, err = in.Float64Matrix(b.float64s, cols...)
		n = len(x)
		for j, v := range x[:min(n, len(b.i64[i]))] {
			b.i64[i][j] = int64(v)
		}
	}
	if err == nil && n != in.NumRows()*len(cols) {
		err = fmt.Errorf("%d values for %d rows of %d columns", n, in.NumRows(), len(cols))
	}
	return err
}

// release frees the outputs ONNX Runtime allocated for one call.
func (b *ortBatch) release() {
	for i, v := range b.run {
		if v != nil && v != b.outputs[i] {
			v.Destroy()
		}
		b.run[i] = nil
		if b.outputs[i] == nil {
			b.shapes[i] = nil
		}
	}
}

// destroy frees the batch's tensors.
func (b *ortBatch) destroy() {
	b.release()
	for _, vs := range [][]ort.Value{b.inputs, b.outputs} {
		for i, v := range vs {
			if v != nil {
				v.Destroy()
				vs[i] = nil
			}
		}
	}
}

// destroy frees the session and every batch's tensors; it may be called
// more than once.
func (s *ortSession) destroy() {
	for rows, b := range s.batches {
		b.destroy()
		delete(s.batches, rows)
	}
	if s.session != nil {
		s.session.Destroy()
		s.runOpts.Destroy()
		s.session = nil
	}
}

// ortMatrix reads an output of rows rows and the given shape. A tensor
// the session writes again on the next call (kept) is copied where the
// columns would not copy it anyway.
func ortMatrix(v ort.Value, shape ort.Shape, rows int, kept bool) (*matrix, error) {
	if len(shape) == 0 || shape[0] != int64(rows) {
		return nil, fmt.Errorf("has shape %v for %d input rows", shape, rows)
	}
	out := &matrix{rows: rows, width: int(shape[1:].FlattenedSize()), oneD: len(shape) == 1}
	if len(shape) == 1 {
		out.width = 1
	}
	n := rows * out.width
	own := func() bool { return kept && out.width == 1 }
	switch t := v.(type) {
	case *ort.Tensor[float32]:
		if out.f32 = t.GetData()[:n]; own() {
			out.f32 = slices.Clone(out.f32)
		}
	case *ort.Tensor[float64]:
		if out.f64 = t.GetData()[:n]; own() {
			out.f64 = slices.Clone(out.f64)
		}
	case *ort.Tensor[int64]:
		if out.i64 = t.GetData()[:n]; own() {
			out.i64 = slices.Clone(out.i64)
		}
	case *ort.StringTensor:
		var err error
		if out.str, err = t.GetContents(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("has element type %v; RuntimeORT returns tensors of float, double, int64 or string", ort.TensorElementDataType(v.DataType()))
	}
	return out, nil
}
