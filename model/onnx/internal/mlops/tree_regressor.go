package mlops

import (
	"errors"
	"fmt"
)

// TreeEnsembleRegressorAttrs holds the attributes of an ai.onnx.ml
// TreeEnsembleRegressor node (opsets 1 to 3), named after them.
type TreeEnsembleRegressorAttrs struct {
	TreeNodes
	TargetTreeIDs []int64 // target_treeids
	TargetNodeIDs []int64 // target_nodeids
	TargetIDs     []int64 // target_ids
	// TargetWeights (target_weights) or TargetWeightsAsTensor
	// (target_weights_as_tensor): exactly one is set.
	TargetWeights         []float32
	TargetWeightsAsTensor []float64
	NTargets              int64 // n_targets
	// BaseValues (base_values) or BaseValuesAsTensor: empty, or one value
	// per target (a single value when there is one target).
	BaseValues         []float32
	BaseValuesAsTensor []float64
	AggregateFunction  string // aggregate_function: SUM (default), AVERAGE, MIN or MAX
	PostTransform      string // post_transform: NONE (default), LOGISTIC, SOFTMAX, SOFTMAX_ZERO or PROBIT
}

// TreeEnsembleRegressor is a compiled TreeEnsembleRegressor. Its output is
// a rows×NumTargets() float32 matrix.
//
// It reproduces ONNX Runtime, including where ONNX Runtime departs from a
// plain reading of the specification:
//   - with one target, a leaf contributes only its first weight (by
//     attribute order), a leaf without weights contributes its nodes_values
//     entry, and post_transform is ignored except PROBIT;
//   - with several targets, a target no leaf voted for outputs 0 (before the
//     transform), even when it has a base value;
//   - AVERAGE divides by the number of trees, not of votes.
type TreeEnsembleRegressor struct {
	targets     int
	agg         aggregate
	post        PostTransform
	numFeatures int
	f32         *forest[float32]
	f64         *forest[float64]
	base32      []float32
	base64      []float64
}

// NewTreeEnsembleRegressor validates a and compiles the trees.
func NewTreeEnsembleRegressor(a TreeEnsembleRegressorAttrs) (*TreeEnsembleRegressor, error) {
	m, err := newTreeEnsembleRegressor(&a)
	if err != nil {
		return nil, fmt.Errorf("TreeEnsembleRegressor: %w", err)
	}
	return m, nil
}

func newTreeEnsembleRegressor(a *TreeEnsembleRegressorAttrs) (*TreeEnsembleRegressor, error) {
	if a.NTargets < 1 || a.NTargets > 1<<20 {
		return nil, fmt.Errorf("n_targets is %d, it must be at least 1", a.NTargets)
	}
	m := &TreeEnsembleRegressor{targets: int(a.NTargets)}
	var err error
	if m.agg, err = parseAggregate(a.AggregateFunction); err != nil {
		return nil, err
	}
	if m.post, err = ParsePostTransform(a.PostTransform); err != nil {
		return nil, err
	}
	base, err := baseValues(a.BaseValues, a.BaseValuesAsTensor)
	if err != nil {
		return nil, err
	}
	if n := base.len(); n != 0 && n != m.targets {
		return nil, fmt.Errorf("base_values has %d entries for %d targets", n, m.targets)
	}
	s, err := compileTrees(&a.TreeNodes, &leafVotes{
		prefix: "target", treeIDs: a.TargetTreeIDs, nodeIDs: a.TargetNodeIDs, ids: a.TargetIDs,
		weights: a.TargetWeights, weights64: a.TargetWeightsAsTensor,
	}, m.targets)
	if err != nil {
		return nil, err
	}
	m.numFeatures = s.numFeatures
	thresholds := values{a.NodesValues, a.NodesValuesAsTensor}
	weights := values{a.TargetWeights, a.TargetWeightsAsTensor}
	m.f32, m.f64 = buildForest[float32](s, thresholds, weights), buildForest[float64](s, thresholds, weights)
	m.base32, m.base64 = convert[float32](base), convert[float64](base)
	return m, nil
}

func baseValues(f32 []float32, f64 []float64) (values, error) {
	if len(f32) > 0 && len(f64) > 0 {
		return values{}, errors.New("both base_values and base_values_as_tensor are set")
	}
	if len(f64) > 0 {
		return values{f64: f64}, nil
	}
	return values{f32: f32}, nil
}

// NumTargets is the width of the output.
func (m *TreeEnsembleRegressor) NumTargets() int { return m.targets }

// NumFeatures is the fewest features an input row must have.
func (m *TreeEnsembleRegressor) NumFeatures() int { return m.numFeatures }

// Predict scores rows of x, a row-major rows×features float32 matrix, into
// out[:rows*NumTargets()].
func (m *TreeEnsembleRegressor) Predict(x []float32, rows, features int, out []float32) error {
	return regress(m, m.f32, m.base32, x, rows, features, out)
}

// PredictFloat64 is Predict for double input, which ONNX Runtime compares
// and sums in float64; the output is float32 all the same.
func (m *TreeEnsembleRegressor) PredictFloat64(x []float64, rows, features int, out []float32) error {
	return regress(m, m.f64, m.base64, x, rows, features, out)
}

func regress[T float](m *TreeEnsembleRegressor, f *forest[T], base, x []T, rows, features int, out []float32) error {
	if err := checkMatrix(len(x), rows, features, m.numFeatures); err != nil {
		return fmt.Errorf("TreeEnsembleRegressor: %w", err)
	}
	k := m.targets
	if len(out) < rows*k {
		return fmt.Errorf("TreeEnsembleRegressor: output has room for %d values, %d rows × %d targets need %d", len(out), rows, k, rows*k)
	}
	sc := newBlockScratch[T](rows, k)
	for b := 0; b < rows; b += blockRows {
		n := min(blockRows, rows-b)
		f.scoreBlock(x[b*features:], n, features, m.agg, k, sc)
		acc, has := sc.acc, sc.has
		for r := range n {
			if k == 1 {
				out[b+r] = finalizeOne(m.agg, m.post, acc[r], has[r], base, len(f.roots))
			} else {
				finalizeTargets(m.agg, m.post, acc[r*k:(r+1)*k], has[r*k:(r+1)*k], base, len(f.roots), out[(b+r)*k:(b+r+1)*k])
			}
		}
	}
	return nil
}

// finalizeOne is ONNX Runtime's FinalizeScores1 for one target: a single
// base value is an origin, added whether or not a leaf voted, and PROBIT is
// the only transform applied.
func finalizeOne[T float](agg aggregate, post PostTransform, s T, has bool, base []T, trees int) float32 {
	var origin T
	if len(base) == 1 {
		origin = base[0]
	}
	switch agg {
	case aggAverage:
		s = s/T(trees) + origin
	case aggSum:
		s += origin
	default:
		if has {
			s += origin
		} else {
			s = origin
		}
	}
	if post == TransformProbit {
		return probit(float32(s))
	}
	return float32(s)
}

// finalizeTargets is ONNX Runtime's FinalizeScores for several targets.
func finalizeTargets[T float](agg aggregate, post PostTransform, s []T, has []bool, base []T, trees int, z []float32) {
	useBase := len(base) == len(s)
	for j, v := range s {
		if agg == aggAverage {
			v /= T(trees)
		}
		if useBase {
			v += base[j]
		}
		// ONNX Runtime reads a score no leaf set as 0, base value or not.
		if has[j] {
			z[j] = float32(v)
		} else {
			z[j] = 0
		}
	}
	post.apply(z)
}
