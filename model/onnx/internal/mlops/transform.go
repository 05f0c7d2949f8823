package mlops

import (
	"fmt"
	"math"

	"github.com/dfbatch/dfbatch/model/onnx/internal/vecmath"
)

// PostTransform is the post_transform attribute shared by the tree and
// linear operators.
type PostTransform uint8

// The post transforms ONNX defines. Their arithmetic is float32, as in ONNX
// Runtime, whatever the input type.
const (
	TransformNone PostTransform = iota
	TransformLogistic
	TransformSoftmax
	TransformSoftmaxZero
	TransformProbit
)

var transformNames = [...]string{"NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT"}

// String returns the attribute value that names t.
func (t PostTransform) String() string {
	if int(t) < len(transformNames) {
		return transformNames[t]
	}
	return fmt.Sprintf("PostTransform(%d)", uint8(t))
}

// ParsePostTransform parses a post_transform attribute; the empty string is
// the ONNX default, NONE. ONNX Runtime maps any unknown name to PROBIT; a
// typo there would silently change every score, so this rejects it.
func ParsePostTransform(s string) (PostTransform, error) {
	if s == "" {
		return TransformNone, nil
	}
	for i, name := range transformNames {
		if s == name {
			return PostTransform(i), nil
		}
	}
	return 0, fmt.Errorf("post_transform %q is not one of NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO, PROBIT", s)
}

// logistic is ONNX Runtime's ComputeLogistic: it folds the sign so exp never
// overflows.
func logistic(x float32) float32 {
	v := 1 / (1 + float32(math.Exp(float64(-abs32(x)))))
	if x < 0 {
		return 1 - v
	}
	return v
}

// probit is ONNX Runtime's ComputeProbit, which uses Winitzki's closed-form
// approximation of erf⁻¹ (a = 0.147) rather than an exact inverse; matching
// ONNX Runtime means keeping the approximation.
func probit(x float32) float32 {
	return float32(math.Sqrt2) * erfInv(2*x-1)
}

func erfInv(x float32) float32 {
	sgn := float32(1)
	if x < 0 {
		sgn = -1
	}
	x = (1 - x) * (1 + x)
	lg := float32(math.Log(float64(x)))
	v := 2/(float32(math.Pi)*0.147) + 0.5*lg
	v2 := 1 / float32(0.147) * lg
	v3 := -v + float32(math.Sqrt(float64(v*v-v2)))
	return sgn * float32(math.Sqrt(float64(v3)))
}

// softmaxZero is softmax that leaves (near) zero scores out of the sum, so a
// class no tree voted for keeps a probability of about zero instead of
// exp(0)/sum.
func softmaxZero(v []float32) {
	vmax := float32(-math.MaxFloat32)
	for _, x := range v {
		if x > vmax {
			vmax = x
		}
	}
	expNegMax := float32(math.Exp(float64(-vmax)))
	var sum float32
	for i, x := range v {
		if x > 0.0000001 || x < -0.0000001 {
			e := float32(math.Exp(float64(x - vmax)))
			v[i] = e
			sum += e
		} else {
			v[i] = x * expNegMax
		}
	}
	for i := range v {
		v[i] /= sum
	}
}

// apply transforms one row of two or more scores in place, as ONNX Runtime's
// write_scores does for such rows, LOGISTIC and SOFTMAX with vecmath's
// float32 kernels (relative error below 1e-6; LOGISTIC of a negative score
// without ONNX Runtime's cancellation in 1 - 1/(1 + e^-x)).
func (t PostTransform) apply(v []float32) {
	switch t {
	case TransformLogistic:
		vecmath.Sigmoid(v, v)
	case TransformSoftmax:
		vecmath.Softmax(v, v)
	case TransformSoftmaxZero:
		softmaxZero(v)
	case TransformProbit:
		for i, x := range v {
			v[i] = probit(x)
		}
	}
}

// applyRows transforms rows of width scores, row after row in v, as apply
// does each: LOGISTIC and SOFTMAX in one call of their kernel over all
// rows.
func (t PostTransform) applyRows(v []float32, width int) {
	switch t {
	case TransformNone:
	case TransformLogistic:
		vecmath.Sigmoid(v, v)
	case TransformSoftmax:
		vecmath.SoftmaxRows(v, width, v, width, len(v)/width, width)
	default:
		for r := 0; r+width <= len(v); r += width {
			t.apply(v[r : r+width])
		}
	}
}

func abs32(x float32) float32 {
	return math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
}
