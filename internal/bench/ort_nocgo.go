//go:build !cgo

package bench

import "errors"

// errNoCgo: onnxruntime_go loads ONNX Runtime through cgo.
var errNoCgo = errors.New("ONNX Runtime needs cgo: build with CGO_ENABLED=1 and a C compiler")

func initORT(string) (string, error) { return "", errNoCgo }

type ortSession struct{}

func newORTSession(*modelSpec, int, int) (*ortSession, error) { return nil, errNoCgo }
func (s *ortSession) predict(*Inputs) ([]outputValues, error) { return nil, errNoCgo }
func (s *ortSession) close()                                  {}

type ortPool struct{}

func newORTPool(*modelSpec, int, int, int) (*ortPool, error) { return nil, errNoCgo }
func (p *ortPool) pass(*Inputs) error                        { return errNoCgo }
func (p *ortPool) close()                                    {}
