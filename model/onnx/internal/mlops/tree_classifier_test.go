package mlops

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// binaryStumps is a two-class classifier labelled 3 and 7 over one stump:
// x0 <= 0.5 reaches leaf 1, else leaf 2, and each leaf votes w (leaf 2: 2w)
// for each of ids, the second id with half the weight.
func binaryStumps(t *testing.T, ids []int64, w float32, post string, base []float32) *TreeEnsembleClassifier {
	t.Helper()
	a := TreeEnsembleClassifierAttrs{
		TreeNodes:         stump(0, "BRANCH_LEQ", 0.5, 0),
		ClassLabelsInt64s: []int64{3, 7},
		PostTransform:     post,
		BaseValues:        base,
	}
	for leaf, mult := range map[int64]float32{1: 1, 2: 2} {
		for k, id := range ids {
			a.ClassTreeIDs = append(a.ClassTreeIDs, 0)
			a.ClassNodeIDs = append(a.ClassNodeIDs, leaf)
			a.ClassIDs = append(a.ClassIDs, id)
			a.ClassWeights = append(a.ClassWeights, w*mult/float32(k+1))
		}
	}
	m, err := NewTreeEnsembleClassifier(a)
	require.NoError(t, err)
	return m
}

// The expected values below are ONNX Runtime 1.30's outputs on the same
// models, rows x0 = 0 and x0 = 1.
func TestBinaryClassifierFollowsOnnxRuntime(t *testing.T) {
	tests := []struct {
		name   string
		ids    []int64
		w      float32
		post   string
		base   []float32
		labels []int64
		scores []float64
	}{
		{"one column, positive weights: [1-s, s], label by s > 0.5",
			[]int64{0}, 0.3, "NONE", nil, []int64{3, 7}, []float64{0.7, 0.3, 0.4, 0.6}},
		{"one column, positive weights, LOGISTIC: [σ(-s), σ(s)], label by the raw score",
			[]int64{0}, 0.3, "LOGISTIC", nil, []int64{3, 7}, []float64{sigmoid(-0.3), sigmoid(0.3), sigmoid(-0.6), sigmoid(0.6)}},
		{"one column, positive weights, SOFTMAX is not applied",
			[]int64{0}, 0.3, "SOFTMAX", nil, []int64{3, 7}, []float64{0.7, 0.3, 0.4, 0.6}},
		{"one column, one base value added to the score",
			[]int64{0}, 0.3, "NONE", []float32{0.2}, []int64{3, 7}, []float64{0.5, 0.5, 0.2, 0.8}},
		{"one column, negative weights: [-s, s], label by s > 0",
			[]int64{0}, -0.3, "NONE", nil, []int64{3, 3}, []float64{0.3, -0.3, 0.6, -0.6}},
		{"one column, negative weights, LOGISTIC",
			[]int64{0}, -0.3, "LOGISTIC", nil, []int64{3, 3}, []float64{sigmoid(0.3), sigmoid(-0.3), sigmoid(0.6), sigmoid(-0.6)}},
		{"one column, negative weights, SOFTMAX_ZERO is not applied",
			[]int64{0}, -0.3, "SOFTMAX_ZERO", []float32{0.2}, []int64{3, 3}, []float64{0.1, -0.1, 0.4, -0.4}},
		{"one column, PROBIT fills the first column only",
			[]int64{0}, 0.3, "PROBIT", nil, []int64{3, 7}, []float64{-0.5244458913803101, 0, 0.2533535063266754, 0}},
		{"one column, two base values: class 1 scores 0 and both are transformed",
			[]int64{0}, 0.3, "SOFTMAX", []float32{0.2, 0.5}, []int64{3, 7}, []float64{1 / (1 + math.Exp(-0.5)), 1 / (1 + math.Exp(0.5)), 1 / (1 + math.Exp(-0.8)), 1 / (1 + math.Exp(0.8))}},
		{"only class 1 voted: both columns transformed, class 0 at 0",
			[]int64{1}, 0.3, "LOGISTIC", nil, []int64{3, 7}, []float64{0.5, sigmoid(0.3), 0.5, sigmoid(0.6)}},
		{"only class 1 voted, two base values: the votes are dropped",
			[]int64{1}, 0.3, "NONE", []float32{0.2, 0.5}, []int64{3, 3}, []float64{0, 0.5, 0, 0.5}},
		{"both classes voted: the label is the number 1 or 0",
			[]int64{0, 1}, 0.3, "NONE", nil, []int64{1, 1}, []float64{0.3, 0.15, 0.6, 0.3}},
		{"both classes voted, negative weights",
			[]int64{0, 1}, -0.3, "NONE", nil, []int64{0, 0}, []float64{-0.3, -0.15, -0.6, -0.3}},
		{"both classes voted, two base values: class 1 is base_values[1] + s0",
			[]int64{0, 1}, 0.3, "NONE", []float32{0.2, 0.5}, []int64{1, 1}, []float64{-0.8, 0.8, -1.1, 1.1}},
		{"both classes voted, SOFTMAX",
			[]int64{0, 1}, 0.3, "SOFTMAX", nil, []int64{1, 1}, []float64{1 / (1 + math.Exp(-0.15)), 1 / (1 + math.Exp(0.15)), 1 / (1 + math.Exp(-0.3)), 1 / (1 + math.Exp(0.3))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := binaryStumps(t, tt.ids, tt.w, tt.post, tt.base)
			labels := make([]int64, 2)
			scores := make([]float32, 4)
			require.NoError(t, m.Predict([]float32{0, 1}, 2, 1, labels, scores))
			assert.Equal(t, tt.labels, labels)
			assert.InDeltaSlice(t, tt.scores, toFloat64(scores), 1e-6)
		})
	}
}

func toFloat64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// multiClass is a three-class classifier labelled 5, 6 and 9 over one
// stump: leaf 1 votes (1, 3) for classes 0 and 1, leaf 2 votes 2 for class 2.
func multiClass(t *testing.T, post string, base []float32) *TreeEnsembleClassifier {
	t.Helper()
	m, err := NewTreeEnsembleClassifier(TreeEnsembleClassifierAttrs{
		TreeNodes:         stump(0, "BRANCH_LEQ", 0.5, 0),
		ClassTreeIDs:      []int64{0, 0, 0},
		ClassNodeIDs:      []int64{1, 1, 2},
		ClassIDs:          []int64{0, 1, 2},
		ClassWeights:      []float32{1, 3, 2},
		ClassLabelsInt64s: []int64{5, 6, 9},
		BaseValues:        base,
		PostTransform:     post,
	})
	require.NoError(t, err)
	return m
}

func TestMultiClassClassifier(t *testing.T) {
	e1, e2, e3 := math.Exp(1), math.Exp(2), math.Exp(3)
	tests := []struct {
		post   string
		base   []float32
		labels []int64
		scores []float64
	}{
		{"NONE", nil, []int64{6, 9}, []float64{1, 3, 0, 0, 0, 2}},
		// Base values count as scores, and turn both rows to class 0.
		{"NONE", []float32{2.5, 0, -1}, []int64{5, 5}, []float64{3.5, 3, -1, 2.5, 0, 1}},
		{"LOGISTIC", nil, []int64{6, 9}, []float64{sigmoid(1), sigmoid(3), 0.5, 0.5, 0.5, sigmoid(2)}},
		{"SOFTMAX", nil, []int64{6, 9}, []float64{e1 / (e1 + e3 + 1), e3 / (e1 + e3 + 1), 1 / (e1 + e3 + 1), 1 / (e2 + 2), 1 / (e2 + 2), e2 / (e2 + 2)}},
		{"SOFTMAX_ZERO", nil, []int64{6, 9}, []float64{e1 / (e1 + e3), e3 / (e1 + e3), 0, 0, 0, 1}},
	}
	for _, tt := range tests {
		m := multiClass(t, tt.post, tt.base)
		labels := make([]int64, 2)
		scores := make([]float32, 6)
		require.NoError(t, m.Predict([]float32{0, 1}, 2, 1, labels, scores))
		assert.Equal(t, tt.labels, labels, "%s base %v", tt.post, tt.base)
		assert.InDeltaSlice(t, tt.scores, toFloat64(scores), 1e-6, "%s base %v", tt.post, tt.base)
	}
}

func TestMultiClassLabelSkipsClassesNoOneScored(t *testing.T) {
	// Row 1's only vote is -1 for class 2; classes 0 and 1 have no score
	// (not a score of 0), so class 2 wins, as in ONNX Runtime.
	m, err := NewTreeEnsembleClassifier(TreeEnsembleClassifierAttrs{
		TreeNodes:         stump(0, "BRANCH_LEQ", 0.5, 0),
		ClassTreeIDs:      []int64{0, 0},
		ClassNodeIDs:      []int64{1, 2},
		ClassIDs:          []int64{0, 2},
		ClassWeights:      []float32{1, -1},
		ClassLabelsInt64s: []int64{5, 6, 9},
	})
	require.NoError(t, err)
	labels := make([]int64, 2)
	scores := make([]float32, 6)
	require.NoError(t, m.Predict([]float32{0, 1}, 2, 1, labels, scores))
	assert.Equal(t, []int64{5, 9}, labels)
	assert.Equal(t, []float32{1, 0, 0, 0, 0, -1}, scores)
}

func TestMultiClassFailsWhenNoClassHasAScore(t *testing.T) {
	// ONNX Runtime fails the same way (a narrowing error on class -1).
	m, err := NewTreeEnsembleClassifier(TreeEnsembleClassifierAttrs{
		TreeNodes:    stump(0, "BRANCH_LEQ", 0.5, 0),
		ClassTreeIDs: []int64{0}, ClassNodeIDs: []int64{1}, ClassIDs: []int64{0}, ClassWeights: []float32{1},
		ClassLabelsInt64s: []int64{5, 6, 9},
	})
	require.NoError(t, err)
	err = m.Predict([]float32{0, 1}, 2, 1, nil, make([]float32, 6))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "row 1")
}

func TestStringLabelsAreWrittenAsIndexes(t *testing.T) {
	m, err := NewTreeEnsembleClassifier(TreeEnsembleClassifierAttrs{
		TreeNodes:    stump(0, "BRANCH_LEQ", 0.5, 0),
		ClassTreeIDs: []int64{0, 0}, ClassNodeIDs: []int64{1, 2}, ClassIDs: []int64{0, 0},
		ClassWeights:       []float32{0.2, 0.9},
		ClassLabelsStrings: []string{"stays", "churns"},
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"stays", "churns"}, m.LabelStrings())
	labels := make([]int64, 2)
	require.NoError(t, m.Predict([]float32{0, 1}, 2, 1, labels, make([]float32, 4)))
	assert.Equal(t, []int64{0, 1}, labels)

	ints := binaryStumps(t, []int64{0}, 0.3, "NONE", nil)
	assert.Nil(t, ints.LabelStrings())
	assert.Equal(t, 2, ints.NumClasses())
	assert.Equal(t, 1, ints.NumFeatures())
}

func TestClassifierAcceptsNilLabels(t *testing.T) {
	m := binaryStumps(t, []int64{0}, 0.3, "NONE", nil)
	scores := make([]float32, 4)
	require.NoError(t, m.Predict([]float32{0, 1}, 2, 1, nil, scores))
	assert.InDeltaSlice(t, []float64{0.7, 0.3, 0.4, 0.6}, toFloat64(scores), 1e-6)
}

func TestPredictIsSafeForConcurrentUse(t *testing.T) {
	m := binaryStumps(t, []int64{0}, 0.3, "LOGISTIC", nil)
	done := make(chan []float32)
	for range 4 {
		go func() {
			scores := make([]float32, 4)
			for range 100 {
				if err := m.Predict([]float32{0, 1}, 2, 1, nil, scores); err != nil {
					scores = nil
					break
				}
			}
			done <- scores
		}()
	}
	for range 4 {
		assert.InDeltaSlice(t, []float64{sigmoid(-0.3), sigmoid(0.3), sigmoid(-0.6), sigmoid(0.6)}, toFloat64(<-done), 1e-6)
	}
}
