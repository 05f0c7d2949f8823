package mlops

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// randomForest builds a binary classifier shaped like an XGBoost or
// LightGBM export: trees full to depth, BRANCH_LEQ, one weight column of
// mixed sign, LOGISTIC.
func randomForest(tb testing.TB, trees, depth, features int, rng *rand.Rand) *TreeEnsembleClassifier {
	tb.Helper()
	var a TreeEnsembleClassifierAttrs
	perTree := 1<<(depth+1) - 1
	for t := range trees {
		for id := range perTree {
			a.NodesTreeIDs = append(a.NodesTreeIDs, int64(t))
			a.NodesNodeIDs = append(a.NodesNodeIDs, int64(id))
			if id < perTree/2 {
				a.NodesModes = append(a.NodesModes, "BRANCH_LEQ")
				a.NodesFeatureIDs = append(a.NodesFeatureIDs, int64(rng.IntN(features)))
				a.NodesValues = append(a.NodesValues, float32(rng.NormFloat64()))
				a.NodesTrueNodeIDs = append(a.NodesTrueNodeIDs, int64(2*id+1))
				a.NodesFalseNodeIDs = append(a.NodesFalseNodeIDs, int64(2*id+2))
				a.NodesMissingValueTracksTrue = append(a.NodesMissingValueTracksTrue, int64(rng.IntN(2)))
				continue
			}
			a.NodesModes = append(a.NodesModes, "LEAF")
			a.NodesFeatureIDs = append(a.NodesFeatureIDs, 0)
			a.NodesValues = append(a.NodesValues, 0)
			a.NodesTrueNodeIDs = append(a.NodesTrueNodeIDs, 0)
			a.NodesFalseNodeIDs = append(a.NodesFalseNodeIDs, 0)
			a.NodesMissingValueTracksTrue = append(a.NodesMissingValueTracksTrue, 0)
			a.ClassTreeIDs = append(a.ClassTreeIDs, int64(t))
			a.ClassNodeIDs = append(a.ClassNodeIDs, int64(id))
			a.ClassIDs = append(a.ClassIDs, 0)
			a.ClassWeights = append(a.ClassWeights, float32(rng.NormFloat64()*0.1))
		}
	}
	a.ClassLabelsInt64s = []int64{0, 1}
	a.PostTransform = "LOGISTIC"
	m, err := NewTreeEnsembleClassifier(a)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func BenchmarkTreeEnsembleClassifier(b *testing.B) {
	const features = 30
	rng := rand.New(rand.NewPCG(1, 2))
	m := randomForest(b, 300, 6, features, rng)
	for _, rows := range []int{1024, 8192} {
		x := make([]float32, rows*features)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		labels := make([]int64, rows)
		scores := make([]float32, rows*2)
		b.Run(strconv.Itoa(rows)+"rows", func(b *testing.B) {
			for b.Loop() {
				if err := m.Predict(x, rows, features, labels, scores); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
