//go:build !cgo

package onnx

import "github.com/dfbatch/dfbatch/model"

// checkORT refuses RuntimeORT: without cgo, ONNX Runtime's C library
// cannot be loaded.
func (l *Loader) checkORT() error { return errORTWithoutCgo }

func (l *Loader) loadORT(model.Executor) (model.Model, error) { return nil, errORTWithoutCgo }

// cgoEnabled tells tests which of RuntimeORT's builds they run.
const cgoEnabled = false

func loadORTLibrary(Options) error { return errORTWithoutCgo }
