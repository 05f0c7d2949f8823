package mlops

import (
	"fmt"
	"math"
)

// Normalizer is an ai.onnx.ml Normalizer: it divides each row by its
// maximum (MAX), the sum of its absolute values (L1) or its Euclidean norm
// (L2), in float32 as ONNX Runtime does, and leaves a row whose divisor is
// 0 unchanged. MAX divides by the maximum even when it is negative, and a
// NaN is never the maximum; under L1 and L2 a NaN makes its whole row NaN.
type Normalizer struct {
	norm string
}

// NewNormalizer validates the norm attribute; the empty string is the ONNX
// default, MAX.
func NewNormalizer(norm string) (*Normalizer, error) {
	switch norm {
	case "":
		norm = "MAX"
	case "MAX", "L1", "L2":
	default:
		return nil, fmt.Errorf("Normalizer: norm %q is not one of MAX, L1, L2", norm)
	}
	return &Normalizer{norm: norm}, nil
}

// Predict normalizes rows of x, a row-major rows×features float32 matrix,
// into out[:rows*features]; out may be x.
func (n *Normalizer) Predict(x []float32, rows, features int, out []float32) error {
	return normalize(n.norm, x, rows, features, out)
}

// PredictFloat64 is Predict for double input; the output is float32.
func (n *Normalizer) PredictFloat64(x []float64, rows, features int, out []float32) error {
	return normalize(n.norm, x, rows, features, out)
}

func normalize[T float](norm string, x []T, rows, features int, out []float32) error {
	if err := checkElementwise(len(x), len(out), rows, features); err != nil {
		return fmt.Errorf("Normalizer: %w", err)
	}
	for r := range rows {
		in, y := x[r*features:(r+1)*features], out[r*features:(r+1)*features]
		var div float32
		switch norm {
		case "MAX":
			div = -math.MaxFloat32
			for _, v := range in {
				if div < float32(v) {
					div = float32(v)
				}
			}
		case "L1":
			for _, v := range in {
				div += float32(max(v, -v))
			}
		default: // L2
			for i, v := range in {
				y[i] = float32(v * v)
				div += y[i]
			}
			if div != 0 {
				for i, v := range in {
					q := float32(math.Sqrt(float64(y[i] / div)))
					if v < 0 {
						q = -q
					}
					y[i] = q
				}
				continue
			}
		}
		for i, v := range in {
			y[i] = float32(v)
			if div != 0 {
				y[i] /= div
			}
		}
	}
	return nil
}

// checkElementwise checks an input of rows×features values and an output
// of the same shape.
func checkElementwise(in, out, rows, features int) error {
	switch {
	case rows < 0 || features < 0:
		return fmt.Errorf("negative shape %d×%d", rows, features)
	case in < rows*features:
		return fmt.Errorf("input has %d values, fewer than %d rows × %d features", in, rows, features)
	case out < rows*features:
		return fmt.Errorf("output has room for %d values, %d rows × %d features need %d", out, rows, features, rows*features)
	}
	return nil
}
