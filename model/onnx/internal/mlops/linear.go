package mlops

import (
	"errors"
	"fmt"
)

// LinearClassifierAttrs holds the attributes of an ai.onnx.ml
// LinearClassifier node, named after them. multi_class is absent: ONNX
// Runtime reads it and ignores it.
type LinearClassifierAttrs struct {
	// Coefficients (coefficients) is a classes×features matrix, row-major,
	// with one row per entry of Intercepts (intercepts).
	Coefficients []float32
	Intercepts   []float32
	// ClassLabelsInts (classlabels_ints) or ClassLabelsStrings
	// (classlabels_strings): exactly one is set.
	ClassLabelsInts    []int64
	ClassLabelsStrings []string
	PostTransform      string // post_transform: NONE (default), LOGISTIC, SOFTMAX, SOFTMAX_ZERO or PROBIT
}

// LinearClassifier is a compiled LinearClassifier: score c of a row is
// x·coefficients[c] + intercepts[c], and the label is that of the highest
// score, taken before the transform.
//
// With a single row of coefficients (a binary model written as one score
// s), it follows ONNX Runtime 1.30: there must be exactly two labels, the
// label is the second when s > 0, and the two score columns are
// [σ(-s), σ(s)] under LOGISTIC and [1-s, s] under any other transform,
// which is not applied. ONNX Runtime lays PROBIT's scores out wrongly in
// that case, so NewLinearClassifier refuses it.
type LinearClassifier struct {
	coef       []float32
	intercepts []float32
	classes    int // rows of coefficients
	features   int
	labels     []int64
	strings    []string
	post       PostTransform
}

// NewLinearClassifier validates a.
func NewLinearClassifier(a LinearClassifierAttrs) (*LinearClassifier, error) {
	m, err := newLinearClassifier(&a)
	if err != nil {
		return nil, fmt.Errorf("LinearClassifier: %w", err)
	}
	return m, nil
}

func newLinearClassifier(a *LinearClassifierAttrs) (*LinearClassifier, error) {
	m := &LinearClassifier{coef: a.Coefficients, intercepts: a.Intercepts, classes: len(a.Intercepts)}
	var err error
	if m.features, err = linearShape(len(a.Coefficients), m.classes, "classes"); err != nil {
		return nil, err
	}
	if m.labels, m.strings, err = classLabels("classlabels_ints", a.ClassLabelsInts, "classlabels_strings", a.ClassLabelsStrings); err != nil {
		return nil, err
	}
	if m.post, err = ParsePostTransform(a.PostTransform); err != nil {
		return nil, err
	}
	switch {
	case m.classes == 1 && len(m.labels) != 2:
		return nil, fmt.Errorf("one row of coefficients is a binary model, which needs exactly 2 class labels, not %d", len(m.labels))
	case m.classes == 1 && m.post == TransformProbit:
		return nil, errors.New("ONNX Runtime writes PROBIT scores of a one-row (binary) model out of place; this combination is not supported")
	case len(m.labels) < m.classes:
		return nil, fmt.Errorf("%d rows of coefficients but only %d class labels", m.classes, len(m.labels))
	}
	return m, nil
}

// linearShape checks a coefficient matrix of n values against its number
// of rows and returns the number of features.
func linearShape(n, rows int, what string) (int, error) {
	switch {
	case rows < 1:
		return 0, fmt.Errorf("intercepts is empty: the number of %s is its length", what)
	case n == 0 || n%rows != 0:
		return 0, fmt.Errorf("coefficients has %d values, not a whole number of rows for %d %s", n, rows, what)
	}
	return n / rows, nil
}

// NumClasses is the width of the score output: the number of coefficient
// rows, or 2 for a one-row binary model.
func (m *LinearClassifier) NumClasses() int { return max(m.classes, 2) }

// NumFeatures is the number of features an input row must have.
func (m *LinearClassifier) NumFeatures() int { return m.features }

// LabelStrings returns classlabels_strings when the labels are strings, and
// Predict then writes indexes into it; it returns nil when the labels are
// int64s, which Predict writes as they are.
func (m *LinearClassifier) LabelStrings() []string { return m.strings }

// Predict scores rows of x, a row-major rows×features float32 matrix, into
// labels[:rows] (nil when the caller needs no labels) and
// scores[:rows*NumClasses()].
func (m *LinearClassifier) Predict(x []float32, rows, features int, labels []int64, scores []float32) error {
	return linearClassify(m, x, rows, features, labels, scores)
}

// PredictFloat64 is Predict for double input, which ONNX Runtime rounds to
// float32 before it multiplies.
func (m *LinearClassifier) PredictFloat64(x []float64, rows, features int, labels []int64, scores []float32) error {
	return linearClassify(m, x, rows, features, labels, scores)
}

func linearClassify[T float](m *LinearClassifier, x []T, rows, features int, labels []int64, scores []float32) error {
	if err := checkLinear(len(x), rows, features, m.features); err != nil {
		return fmt.Errorf("LinearClassifier: %w", err)
	}
	k := m.NumClasses()
	if len(scores) < rows*k {
		return fmt.Errorf("LinearClassifier: scores have room for %d values, %d rows × %d classes need %d", len(scores), rows, k, rows*k)
	}
	if labels != nil && len(labels) < rows {
		return fmt.Errorf("LinearClassifier: labels have room for %d rows, not %d", len(labels), rows)
	}
	post := m.post
	for r := range rows {
		z := scores[r*k : (r+1)*k]
		linearScores(x[r*features:(r+1)*features], m.coef, m.intercepts, z[:m.classes])
		best := 0
		if m.classes == 1 {
			s := z[0]
			if s > 0 {
				best = 1
			}
			if post == TransformLogistic {
				z[0], z[1] = -s, s // σ(-s), σ(s) below
			} else {
				z[0], z[1] = 1-s, s
			}
		} else {
			for c, v := range z {
				if v > z[best] {
					best = c
				}
			}
		}
		if labels != nil {
			labels[r] = m.labels[best]
		}
	}
	if m.classes == 1 && post != TransformLogistic {
		return nil // a binary model's other transforms are not applied
	}
	post.applyRows(scores[:rows*k], k)
	return nil
}

// linearScores writes x·coef[c] + intercepts[c] into z[c], in float32 as
// ONNX Runtime's GEMM does.
func linearScores[T float](x []T, coef, intercepts, z []float32) {
	n := len(x)
	for c := range z {
		w := coef[c*n : (c+1)*n]
		var s float32
		for i, v := range x {
			s += float32(float32(v) * w[i])
		}
		z[c] = s + intercepts[c]
	}
}

func checkLinear(n, rows, features, want int) error {
	switch {
	case rows < 0 || features < 0:
		return fmt.Errorf("negative shape %d×%d", rows, features)
	case n < rows*features:
		return fmt.Errorf("input has %d values, fewer than %d rows × %d features", n, rows, features)
	case features != want && rows > 0:
		return fmt.Errorf("input has %d features, the coefficients have %d", features, want)
	}
	return nil
}

// LinearRegressorAttrs holds the attributes of an ai.onnx.ml
// LinearRegressor node, named after them.
type LinearRegressorAttrs struct {
	// Coefficients (coefficients) is a targets×features matrix, row-major.
	Coefficients []float32
	// Intercepts (intercepts) is empty or has one value per target.
	Intercepts    []float32
	Targets       int64  // targets
	PostTransform string // post_transform: NONE (default), LOGISTIC, SOFTMAX, SOFTMAX_ZERO or PROBIT
}

// LinearRegressor is a compiled LinearRegressor: target t of a row is
// x·coefficients[t] + intercepts[t]. As in ONNX Runtime, a single target
// ignores every transform but PROBIT. ONNX Runtime accepts float input
// only, so there is no PredictFloat64.
type LinearRegressor struct {
	coef       []float32
	intercepts []float32
	targets    int
	features   int
	post       PostTransform
}

// NewLinearRegressor validates a.
func NewLinearRegressor(a LinearRegressorAttrs) (*LinearRegressor, error) {
	m, err := newLinearRegressor(&a)
	if err != nil {
		return nil, fmt.Errorf("LinearRegressor: %w", err)
	}
	return m, nil
}

func newLinearRegressor(a *LinearRegressorAttrs) (*LinearRegressor, error) {
	if a.Targets < 1 || a.Targets > 1<<20 {
		return nil, fmt.Errorf("targets is %d, it must be at least 1", a.Targets)
	}
	m := &LinearRegressor{coef: a.Coefficients, intercepts: a.Intercepts, targets: int(a.Targets)}
	var err error
	if m.features, err = linearShape(len(a.Coefficients), m.targets, "targets"); err != nil {
		return nil, fmt.Errorf("%w (targets is %d)", err, m.targets)
	}
	switch len(a.Intercepts) {
	case 0:
		// ONNX Runtime ignores intercepts of any other length too; a
		// model with such a mistake is refused here instead.
		m.intercepts = make([]float32, m.targets)
	case m.targets:
	default:
		return nil, fmt.Errorf("intercepts has %d values for %d targets", len(a.Intercepts), m.targets)
	}
	if m.post, err = ParsePostTransform(a.PostTransform); err != nil {
		return nil, err
	}
	return m, nil
}

// NumTargets is the width of the output.
func (m *LinearRegressor) NumTargets() int { return m.targets }

// NumFeatures is the number of features an input row must have.
func (m *LinearRegressor) NumFeatures() int { return m.features }

// Predict scores rows of x, a row-major rows×features float32 matrix, into
// out[:rows*NumTargets()].
func (m *LinearRegressor) Predict(x []float32, rows, features int, out []float32) error {
	if err := checkLinear(len(x), rows, features, m.features); err != nil {
		return fmt.Errorf("LinearRegressor: %w", err)
	}
	k := m.targets
	if len(out) < rows*k {
		return fmt.Errorf("LinearRegressor: output has room for %d values, %d rows × %d targets need %d", len(out), rows, k, rows*k)
	}
	for r := range rows {
		z := out[r*k : (r+1)*k]
		linearScores(x[r*features:(r+1)*features], m.coef, m.intercepts, z)
		switch {
		case k > 1:
			m.post.apply(z)
		case m.post == TransformProbit:
			z[0] = probit(z[0])
		}
	}
	return nil
}
