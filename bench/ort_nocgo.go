//go:build !cgo

package bench

import "errors"

// errNoCgo: onnxruntime_go loads ONNX Runtime through cgo.
var errNoCgo = errors.New("ONNX Runtime needs cgo: build with CGO_ENABLED=1 and a C compiler")

func initORT(string) (string, error) { return "", errNoCgo }

type ortSession struct{}

func newORTSession(*modelSpec, int, int) (*ortSession, error) { return nil, errNoCgo }
func (s *ortSession) pass(*Inputs) error                      { return errNoCgo }
func (s *ortSession) predict(*Inputs) ([]float32, error)      { return nil, errNoCgo }
func (s *ortSession) close()                                  {}
