package mlops

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withVotes adds to every leaf of nodes the votes votes(tree, leaf) gives,
// as (ids, weights) attribute arrays.
func withVotes(nodes TreeNodes, rng *rand.Rand, votes func(tree int64) []int64) *leafVotes {
	v := &leafVotes{prefix: "class"}
	for i, m := range nodes.NodesModes {
		if m != "LEAF" {
			continue
		}
		for _, id := range votes(nodes.NodesTreeIDs[i]) {
			v.treeIDs = append(v.treeIDs, nodes.NodesTreeIDs[i])
			v.nodeIDs = append(v.nodeIDs, nodes.NodesNodeIDs[i])
			v.ids = append(v.ids, id)
			v.weights = append(v.weights, float32(rng.NormFloat64()))
		}
	}
	return v
}

// TestFlatSumsMatchTheGenericPath scores blocks through the flat form's
// specialised sums and through the generic per-row walk and per-vote add,
// which must agree exactly: the same votes added in the same tree order.
func TestFlatSumsMatchTheGenericPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	ordering := []string{"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT"}
	for _, tc := range []struct {
		name    string
		outputs int
		votes   func(tree int64) []int64
		// kind is which sum the flat form must use: "first", "one",
		// "many", or "generic" where the rows' vote sets vary.
		kind      string
		staticHas []bool
	}{
		{"single output", 1, func(int64) []int64 { return []int64{0} }, "first", nil},
		{"one vote per leaf, one class per tree", 3, func(t int64) []int64 { return []int64{t % 3} }, "one", []bool{true, true, true}},
		{"one vote per leaf, a class never voted", 3, func(t int64) []int64 { return []int64{t % 2} }, "one", []bool{true, true, false}},
		{"every class at every leaf", 3, func(int64) []int64 { return []int64{0, 1, 2} }, "many", []bool{true, true, true}},
		{"classes by leaf", 3, func(int64) []int64 { return []int64{int64(rng.IntN(3))} }, "generic", nil},
	} {
		nodes := randomTrees(rng, 12, 4, ordering)
		votes := withVotes(nodes, rng, tc.votes)
		s, err := compileTrees(&nodes, votes, tc.outputs)
		require.NoError(t, err, tc.name)
		f := buildForest[float32](s, values32(nodes.NodesValues), values32(votes.weights))
		require.NotNil(t, f.flat, tc.name)
		switch tc.kind {
		case "one":
			assert.NotNil(t, f.flat.target, tc.name)
		case "many":
			assert.Nil(t, f.flat.target, tc.name)
		}
		if tc.outputs > 1 {
			assert.Equal(t, tc.staticHas, f.flat.staticHas, tc.name)
		}
		const rows = 100 // not a whole number of lane groups
		x := make([]float32, rows*4)
		for i := range x {
			x[i] = []float32{-1, 0, 0.5, 1, 2, nan}[rng.IntN(6)]
		}
		for _, agg := range []aggregate{aggSum, aggAverage} {
			flat := newBlockScratch[float32](rows, tc.outputs)
			f.scoreBlock(x, rows, 4, agg, tc.outputs, flat)
			generic := newBlockScratch[float32](rows, tc.outputs)
			keep := f.flat
			f.flat = nil
			f.scoreBlock(x, rows, 4, agg, tc.outputs, generic)
			f.flat = keep
			assert.Equal(t, generic.acc, flat.acc, tc.name)
			if tc.outputs > 1 {
				assert.Equal(t, generic.has, flat.has, tc.name)
			}
		}
	}
}
