package mlops

import (
	"errors"
	"fmt"
)

// ImputerAttrs holds the attributes of an ai.onnx.ml Imputer node, named
// after them: the floats for float input, the int64s for int64 input.
type ImputerAttrs struct {
	ImputedValueFloats []float32 // imputed_value_floats
	ReplacedValueFloat float32   // replaced_value_float; NaN replaces NaN
	ImputedValueInt64s []int64   // imputed_value_int64s
	ReplacedValueInt64 int64     // replaced_value_int64
}

// Imputer is an ai.onnx.ml Imputer: every input value equal to the
// replaced value becomes the imputed value of its feature, or the single
// imputed value. Like ONNX Runtime, it uses the first imputed value for
// every feature whenever their number is not the input's width.
type Imputer struct {
	a ImputerAttrs
}

// NewImputer checks that exactly one of the imputed value lists is set.
func NewImputer(a ImputerAttrs) (*Imputer, error) {
	if (len(a.ImputedValueFloats) > 0) == (len(a.ImputedValueInt64s) > 0) {
		return nil, errors.New("Imputer: exactly one of imputed_value_floats and imputed_value_int64s must be set")
	}
	return &Imputer{a: a}, nil
}

// Predict imputes rows of x, a row-major rows×features float32 matrix,
// into out[:rows*features]; out may be x.
func (m *Imputer) Predict(x []float32, rows, features int, out []float32) error {
	if len(m.a.ImputedValueFloats) == 0 {
		return errors.New("Imputer: float input, but the imputed values are int64s")
	}
	return impute(x, rows, features, out, m.a.ReplacedValueFloat, m.a.ImputedValueFloats)
}

// PredictInt64 is Predict for int64 input.
func (m *Imputer) PredictInt64(x []int64, rows, features int, out []int64) error {
	if len(m.a.ImputedValueInt64s) == 0 {
		return errors.New("Imputer: int64 input, but the imputed values are floats")
	}
	return impute(x, rows, features, out, m.a.ReplacedValueInt64, m.a.ImputedValueInt64s)
}

func impute[T float32 | int64](x []T, rows, features int, out []T, replaced T, imputed []T) error {
	if err := checkElementwise(len(x), len(out), rows, features); err != nil {
		return fmt.Errorf("Imputer: %w", err)
	}
	// A float NaN equals nothing, itself included, so it is matched apart.
	nanReplaced := replaced != replaced
	for i, v := range x[:rows*features] {
		if v == replaced || nanReplaced && v != v {
			j := 0
			if len(imputed) == features {
				j = i % features
			}
			v = imputed[j]
		}
		out[i] = v
	}
	return nil
}
