package mlops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validRegressor is a two-tree regressor each test below breaks in one way.
func validRegressor() TreeEnsembleRegressorAttrs {
	return TreeEnsembleRegressorAttrs{
		TreeNodes:     joinTrees(stump(0, "BRANCH_LEQ", 1, 0), stump(1, "BRANCH_LT", 2, 1)),
		TargetTreeIDs: []int64{0, 0, 1, 1}, TargetNodeIDs: []int64{1, 2, 1, 2}, TargetIDs: []int64{0, 0, 0, 0},
		TargetWeights: []float32{1, 2, 3, 4},
		NTargets:      1,
	}
}

func TestTreeEnsembleValidation(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(a *TreeEnsembleRegressorAttrs)
		want    string
	}{
		{"no nodes", func(a *TreeEnsembleRegressorAttrs) { a.TreeNodes = TreeNodes{} },
			"nodes_treeids is empty"},
		{"short attribute", func(a *TreeEnsembleRegressorAttrs) { a.NodesModes = a.NodesModes[:5] },
			"nodes_modes has 5 entries, nodes_treeids has 6"},
		{"both value forms", func(a *TreeEnsembleRegressorAttrs) { a.NodesValuesAsTensor = make([]float64, 6) },
			"both nodes_values and nodes_values_as_tensor are set"},
		{"no values", func(a *TreeEnsembleRegressorAttrs) { a.NodesValues = nil },
			"nodes_values has 0 entries, nodes_treeids has 6"},
		{"short missing tracks", func(a *TreeEnsembleRegressorAttrs) { a.NodesMissingValueTracksTrue = []int64{1} },
			"nodes_missing_value_tracks_true has 1 entries"},
		{"unknown mode", func(a *TreeEnsembleRegressorAttrs) { a.NodesModes[3] = "BRANCH_LE" },
			`nodes_modes[3] is "BRANCH_LE"`},
		{"negative feature", func(a *TreeEnsembleRegressorAttrs) { a.NodesFeatureIDs[3] = -1 },
			"nodes_featureids[3] is -1"},
		{"duplicate node", func(a *TreeEnsembleRegressorAttrs) { a.NodesNodeIDs[2] = 1 },
			"nodes_nodeids[2]: node 1 of tree 0 is already defined at index 1"},
		{"missing true child", func(a *TreeEnsembleRegressorAttrs) { a.NodesTrueNodeIDs[3] = 7 },
			"nodes_truenodeids[3]: node 0 of tree 1 points to node 7, which tree 1 does not have"},
		{"missing false child", func(a *TreeEnsembleRegressorAttrs) { a.NodesFalseNodeIDs[0] = 9 },
			"nodes_falsenodeids[0]: node 0 of tree 0 points to node 9"},
		{"cycle", func(a *TreeEnsembleRegressorAttrs) {
			a.NodesModes[1], a.NodesTrueNodeIDs[1], a.NodesFalseNodeIDs[1] = "BRANCH_LEQ", 0, 2
		}, "nodes_truenodeids[1]: node 1 of tree 0 leads back to node 0: the tree has a cycle"},
		{"unreachable node", func(a *TreeEnsembleRegressorAttrs) { a.NodesFalseNodeIDs[0] = 1 },
			"nodes_nodeids[2]: node 2 of tree 0 cannot be reached from the tree's root, node 0"},
		{"tree split in two", func(a *TreeEnsembleRegressorAttrs) {
			again := stump(0, "BRANCH_LEQ", 1, 0)
			again.NodesNodeIDs = []int64{10, 11, 12}
			again.NodesTrueNodeIDs, again.NodesFalseNodeIDs = []int64{11, 0, 0}, []int64{12, 0, 0}
			a.TreeNodes = joinTrees(a.TreeNodes, again)
		}, "nodes_treeids[6]: the nodes of tree 0 are not contiguous (the tree starts at index 0)"},
		{"vote for a missing node", func(a *TreeEnsembleRegressorAttrs) { a.TargetNodeIDs[3] = 5 },
			"target_nodeids[3]: tree 1 has no node 5"},
		{"target out of range", func(a *TreeEnsembleRegressorAttrs) { a.TargetIDs[1] = 1 },
			"target_ids[1] is 1, outside [0, 1)"},
		{"short vote attribute", func(a *TreeEnsembleRegressorAttrs) { a.TargetNodeIDs = a.TargetNodeIDs[:3] },
			"target_nodeids has 3 entries, target_treeids has 4"},
		{"short weights", func(a *TreeEnsembleRegressorAttrs) { a.TargetWeights = a.TargetWeights[:3] },
			"target_weights has 3 entries, target_treeids has 4"},
		{"both weight forms", func(a *TreeEnsembleRegressorAttrs) { a.TargetWeightsAsTensor = []float64{1, 2, 3, 4} },
			"both target_weights and target_weights_as_tensor are set"},
		{"no targets", func(a *TreeEnsembleRegressorAttrs) { a.NTargets = 0 },
			"n_targets is 0"},
		{"base values", func(a *TreeEnsembleRegressorAttrs) { a.BaseValues = []float32{1, 2} },
			"base_values has 2 entries for 1 targets"},
		{"both base forms", func(a *TreeEnsembleRegressorAttrs) { a.BaseValues, a.BaseValuesAsTensor = []float32{1}, []float64{1} },
			"both base_values and base_values_as_tensor are set"},
		{"aggregate", func(a *TreeEnsembleRegressorAttrs) { a.AggregateFunction = "MEDIAN" },
			`aggregate_function "MEDIAN"`},
		{"post transform", func(a *TreeEnsembleRegressorAttrs) { a.PostTransform = "SIGMOID" },
			`post_transform "SIGMOID"`},
	}
	_, err := NewTreeEnsembleRegressor(validRegressor())
	require.NoError(t, err)
	for _, tt := range tests {
		a := validRegressor()
		tt.breakIt(&a)
		_, err := NewTreeEnsembleRegressor(a)
		require.Error(t, err, tt.name)
		assert.Contains(t, err.Error(), "TreeEnsembleRegressor: "+tt.want, tt.name)
	}
}

func TestTreeEnsembleClassifierValidation(t *testing.T) {
	valid := func() TreeEnsembleClassifierAttrs {
		return TreeEnsembleClassifierAttrs{
			TreeNodes:    stump(0, "BRANCH_LEQ", 1, 0),
			ClassTreeIDs: []int64{0, 0}, ClassNodeIDs: []int64{1, 2}, ClassIDs: []int64{0, 0},
			ClassWeights:      []float32{1, 2},
			ClassLabelsInt64s: []int64{0, 1, 2},
		}
	}
	tests := []struct {
		name    string
		breakIt func(a *TreeEnsembleClassifierAttrs)
		want    string
	}{
		{"no labels", func(a *TreeEnsembleClassifierAttrs) { a.ClassLabelsInt64s = nil },
			"neither classlabels_int64s nor classlabels_strings is set"},
		{"both labels", func(a *TreeEnsembleClassifierAttrs) { a.ClassLabelsStrings = []string{"a", "b", "c"} },
			"both classlabels_int64s and classlabels_strings are set"},
		{"one label", func(a *TreeEnsembleClassifierAttrs) { a.ClassLabelsInt64s = []int64{0} },
			"a classifier needs at least 2 class labels"},
		{"class out of range", func(a *TreeEnsembleClassifierAttrs) { a.ClassIDs[1] = 3 },
			"class_ids[1] is 3, outside [0, 3)"},
		{"base values", func(a *TreeEnsembleClassifierAttrs) { a.BaseValues = []float32{1} },
			"base_values has 1 entries for 3 classes"},
		{"short weights", func(a *TreeEnsembleClassifierAttrs) { a.ClassWeights = nil },
			"class_weights has 0 entries, class_treeids has 2"},
	}
	for _, tt := range tests {
		a := valid()
		tt.breakIt(&a)
		_, err := NewTreeEnsembleClassifier(a)
		require.Error(t, err, tt.name)
		assert.Contains(t, err.Error(), "TreeEnsembleClassifier: "+tt.want, tt.name)
	}
	// One base value is fine for two classes: ONNX Runtime adds it to the
	// first class's score.
	a := valid()
	a.ClassLabelsInt64s, a.BaseValues = []int64{0, 1}, []float32{0.5}
	_, err := NewTreeEnsembleClassifier(a)
	assert.NoError(t, err)
}

func TestPredictChecksShapes(t *testing.T) {
	m, err := NewTreeEnsembleRegressor(validRegressor())
	require.NoError(t, err)
	out := make([]float32, 2)
	assert.ErrorContains(t, m.Predict([]float32{1, 2, 3}, 2, 2, out), "input has 3 values, fewer than 2 rows × 2 features")
	assert.ErrorContains(t, m.Predict([]float32{1, 2}, 2, 0, out), "input has 0 features, the model reads feature 0")
	assert.ErrorContains(t, m.Predict([]float32{1, 2}, 2, 1, out[:1]), "output has room for 1 values")
	assert.ErrorContains(t, m.Predict(nil, -1, 1, out), "negative shape")
	assert.NoError(t, m.Predict(nil, 0, 0, nil), "no rows, nothing to do")

	c := binaryStumps(t, []int64{0}, 0.3, "NONE", nil)
	assert.ErrorContains(t, c.Predict([]float32{1, 2}, 2, 1, nil, make([]float32, 3)), "scores have room for 3 values")
	assert.ErrorContains(t, c.Predict([]float32{1, 2}, 2, 1, make([]int64, 1), make([]float32, 4)), "labels have room for 1 rows")
}

// randomTrees builds n random trees over features features, with every
// mode, missing-value rule and threshold drawn from a small grid so that
// equalities and NaN occur.
func randomTrees(rng *rand.Rand, n, features int, modes []string) TreeNodes {
	var out TreeNodes
	grid := []float32{-1, 0, 0.5, 1, 2}
	for tree := range n {
		var build func(depth int) int64
		next := int64(0)
		build = func(depth int) int64 {
			id := next
			next++
			i := len(out.NodesTreeIDs)
			out.NodesTreeIDs = append(out.NodesTreeIDs, int64(tree))
			out.NodesNodeIDs = append(out.NodesNodeIDs, id)
			out.NodesFeatureIDs = append(out.NodesFeatureIDs, int64(rng.IntN(features)))
			out.NodesValues = append(out.NodesValues, grid[rng.IntN(len(grid))])
			out.NodesMissingValueTracksTrue = append(out.NodesMissingValueTracksTrue, int64(rng.IntN(2)))
			out.NodesModes = append(out.NodesModes, "LEAF")
			out.NodesTrueNodeIDs = append(out.NodesTrueNodeIDs, 0)
			out.NodesFalseNodeIDs = append(out.NodesFalseNodeIDs, 0)
			if depth == 0 || depth < 3 && rng.IntN(4) == 0 {
				return id
			}
			out.NodesModes[i] = modes[rng.IntN(len(modes))]
			out.NodesTrueNodeIDs[i] = build(depth - 1)
			out.NodesFalseNodeIDs[i] = build(depth - 1)
			return id
		}
		build(1 + rng.IntN(6))
	}
	return out
}

func TestBranchFreeWalkMatchesTheGenericWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ordering := []string{"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT"}
	values := []float32{-1, 0, 0.5, 1, 2, nan, float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Nextafter32(0.5, -1), math.Nextafter32(1, 2)}
	for range 50 {
		nodes := randomTrees(rng, 5, 3, ordering)
		s, err := compileTrees(&nodes, &leafVotes{prefix: "target"}, 1)
		require.NoError(t, err)
		f := buildForest[float32](s, values32(nodes.NodesValues), values32(nil))
		require.NotNil(t, f.flat, "only ordering comparisons and finite thresholds")
		const rows = lanes
		x := make([]float32, rows*3)
		for i := range x {
			x[i] = values[rng.IntN(len(values))]
		}
		var off [lanes]int
		for l := range off {
			off[l] = l * 3
		}
		var got [lanes]int32
		for tr, root := range f.roots {
			walk(f.flat.nodes, f.flat.roots[tr], f.depth[tr], x, &off, &got)
			for l := range lanes {
				assert.Equal(t, f.leaf(root, x[l*3:l*3+3]), f.flat.leaf[got[l]], "tree %d row %v", tr, x[l*3:l*3+3])
			}
		}
	}
}

func values32(v []float32) values { return values{f32: v} }

func TestBatchesAgreeWithRowByRowScoring(t *testing.T) {
	// 300 rows cross the 128-row blocks and end on a partial group of
	// lanes; each row scored alone must give the same result.
	rng := rand.New(rand.NewPCG(5, 6))
	for _, modes := range [][]string{
		{"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT"},
		{"BRANCH_LEQ", "BRANCH_EQ", "BRANCH_NEQ"},
	} {
		nodes := randomTrees(rng, 20, 4, modes)
		a := TreeEnsembleClassifierAttrs{TreeNodes: nodes, ClassLabelsInt64s: []int64{0, 1, 2}, PostTransform: "SOFTMAX"}
		for i, m := range nodes.NodesModes {
			if m == "LEAF" {
				a.ClassTreeIDs = append(a.ClassTreeIDs, nodes.NodesTreeIDs[i])
				a.ClassNodeIDs = append(a.ClassNodeIDs, nodes.NodesNodeIDs[i])
				a.ClassIDs = append(a.ClassIDs, int64(rng.IntN(3)))
				a.ClassWeights = append(a.ClassWeights, float32(rng.NormFloat64()))
			}
		}
		a.BaseValues = []float32{0.1, 0.2, 0.3}
		m, err := NewTreeEnsembleClassifier(a)
		require.NoError(t, err)
		const rows = 300
		x := make([]float32, rows*4)
		for i := range x {
			x[i] = []float32{-1, 0, 0.5, 1, 2, nan}[rng.IntN(6)]
		}
		labels, scores := make([]int64, rows), make([]float32, rows*3)
		require.NoError(t, m.Predict(x, rows, 4, labels, scores))
		one, oneScores := make([]int64, 1), make([]float32, 3)
		for r := range rows {
			require.NoError(t, m.Predict(x[r*4:(r+1)*4], 1, 4, one, oneScores))
			assert.Equal(t, one[0], labels[r], "row %d", r)
			assert.Equal(t, oneScores, scores[r*3:(r+1)*3], "row %d", r)
		}
	}
}
