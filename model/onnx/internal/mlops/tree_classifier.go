package mlops

import (
	"errors"
	"fmt"
)

// TreeEnsembleClassifierAttrs holds the attributes of an ai.onnx.ml
// TreeEnsembleClassifier node (opsets 1 to 3), named after them.
type TreeEnsembleClassifierAttrs struct {
	TreeNodes
	ClassTreeIDs []int64 // class_treeids
	ClassNodeIDs []int64 // class_nodeids
	ClassIDs     []int64 // class_ids: indexes into the class labels
	// ClassWeights (class_weights) or ClassWeightsAsTensor
	// (class_weights_as_tensor): exactly one is set.
	ClassWeights         []float32
	ClassWeightsAsTensor []float64
	// ClassLabelsInt64s (classlabels_int64s) or ClassLabelsStrings
	// (classlabels_strings): exactly one is set.
	ClassLabelsInt64s  []int64
	ClassLabelsStrings []string
	// BaseValues (base_values) or BaseValuesAsTensor: empty, one value per
	// class, or a single value for two classes, which goes to class 0.
	BaseValues         []float32
	BaseValuesAsTensor []float64
	PostTransform      string // post_transform: NONE (default), LOGISTIC, SOFTMAX, SOFTMAX_ZERO or PROBIT
}

// TreeEnsembleClassifier is a compiled TreeEnsembleClassifier. Its outputs
// are a label per row and a rows×NumClasses() float32 score matrix.
//
// It reproduces ONNX Runtime 1.30, whose two-class rules are its own. Call
// s0 and s1 the summed votes for class 0 and 1, and a model one-column when
// all its weights are for a single class id (XGBoost's, LightGBM's and
// scikit-learn's binary exports):
//   - A one-column model's label is the second label when the voted
//     class's raw score exceeds 0.5 if no weight is negative, or 0 if one
//     is. Other two-class models give label 1 or 0, the numbers rather than
//     the labels, as the second class's score is positive or not.
//   - When class 1 got no votes and there are fewer than two base values, a
//     one-column model's scores are [σ(-s0), σ(s0)] under LOGISTIC, and
//     [1-s0, s0] if no weight is negative or [-s0, s0] if one is under the
//     other transforms, which are not applied; PROBIT writes probit(s0) and
//     leaves the second column 0. A model with votes for both classes acts
//     as one with a negative weight when there is no base value, and with
//     one writes s0 and leaves the second column 0 (ONNX Runtime leaves it
//     unwritten).
//   - Otherwise both columns go through the transform, and a class that got
//     no votes scores 0, its base value dropped. With two base values and
//     votes for class 1, class 1 scores base_values[1] + s0 and class 0 its
//     negation: s1 itself is dropped.
//   - With three or more classes, the label is the first best class among
//     those a vote or a base value scored, and a class that neither scored
//     counts 0 in the transform.
type TreeEnsembleClassifier struct {
	classes     int
	labels      []int64  // what Predict writes for class i
	strings     []string // classlabels_strings, when the labels are strings
	post        PostTransform
	oneClassIDs bool // ONNX Runtime's binary_case_
	allPositive bool // no weight is negative
	numFeatures int
	f32         *forest[float32]
	f64         *forest[float64]
	base32      []float32
	base64      []float64
}

// NewTreeEnsembleClassifier validates a and compiles the trees.
func NewTreeEnsembleClassifier(a TreeEnsembleClassifierAttrs) (*TreeEnsembleClassifier, error) {
	m, err := newTreeEnsembleClassifier(&a)
	if err != nil {
		return nil, fmt.Errorf("TreeEnsembleClassifier: %w", err)
	}
	return m, nil
}

func newTreeEnsembleClassifier(a *TreeEnsembleClassifierAttrs) (*TreeEnsembleClassifier, error) {
	m := &TreeEnsembleClassifier{}
	var err error
	if m.labels, m.strings, err = classLabels("classlabels_int64s", a.ClassLabelsInt64s, "classlabels_strings", a.ClassLabelsStrings); err != nil {
		return nil, err
	}
	m.classes = len(m.labels)
	if m.classes < 2 {
		// ONNX Runtime writes two scores into a one-column output here.
		return nil, errors.New("a classifier needs at least 2 class labels")
	}
	if m.post, err = ParsePostTransform(a.PostTransform); err != nil {
		return nil, err
	}
	base, err := baseValues(a.BaseValues, a.BaseValuesAsTensor)
	if err != nil {
		return nil, err
	}
	// ONNX Runtime 1.30 refuses other sizes, except one value for two
	// classes, which it adds to the first class's score.
	if n := base.len(); n != 0 && n != m.classes && (n != 1 || m.classes != 2) {
		return nil, fmt.Errorf("base_values has %d entries for %d classes", n, m.classes)
	}
	weights := values{a.ClassWeights, a.ClassWeightsAsTensor}
	s, err := compileTrees(&a.TreeNodes, &leafVotes{
		prefix: "class", treeIDs: a.ClassTreeIDs, nodeIDs: a.ClassNodeIDs, ids: a.ClassIDs,
		weights: a.ClassWeights, weights64: a.ClassWeightsAsTensor,
	}, m.classes)
	if err != nil {
		return nil, err
	}
	m.numFeatures = s.numFeatures
	// Both flags read every weight, those ONNX Runtime then ignores on
	// branch nodes included, as it does.
	ids := map[int64]bool{}
	m.allPositive = true
	for i, id := range a.ClassIDs {
		ids[id] = true
		if weights.at(i) < 0 {
			m.allPositive = false
		}
	}
	m.oneClassIDs = m.classes == 2 && len(ids) == 1
	thresholds := values{a.NodesValues, a.NodesValuesAsTensor}
	m.f32, m.f64 = buildForest[float32](s, thresholds, weights), buildForest[float64](s, thresholds, weights)
	m.base32, m.base64 = convert[float32](base), convert[float64](base)
	return m, nil
}

// classLabels checks that exactly one of the two label attributes is set
// and returns what a classifier writes for each class: the int64 label, or
// the class's index when the labels are strings.
func classLabels(intName string, ints []int64, strName string, strs []string) ([]int64, []string, error) {
	switch {
	case len(ints) > 0 && len(strs) > 0:
		return nil, nil, fmt.Errorf("both %s and %s are set", intName, strName)
	case len(strs) > 0:
		idx := make([]int64, len(strs))
		for i := range idx {
			idx[i] = int64(i)
		}
		return idx, strs, nil
	case len(ints) > 0:
		return ints, nil, nil
	}
	return nil, nil, fmt.Errorf("neither %s nor %s is set", intName, strName)
}

// NumClasses is the width of the score output.
func (m *TreeEnsembleClassifier) NumClasses() int { return m.classes }

// NumFeatures is the fewest features an input row must have.
func (m *TreeEnsembleClassifier) NumFeatures() int { return m.numFeatures }

// LabelStrings returns classlabels_strings when the labels are strings, and
// Predict then writes indexes into it; it returns nil when the labels are
// int64s, which Predict writes as they are.
func (m *TreeEnsembleClassifier) LabelStrings() []string { return m.strings }

// Predict scores rows of x, a row-major rows×features float32 matrix, into
// labels[:rows] (nil when the caller needs no labels) and
// scores[:rows*NumClasses()].
func (m *TreeEnsembleClassifier) Predict(x []float32, rows, features int, labels []int64, scores []float32) error {
	return classify(m, m.f32, m.base32, x, rows, features, labels, scores)
}

// PredictFloat64 is Predict for double input, which ONNX Runtime compares
// and sums in float64; the scores are float32 all the same.
func (m *TreeEnsembleClassifier) PredictFloat64(x []float64, rows, features int, labels []int64, scores []float32) error {
	return classify(m, m.f64, m.base64, x, rows, features, labels, scores)
}

func classify[T float](m *TreeEnsembleClassifier, f *forest[T], base, x []T, rows, features int, labels []int64, scores []float32) error {
	if err := checkMatrix(len(x), rows, features, m.numFeatures); err != nil {
		return fmt.Errorf("TreeEnsembleClassifier: %w", err)
	}
	k := m.classes
	if len(scores) < rows*k {
		return fmt.Errorf("TreeEnsembleClassifier: scores have room for %d values, %d rows × %d classes need %d", len(scores), rows, k, rows*k)
	}
	if labels != nil && len(labels) < rows {
		return fmt.Errorf("TreeEnsembleClassifier: labels have room for %d rows, not %d", len(labels), rows)
	}
	sc := newBlockScratch[T](rows, k)
	for b := 0; b < rows; b += blockRows {
		n := min(blockRows, rows-b)
		f.scoreBlock(x[b*features:], n, features, aggSum, k, sc)
		acc, has := sc.acc, sc.has
		for r := range n {
			s, h, z := acc[r*k:(r+1)*k], has[r*k:(r+1)*k], scores[(b+r)*k:(b+r+1)*k]
			var label int64
			if k == 2 {
				label = finalizeTwo(m, s, h, base, z)
			} else {
				c := finalizeMany(m.post, s, h, base, z)
				if c < 0 {
					return fmt.Errorf("TreeEnsembleClassifier: row %d: no leaf voted and there are no base values, so no class can be chosen", b+r)
				}
				label = m.labels[c]
			}
			if labels != nil {
				labels[b+r] = label
			}
		}
	}
	return nil
}

// finalizeTwo is ONNX Runtime's two-class FinalizeScores followed by its
// write_scores, branch for branch.
func finalizeTwo[T float](m *TreeEnsembleClassifier, s []T, h []bool, base []T, z []float32) int64 {
	mode := -1 // write_additional_scores
	pair := true
	switch len(base) {
	case 2:
		if h[1] {
			// Assumes base_values[0] == base_values[1], as ONNX Runtime's
			// comment puts it, and that class 0's score is class 1's
			// negated.
			s[1] = base[1] + s[0]
			s[0] = -s[1]
		} else {
			s[1] += base[1]
			s[0] += base[0]
		}
	case 1:
		s[0] += base[0]
		pair = h[1]
	case 0:
		mode = 3
		pair = h[1]
	}

	var pos T
	switch {
	case pair && h[1]:
		pos = s[1]
	case h[0]:
		pos = s[0]
	}
	var label int64
	if m.oneClassIDs {
		positive := pos > 0
		if m.allPositive {
			positive = pos > 0.5
			mode = 1
			if positive {
				mode = 0
			}
		} else {
			mode = 3
			if positive {
				mode = 2
			}
		}
		label = m.labels[0]
		if positive {
			label = m.labels[1]
		}
	} else if pos > 0 {
		label = 1
	}

	if pair {
		for j := range 2 {
			z[j] = 0
			if h[j] {
				z[j] = float32(s[j])
			}
		}
		m.post.apply(z)
		return label
	}
	var v T
	if h[0] {
		v = s[0]
	}
	z[1] = 0
	switch {
	case m.post == TransformProbit:
		z[0] = probit(float32(v))
	case mode >= 0 && m.post == TransformLogistic:
		z[0], z[1] = logistic(float32(-v)), logistic(float32(v))
	case mode == 0 || mode == 1:
		z[0], z[1] = float32(1-v), float32(v)
	case mode == 2 || mode == 3:
		z[0], z[1] = float32(-v), float32(v)
	default:
		z[0] = float32(v)
	}
	return label
}

// finalizeMany is ONNX Runtime's FinalizeScores for three or more classes:
// base values count as votes, and the label is the first best class among
// those that have a score. It returns that class, or -1 if none has.
func finalizeMany[T float](post PostTransform, s []T, h []bool, base []T, z []float32) int {
	for j, b := range base {
		if h[j] {
			s[j] += b
		} else {
			s[j], h[j] = b, true
		}
	}
	best := -1
	for j, v := range s {
		if h[j] && (best < 0 || v > s[best]) {
			best = j
		}
		z[j] = 0
		if h[j] {
			z[j] = float32(v)
		}
	}
	post.apply(z)
	return best
}
