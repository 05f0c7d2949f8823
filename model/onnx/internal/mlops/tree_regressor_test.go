package mlops

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var nan = float32(math.NaN())

// stump is one tree: node 0 compares feature 0 with threshold under mode
// and sends a row to leaf 1 (true) or leaf 2 (false).
func stump(tree int64, mode string, threshold float32, missingTrue int64) TreeNodes {
	return TreeNodes{
		NodesTreeIDs:                []int64{tree, tree, tree},
		NodesNodeIDs:                []int64{0, 1, 2},
		NodesFeatureIDs:             []int64{0, 0, 0},
		NodesModes:                  []string{mode, "LEAF", "LEAF"},
		NodesValues:                 []float32{threshold, 0, 0},
		NodesTrueNodeIDs:            []int64{1, 0, 0},
		NodesFalseNodeIDs:           []int64{2, 0, 0},
		NodesMissingValueTracksTrue: []int64{missingTrue, 0, 0},
	}
}

// joinTrees concatenates the node attributes of several trees.
func joinTrees(trees ...TreeNodes) TreeNodes {
	var out TreeNodes
	for _, t := range trees {
		out.NodesTreeIDs = append(out.NodesTreeIDs, t.NodesTreeIDs...)
		out.NodesNodeIDs = append(out.NodesNodeIDs, t.NodesNodeIDs...)
		out.NodesFeatureIDs = append(out.NodesFeatureIDs, t.NodesFeatureIDs...)
		out.NodesModes = append(out.NodesModes, t.NodesModes...)
		out.NodesValues = append(out.NodesValues, t.NodesValues...)
		out.NodesTrueNodeIDs = append(out.NodesTrueNodeIDs, t.NodesTrueNodeIDs...)
		out.NodesFalseNodeIDs = append(out.NodesFalseNodeIDs, t.NodesFalseNodeIDs...)
		out.NodesMissingValueTracksTrue = append(out.NodesMissingValueTracksTrue, t.NodesMissingValueTracksTrue...)
	}
	return out
}

// stumpRegressor gives 10 for the true branch and 20 for the false one.
func stumpRegressor(t *testing.T, mode string, missingTrue int64) *TreeEnsembleRegressor {
	t.Helper()
	m, err := NewTreeEnsembleRegressor(TreeEnsembleRegressorAttrs{
		TreeNodes:     stump(0, mode, 1, missingTrue),
		TargetTreeIDs: []int64{0, 0}, TargetNodeIDs: []int64{1, 2}, TargetIDs: []int64{0, 0},
		TargetWeights: []float32{10, 20},
		NTargets:      1,
	})
	require.NoError(t, err)
	return m
}

func TestTreeNodeModesCompareTheFeatureWithTheThreshold(t *testing.T) {
	// Rows x0 = 0, 1, 2, NaN against threshold 1; 10 is the true branch.
	x := []float32{0, 1, 2, nan}
	tests := []struct {
		mode        string
		missingTrue int64
		want        []float32
	}{
		{"BRANCH_LEQ", 0, []float32{10, 10, 20, 20}},
		{"BRANCH_LEQ", 1, []float32{10, 10, 20, 10}},
		{"BRANCH_LT", 0, []float32{10, 20, 20, 20}},
		{"BRANCH_LT", 1, []float32{10, 20, 20, 10}},
		{"BRANCH_GTE", 0, []float32{20, 10, 10, 20}},
		{"BRANCH_GTE", 1, []float32{20, 10, 10, 10}},
		{"BRANCH_GT", 0, []float32{20, 20, 10, 20}},
		{"BRANCH_GT", 1, []float32{20, 20, 10, 10}},
		{"BRANCH_EQ", 0, []float32{20, 10, 20, 20}},
		{"BRANCH_EQ", 1, []float32{20, 10, 20, 10}},
		// NaN != 1 holds, so NaN takes the true branch either way.
		{"BRANCH_NEQ", 0, []float32{10, 20, 10, 10}},
		{"BRANCH_NEQ", 1, []float32{10, 20, 10, 10}},
	}
	for _, tt := range tests {
		m := stumpRegressor(t, tt.mode, tt.missingTrue)
		got := make([]float32, len(x))
		require.NoError(t, m.Predict(x, len(x), 1, got))
		assert.Equal(t, tt.want, got, "%s missing_value_tracks_true=%d", tt.mode, tt.missingTrue)

		x64 := make([]float64, len(x))
		for i, v := range x {
			x64[i] = float64(v)
		}
		require.NoError(t, m.PredictFloat64(x64, len(x), 1, got))
		assert.Equal(t, tt.want, got, "%s missing_value_tracks_true=%d, double input", tt.mode, tt.missingTrue)
	}
}

func TestTreeModesMatchOnInfinitiesAndNeighbouringFloats(t *testing.T) {
	// The branch-free walk rewrites x < t as x <= the float below t; the
	// floats either side of the threshold and the infinities check it.
	th := float32(1)
	x := []float32{math.Nextafter32(th, -1), th, math.Nextafter32(th, 2), float32(math.Inf(-1)), float32(math.Inf(1))}
	for mode, want := range map[string][]float32{
		"BRANCH_LEQ": {10, 10, 20, 10, 20},
		"BRANCH_LT":  {10, 20, 20, 10, 20},
		"BRANCH_GTE": {20, 10, 10, 20, 10},
		"BRANCH_GT":  {20, 20, 10, 20, 10},
	} {
		m := stumpRegressor(t, mode, 0)
		got := make([]float32, len(x))
		require.NoError(t, m.Predict(x, len(x), 1, got))
		assert.Equal(t, want, got, mode)
	}
}

func TestDoubleInputComparesInDoublePrecision(t *testing.T) {
	// 0.1 as a double threshold: float64(float32(0.1)) is just above it,
	// so double input goes false where float32 input, whose threshold is
	// rounded to float32(0.1), goes true.
	tree := stump(0, "BRANCH_LEQ", 0, 0)
	tree.NodesValues, tree.NodesValuesAsTensor = nil, []float64{0.1, 0, 0}
	m, err := NewTreeEnsembleRegressor(TreeEnsembleRegressorAttrs{
		TreeNodes:     tree,
		TargetTreeIDs: []int64{0, 0}, TargetNodeIDs: []int64{1, 2}, TargetIDs: []int64{0, 0},
		TargetWeightsAsTensor: []float64{10, 20},
		NTargets:              1,
	})
	require.NoError(t, err)
	out := make([]float32, 2)
	require.NoError(t, m.PredictFloat64([]float64{0.1, float64(float32(0.1))}, 2, 1, out))
	assert.Equal(t, []float32{10, 20}, out)
	require.NoError(t, m.Predict([]float32{0.1, 0.1}, 2, 1, out))
	assert.Equal(t, []float32{10, 10}, out)
}

// threeStumps is three BRANCH_LEQ stumps on features 0, 1 and 2 (threshold
// 0.5) with leaf weights (true, false) of (1, 2), (10, 20) and (100, 200).
func threeStumps() (TreeNodes, []int64, []int64, []float32) {
	a, b, c := stump(0, "BRANCH_LEQ", 0.5, 0), stump(1, "BRANCH_LEQ", 0.5, 0), stump(2, "BRANCH_LEQ", 0.5, 0)
	b.NodesFeatureIDs = []int64{1, 0, 0}
	c.NodesFeatureIDs = []int64{2, 0, 0}
	return joinTrees(a, b, c),
		[]int64{0, 0, 1, 1, 2, 2}, []int64{1, 2, 1, 2, 1, 2},
		[]float32{1, 2, 10, 20, 100, 200}
}

func TestTreeEnsembleRegressorAggregates(t *testing.T) {
	nodes, trees, ids, weights := threeStumps()
	// Row 0 takes every true branch (1, 10, 100), row 1 every false one
	// (2, 20, 200).
	x := []float32{0, 0, 0, 1, 1, 1}
	tests := []struct {
		agg  string
		base []float32
		want []float32
	}{
		{"SUM", nil, []float32{111, 222}},
		{"", nil, []float32{111, 222}},
		{"SUM", []float32{0.5}, []float32{111.5, 222.5}},
		{"AVERAGE", nil, []float32{37, 74}},
		{"AVERAGE", []float32{1}, []float32{38, 75}},
		{"MIN", nil, []float32{1, 2}},
		{"MIN", []float32{1}, []float32{2, 3}},
		{"MAX", nil, []float32{100, 200}},
		{"MAX", []float32{-1}, []float32{99, 199}},
	}
	for _, tt := range tests {
		m, err := NewTreeEnsembleRegressor(TreeEnsembleRegressorAttrs{
			TreeNodes: nodes, TargetTreeIDs: trees, TargetNodeIDs: ids, TargetIDs: make([]int64, 6),
			TargetWeights: weights, NTargets: 1, BaseValues: tt.base, AggregateFunction: tt.agg,
		})
		require.NoError(t, err)
		got := make([]float32, 2)
		require.NoError(t, m.Predict(x, 2, 3, got))
		assert.Equal(t, tt.want, got, "%s base %v", tt.agg, tt.base)
	}
}

func TestTreeEnsembleRegressorWithSeveralTargets(t *testing.T) {
	nodes, trees, ids, weights := threeStumps()
	// Trees 0 and 1 vote for target 0, tree 2 for target 2; target 1 gets
	// no vote and so outputs 0, its base value notwithstanding.
	targets := []int64{0, 0, 0, 0, 2, 2}
	x := []float32{0, 0, 0, 1, 1, 1}
	tests := []struct {
		agg  string
		base []float32
		want []float32
	}{
		{"SUM", nil, []float32{11, 0, 100, 22, 0, 200}},
		{"SUM", []float32{1, 2, 3}, []float32{12, 0, 103, 23, 0, 203}},
		{"AVERAGE", nil, []float32{11.0 / 3, 0, 100.0 / 3, 22.0 / 3, 0, 200.0 / 3}},
		{"MIN", []float32{1, 2, 3}, []float32{2, 0, 103, 3, 0, 203}},
		{"MAX", nil, []float32{10, 0, 100, 20, 0, 200}},
	}
	for _, tt := range tests {
		m, err := NewTreeEnsembleRegressor(TreeEnsembleRegressorAttrs{
			TreeNodes: nodes, TargetTreeIDs: trees, TargetNodeIDs: ids, TargetIDs: targets,
			TargetWeights: weights, NTargets: 3, BaseValues: tt.base, AggregateFunction: tt.agg,
		})
		require.NoError(t, err)
		assert.Equal(t, 3, m.NumTargets())
		assert.Equal(t, 3, m.NumFeatures())
		got := make([]float32, 6)
		require.NoError(t, m.Predict(x, 2, 3, got))
		assert.InDeltaSlice(t, tt.want, got, 1e-5, "%s base %v", tt.agg, tt.base)
	}
}

func TestTreeEnsembleRegressorPostTransforms(t *testing.T) {
	// One leaf votes (0.2, 0, 0.7) for three targets; PROBIT's expected
	// values are ONNX Runtime 1.30's, whose erf⁻¹ is an approximation.
	tree := TreeNodes{
		NodesTreeIDs: []int64{0}, NodesNodeIDs: []int64{0}, NodesFeatureIDs: []int64{0},
		NodesModes: []string{"LEAF"}, NodesValues: []float32{0},
		NodesTrueNodeIDs: []int64{0}, NodesFalseNodeIDs: []int64{0},
	}
	e2, e7 := math.Exp(0.2), math.Exp(0.7)
	tests := []struct {
		post string
		want []float64
	}{
		{"NONE", []float64{0.2, 0, 0.7}},
		{"LOGISTIC", []float64{1 / (1 + math.Exp(-0.2)), 0.5, 1 / (1 + math.Exp(-0.7))}},
		{"SOFTMAX", []float64{e2 / (e2 + 1 + e7), 1 / (e2 + 1 + e7), e7 / (e2 + 1 + e7)}},
		// A zero score stays out of the sum and keeps about zero.
		{"SOFTMAX_ZERO", []float64{e2 / (e2 + e7), 0, e7 / (e2 + e7)}},
		{"PROBIT", []float64{-0.8417561054229736, math.Inf(-1), 0.5244458913803101}},
	}
	for _, tt := range tests {
		m, err := NewTreeEnsembleRegressor(TreeEnsembleRegressorAttrs{
			TreeNodes:     tree,
			TargetTreeIDs: []int64{0, 0}, TargetNodeIDs: []int64{0, 0}, TargetIDs: []int64{0, 2},
			TargetWeights: []float32{0.2, 0.7}, NTargets: 3, PostTransform: tt.post,
		})
		require.NoError(t, err)
		got := make([]float32, 3)
		require.NoError(t, m.Predict([]float32{0}, 1, 1, got))
		for i, w := range tt.want {
			if math.IsInf(w, 0) {
				assert.Equal(t, float32(w), got[i], "%s target %d", tt.post, i)
				continue
			}
			assert.InDelta(t, w, got[i], 1e-6, "%s target %d", tt.post, i)
		}
	}
}

func TestSingleTargetRegressorAppliesOnlyProbit(t *testing.T) {
	for post, want := range map[string]float32{
		"NONE": 0.7, "LOGISTIC": 0.7, "SOFTMAX": 0.7, "SOFTMAX_ZERO": 0.7,
		"PROBIT": 0.5244458913803101,
	} {
		m, err := NewTreeEnsembleRegressor(TreeEnsembleRegressorAttrs{
			TreeNodes:     stump(0, "BRANCH_LEQ", 1, 0),
			TargetTreeIDs: []int64{0, 0}, TargetNodeIDs: []int64{1, 2}, TargetIDs: []int64{0, 0},
			TargetWeights: []float32{0.7, 0.9}, NTargets: 1, PostTransform: post,
		})
		require.NoError(t, err)
		got := make([]float32, 1)
		require.NoError(t, m.Predict([]float32{0}, 1, 1, got))
		assert.InDelta(t, want, got[0], 1e-6, post)
	}
}

func TestSingleTargetLeafUsesItsFirstVoteOrItsOwnValue(t *testing.T) {
	// Leaf 1 has two votes, listed out of order: only the first by
	// attribute order counts. Leaf 2 has none: its nodes_values entry,
	// 0.5, stands in. Both are ONNX Runtime's single-target rules.
	tree := stump(0, "BRANCH_LEQ", 1, 0)
	tree.NodesValues = []float32{1, 0, 0.5}
	m, err := NewTreeEnsembleRegressor(TreeEnsembleRegressorAttrs{
		TreeNodes:     tree,
		TargetTreeIDs: []int64{0, 0}, TargetNodeIDs: []int64{1, 1}, TargetIDs: []int64{0, 0},
		TargetWeights: []float32{3, 4}, NTargets: 1,
	})
	require.NoError(t, err)
	got := make([]float32, 2)
	require.NoError(t, m.Predict([]float32{0, 2}, 2, 1, got))
	assert.Equal(t, []float32{3, 0.5}, got)
}

func TestTreesMayShareNodes(t *testing.T) {
	// LightGBM's converter writes "x in {1, 2}" as two BRANCH_EQ nodes
	// whose true branches meet at one leaf.
	m, err := NewTreeEnsembleRegressor(TreeEnsembleRegressorAttrs{
		TreeNodes: TreeNodes{
			NodesTreeIDs:      []int64{0, 0, 0, 0},
			NodesNodeIDs:      []int64{0, 1, 2, 3},
			NodesFeatureIDs:   []int64{0, 0, 0, 0},
			NodesModes:        []string{"BRANCH_EQ", "BRANCH_EQ", "LEAF", "LEAF"},
			NodesValues:       []float32{1, 2, 0, 0},
			NodesTrueNodeIDs:  []int64{2, 2, 0, 0},
			NodesFalseNodeIDs: []int64{1, 3, 0, 0},
		},
		TargetTreeIDs: []int64{0, 0}, TargetNodeIDs: []int64{2, 3}, TargetIDs: []int64{0, 0},
		TargetWeights: []float32{1, -1}, NTargets: 1,
	})
	require.NoError(t, err)
	got := make([]float32, 4)
	require.NoError(t, m.Predict([]float32{1, 2, 3, nan}, 4, 1, got))
	assert.Equal(t, []float32{1, 1, -1, -1}, got)
}
