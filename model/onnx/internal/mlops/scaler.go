package mlops

import (
	"errors"
	"fmt"
)

// Scaler is an ai.onnx.ml Scaler: y = (x - offset) * scale, feature by
// feature, or with the same offset and scale for every feature when each
// has one value. The arithmetic is in the input's type, as in ONNX
// Runtime, and the output float32.
type Scaler struct {
	offset, scale []float32
}

// NewScaler validates the offset and scale attributes, which must have the
// same, non-zero, length.
func NewScaler(offset, scale []float32) (*Scaler, error) {
	switch {
	case len(scale) == 0:
		return nil, errors.New("Scaler: scale is empty")
	case len(scale) != len(offset):
		return nil, fmt.Errorf("Scaler: scale has %d values, offset %d", len(scale), len(offset))
	}
	return &Scaler{offset: offset, scale: scale}, nil
}

// Predict scales rows of x, a row-major rows×features float32 matrix, into
// out[:rows*features]; out may be x.
func (s *Scaler) Predict(x []float32, rows, features int, out []float32) error {
	return scale(s, x, rows, features, out)
}

// PredictFloat64 is Predict for double input.
func (s *Scaler) PredictFloat64(x []float64, rows, features int, out []float32) error {
	return scale(s, x, rows, features, out)
}

func scale[T float](s *Scaler, x []T, rows, features int, out []float32) error {
	if err := checkElementwise(len(x), len(out), rows, features); err != nil {
		return fmt.Errorf("Scaler: %w", err)
	}
	if n := len(s.scale); n != 1 && n != features && rows > 0 {
		return fmt.Errorf("Scaler: scale and offset have %d values, the input %d features: they need 1 or one per feature", n, features)
	}
	for i, v := range x[:rows*features] {
		j := 0
		if len(s.scale) > 1 {
			j = i % features
		}
		out[i] = float32((v - T(s.offset[j])) * T(s.scale[j]))
	}
	return nil
}
