package mlops

import "fmt"

// Binarize is an ai.onnx.ml Binarizer: out[i] is 1 where x[i] > threshold
// and 0 elsewhere. ONNX's default threshold is 0, which ONNX Runtime 1.30
// applies when the attribute is absent. Like ONNX Runtime, it refuses NaN,
// and takes float input only; out may be x.
func Binarize(x []float32, threshold float32, out []float32) error {
	if len(out) < len(x) {
		return fmt.Errorf("output has room for %d values, the input has %d", len(out), len(x))
	}
	for i, v := range x {
		switch {
		case v != v:
			return fmt.Errorf("input value %d is NaN, which a Binarizer cannot compare with its threshold", i)
		case v > threshold:
			out[i] = 1
		default:
			out[i] = 0
		}
	}
	return nil
}
