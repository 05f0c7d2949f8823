package onnx

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/gpu"
	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"github.com/dfbatch/dfbatch/model"
)

// openStream starts an executor's stream on its device; tests stand a
// gpu.Emulator in for it.
var openStream = gpu.Open

// gpuRun queues one step over rows rows of the device buffers.
type gpuRun func(s gpu.Stream, bufs []gpu.Buffer, strides []int, rows int) error

// uploadValues puts values on the device.
func uploadValues(s gpu.Stream, values []float32) (gpu.Buffer, error) {
	b, err := s.Alloc(len(values))
	if err != nil {
		return nil, err
	}
	host, err := s.Pinned(len(values))
	if err != nil {
		return nil, err
	}
	copy(host, values)
	return b, s.CopyIn(b, host)
}

func (l *denseLayer) upload(s gpu.Stream) (gpuRun, error) {
	k, n := l.product.K(), l.product.N()
	w, err := uploadValues(s, l.product.Unpack())
	if err != nil {
		return nil, err
	}
	bias, err := uploadValues(s, l.bias[:n])
	if err != nil {
		return nil, err
	}
	return func(s gpu.Stream, bufs []gpu.Buffer, strides []int, rows int) error {
		c, ldc := bufs[l.out.buf], strides[l.out.buf]
		if err := s.Gemm(c, ldc, bufs[l.in.buf], strides[l.in.buf], w, bias, rows, k, n); err != nil {
			return err
		}
		if l.relu {
			return s.Apply(gpu.Relu, c, ldc, c, ldc, rows, n, 0)
		}
		return nil
	}, nil
}

func (u *unaryStep) upload(gpu.Stream) (gpuRun, error) {
	f, ok := gpu.FuncOf(u.op)
	if !ok {
		return nil, fmt.Errorf("no GPU function for %s", u.op)
	}
	return func(s gpu.Stream, bufs []gpu.Buffer, strides []int, rows int) error {
		return s.Apply(f, bufs[u.out.buf], strides[u.out.buf], bufs[u.in.buf], strides[u.in.buf], rows, u.in.width, u.alpha)
	}, nil
}

func (m *softmaxStep) upload(gpu.Stream) (gpuRun, error) {
	return func(s gpu.Stream, bufs []gpu.Buffer, strides []int, rows int) error {
		return s.Softmax(bufs[m.out.buf], strides[m.out.buf], bufs[m.in.buf], strides[m.in.buf], rows, m.in.width)
	}, nil
}

func (b *binaryStep) upload(s gpu.Stream) (gpuRun, error) {
	op, ok := gpu.OpOf(b.op)
	if !ok {
		return nil, fmt.Errorf("no GPU operation for %s", b.op)
	}
	var row gpu.Buffer
	if b.y == nil {
		var err error
		if row, err = uploadValues(s, b.c); err != nil {
			return nil, err
		}
	}
	return func(s gpu.Stream, bufs []gpu.Buffer, strides []int, rows int) error {
		z, ldz := row, 0
		if b.y != nil {
			z, ldz = bufs[b.y.buf], strides[b.y.buf]
		}
		return s.Combine(op, bufs[b.out.buf], strides[b.out.buf], bufs[b.x.buf], strides[b.x.buf], z, ldz, b.constFirst, rows, b.x.width)
	}, nil
}

func (c *concatStep) upload(gpu.Stream) (gpuRun, error) {
	return func(s gpu.Stream, bufs []gpu.Buffer, strides []int, rows int) error {
		at := 0
		for _, in := range c.ins {
			if err := s.Copy(bufs[c.out.buf].From(at), strides[c.out.buf], bufs[in.buf], strides[in.buf], rows, in.width); err != nil {
				return err
			}
			at += in.width
		}
		return nil
	}, nil
}

// gpuLacks says what of the model the GPU path cannot run, "" when it
// can run all of it.
func (l *Loader) gpuLacks() string {
	switch {
	case l.opts.Runtime == RuntimeORT:
		return "the ONNX Runtime runtime (Options.Runtime)"
	case l.mlGraph:
		return "the ai.onnx.ml operators (" + strings.Join(mlOperatorsIn(l.proto.GetGraph()), ", ") + ")"
	case l.plan == nil:
		return fmt.Sprintf("graphs the compiled plan cannot take (%v)", l.notPlanned)
	}
	for _, step := range l.plan.steps {
		if u, ok := step.(*unaryStep); ok {
			if _, ok := gpu.FuncOf(u.op); !ok {
				return "the operator " + u.op + ", which has no GPU kernel"
			}
		}
	}
	return ""
}

// mlOperatorsIn lists the distinct ai.onnx.ml operators of g.
func mlOperatorsIn(g *onnxpb.GraphProto) []string {
	var ops []string
	for _, n := range g.GetNode() {
		if onnxpb.CanonicalDomain(n.GetDomain()) == onnxpb.MLDomain {
			ops = append(ops, n.GetOpType())
		}
	}
	slices.Sort(ops)
	return slices.Compact(ops)
}

// loadGPU builds the instance of an executor that has GPUs: the plan on
// a stream of its first device, or, when the GPU path lacks part of the
// model, the CPU instance if Options.CPUFallback allows it.
func (l *Loader) loadGPU(ctx context.Context, exec model.Executor) (model.Model, error) {
	if lacks := l.gpuLacks(); lacks != "" {
		if !l.opts.CPUFallback {
			return nil, fmt.Errorf("onnx: %s: executor %d has %s, but the GPU path lacks %s; set Options.CPUFallback to run it on the CPU instead, or GPUs to 0", l.name, exec.Index, exec.Devices[0], lacks)
		}
		if exec.Logger != nil {
			exec.Logger.Warn("the GPU path lacks part of the model; scoring on the CPU (Options.CPUFallback)", "model", l.name, "lacks", lacks)
		}
		exec.Devices = nil
		return l.Load(ctx, exec)
	}
	s, err := openStream(exec.Devices[0])
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: executor %d: %w", l.name, exec.Index, err)
	}
	m := &gpuModel{l: l, s: s}
	for _, step := range l.plan.steps {
		run, err := step.upload(s)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("onnx: %s: executor %d: uploading the weights to %s: %w", l.name, exec.Index, exec.Devices[0], err)
		}
		m.runs = append(m.runs, run)
	}
	// The uploads are queued: wait for them, so that a failed one fails
	// the load rather than the first batch.
	if err := s.Sync(); err != nil {
		s.Close()
		return nil, fmt.Errorf("onnx: %s: executor %d: uploading the weights to %s: %w", l.name, exec.Index, exec.Devices[0], err)
	}
	return m, nil
}

// gpuModel is one executor's instance of a compiled dense graph on its
// GPU: the weights uploaded once, device buffers and pinned host buffers
// for inputs and outputs, grown to the largest batch seen.
type gpuModel struct {
	l    *Loader
	s    gpu.Stream
	runs []gpuRun
	bufs []gpu.Buffer
	rows int
	// in and out are pinned host memory: input i's rows, output i's.
	in, out [][]float32
	// wide holds a non-float input's values before conversion.
	wide []float64
}

// Predict scores in; the columns take Options' names.
func (m *gpuModel) Predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	return predict(m.l, m, in)
}

// Close frees the stream and everything on the device.
func (m *gpuModel) Close() error { return m.s.Close() }

// reserve makes the buffers hold rows rows. Buffers from smaller batches
// are released with the stream: the engine's first batch is its largest,
// so this happens at most once or twice per executor.
func (m *gpuModel) reserve(rows int) error {
	if rows <= m.rows {
		return nil
	}
	p := m.l.plan
	m.bufs = make([]gpu.Buffer, len(p.strides))
	for i, stride := range p.strides {
		b, err := m.s.Alloc(rows * stride)
		if err != nil {
			return err
		}
		m.bufs[i] = b
	}
	m.in = make([][]float32, len(p.inputs))
	for i, input := range p.inputs {
		host, err := m.s.Pinned(rows * input.width)
		if err != nil {
			return err
		}
		m.in[i] = host
	}
	m.out = make([][]float32, len(p.outputs))
	for i, v := range p.outputs {
		host, err := m.s.Pinned(rows * v.width)
		if err != nil {
			return err
		}
		m.out[i] = host
	}
	m.rows = rows
	return nil
}

// predictRaw copies the frame's columns to the device through pinned
// memory, queues the steps and the copies back, and waits for them.
func (m *gpuModel) predictRaw(in *frame.Frame) ([]frame.Column, error) {
	p, rows := m.l.plan, in.NumRows()
	if err := m.reserve(rows); err != nil {
		return nil, err
	}
	for i, input := range p.inputs {
		host := m.in[i][:rows*input.width]
		var err error
		if m.wide, err = readInput(in, input, m.l.inputColumns(i), host, m.wide); err != nil {
			return nil, err
		}
		if err := m.s.CopyIn(m.bufs[input.buf], host); err != nil {
			return nil, err
		}
	}
	for _, run := range m.runs {
		if err := run(m.s, m.bufs, p.strides, rows); err != nil {
			return nil, err
		}
	}
	for i, v := range p.outputs {
		if err := m.s.CopyOut(m.out[i][:rows*v.width], m.bufs[v.buf], p.strides[v.buf], rows, v.width); err != nil {
			return nil, err
		}
	}
	if err := m.s.Sync(); err != nil {
		return nil, err
	}
	values := make([]*matrix, len(p.outputs))
	for i, v := range p.outputs {
		values[i] = &matrix{rows: rows, width: v.width, f32: slices.Clone(m.out[i][:rows*v.width])}
	}
	return m.l.columns(values), nil
}
