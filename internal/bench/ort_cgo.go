//go:build cgo

package bench

import (
	"fmt"
	"sync"
	"sync/atomic"

	ort "github.com/yalue/onnxruntime_go"
)

// ortEnv is the process's ONNX Runtime environment: onnxruntime_go keeps
// one per process, shared with dfbatch's own ONNX Runtime backend, so it
// is made once and never destroyed here.
var ortEnv struct {
	once    sync.Once
	version string
	err     error
}

// initORT loads ONNX Runtime from lib (unless this process has already
// loaded it) and returns its version.
func initORT(lib string) (string, error) {
	ortEnv.once.Do(func() {
		if !ort.IsInitialized() {
			ort.SetSharedLibraryPath(lib)
			if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
				ortEnv.err = fmt.Errorf("loading ONNX Runtime from %s: %w", lib, err)
				return
			}
		}
		ortEnv.version = ort.GetVersion()
	})
	return ortEnv.version, ortEnv.err
}

// ortSession runs a model on ONNX Runtime directly, as a Go program that
// uses it would: an AdvancedSession bound to input and output tensors
// allocated once for one batch size, the batch's rows copied into the
// input tensor before each Run.
type ortSession struct {
	session *ort.AdvancedSession
	input   *ort.Tensor[float32]
	outputs []ort.Value
	spec    *modelSpec
	batch   int
}

// newORTSession opens spec's model for batches of batch rows with threads
// intra-op threads.
func newORTSession(spec *modelSpec, batch, threads int) (*ortSession, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(threads); err != nil {
		return nil, err
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return nil, err
	}
	s := &ortSession{spec: spec, batch: batch}
	if s.input, err = ort.NewEmptyTensor[float32](ort.NewShape(int64(batch), int64(spec.features))); err != nil {
		return nil, err
	}
	names := make([]string, len(spec.outputs))
	for i, o := range spec.outputs {
		names[i] = o.name
		shape := ort.NewShape(int64(batch))
		if o.width > 0 {
			shape = ort.NewShape(int64(batch), int64(o.width))
		}
		var v ort.Value
		if o.int64 {
			v, err = ort.NewEmptyTensor[int64](shape)
		} else {
			v, err = ort.NewEmptyTensor[float32](shape)
		}
		if err != nil {
			s.close()
			return nil, err
		}
		s.outputs = append(s.outputs, v)
	}
	s.session, err = ort.NewAdvancedSession(spec.path, []string{spec.input}, names,
		[]ort.Value{s.input}, s.outputs, opts)
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// score runs the model on rows [start, start+batch) of in.
func (s *ortSession) score(in *Inputs, start int) error {
	f := in.Features
	copy(s.input.GetData(), in.Matrix[start*f:(start+s.batch)*f])
	return s.session.Run()
}

// pass scores every batch of in, whose row count is a multiple of the
// batch size.
func (s *ortSession) pass(in *Inputs) error {
	for start := 0; start+s.batch <= in.Rows; start += s.batch {
		if err := s.score(in, start); err != nil {
			return err
		}
	}
	return nil
}

// predict scores every batch of in and returns every output, row after
// row: outputValues[i] is output i's.
func (s *ortSession) predict(in *Inputs) ([]outputValues, error) {
	got := make([]outputValues, len(s.outputs))
	for start := 0; start+s.batch <= in.Rows; start += s.batch {
		if err := s.score(in, start); err != nil {
			return nil, err
		}
		for i, v := range s.outputs {
			switch t := v.(type) {
			case *ort.Tensor[float32]:
				got[i].f32 = append(got[i].f32, t.GetData()...)
			case *ort.Tensor[int64]:
				got[i].i64 = append(got[i].i64, t.GetData()...)
			}
		}
	}
	return got, nil
}

// ortPool is ONNX Runtime as a Go program runs several sessions at once:
// one goroutine per session, each taking the next batch of the input.
type ortPool struct {
	sessions []*ortSession
}

// newORTPool opens n sessions of spec's model for batches of batch rows,
// each with intraOp intra-op threads.
func newORTPool(spec *modelSpec, batch, n, intraOp int) (*ortPool, error) {
	p := &ortPool{}
	for range n {
		s, err := newORTSession(spec, batch, intraOp)
		if err != nil {
			p.close()
			return nil, err
		}
		p.sessions = append(p.sessions, s)
	}
	return p, nil
}

// pass scores every batch of in, whose row count is a multiple of the
// batch size, spread over the sessions.
func (p *ortPool) pass(in *Inputs) error {
	if len(p.sessions) == 1 {
		return p.sessions[0].pass(in)
	}
	batch := p.sessions[0].batch
	var next atomic.Int64
	errs := make([]error, len(p.sessions))
	var wg sync.WaitGroup
	for i, s := range p.sessions {
		wg.Go(func() {
			for {
				start := int(next.Add(1)-1) * batch
				if start+batch > in.Rows {
					return
				}
				if err := s.score(in, start); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *ortPool) close() {
	for _, s := range p.sessions {
		s.close()
	}
}

func (s *ortSession) close() {
	if s.session != nil {
		s.session.Destroy()
	}
	if s.input != nil {
		s.input.Destroy()
	}
	for _, v := range s.outputs {
		v.Destroy()
	}
}
