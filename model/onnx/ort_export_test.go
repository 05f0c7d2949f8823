package onnx

// Exported for the tests of package onnx_test.
var (
	ErrORTWithoutCgo = errORTWithoutCgo
	CgoEnabled       = cgoEnabled
)
