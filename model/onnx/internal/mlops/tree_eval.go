package mlops

import (
	"fmt"
	"math"
)

// float is the element type of an input: ONNX Runtime thresholds, weights
// and sums in float32 for float input and in float64 for double input, and
// so does this package.
type float interface{ ~float32 | ~float64 }

// node is one tree node as compiled: every comparison, children by index.
// A leaf's children are itself.
type node[T float] struct {
	// value is a branch's threshold, or a leaf's first vote (its own
	// nodes_values entry when it has none), which single-output ensembles
	// use directly, as ONNX Runtime does.
	value                     T
	feature                   int32
	trueIdx, falseIdx, nanIdx int32 // nanIdx is where a NaN feature goes
	op                        nodeOp
}

type vote[T float] struct {
	id    int32
	value T
}

// voteRange locates a leaf's votes: votes[first:first+n].
type voteRange struct{ first, n int32 }

// forest is an ensemble compiled for one input type.
type forest[T float] struct {
	nodes  []node[T]
	ranges []voteRange // per node; zero for branches
	votes  []vote[T]
	roots  []int32
	depth  []int32 // per tree: the most branches on a path from its root
	// flat is the forest in the form rows walk branch-free; nil when a
	// branch compares for equality or a threshold is NaN or -Inf, which
	// have no BRANCH_LEQ rewrite, or when shared subtrees would grow too
	// much once copied apart.
	flat *flatForest[T]
}

// values holds an attribute given as float32 or, for double models, as
// float64 (the *_as_tensor form).
type values struct {
	f32 []float32
	f64 []float64
}

func (v values) at(i int) float64 {
	if v.f32 != nil {
		return float64(v.f32[i])
	}
	return v.f64[i]
}

// len reports how many values there are, whichever form holds them.
func (v values) len() int { return max(len(v.f32), len(v.f64)) }

func convert[T float](v values) []T {
	out := make([]T, v.len())
	for i := range out {
		// float32 → float64 → float32 is exact, and a double attribute
		// read for a float model rounds once, as a cast would.
		out[i] = T(v.at(i))
	}
	return out
}

func buildForest[T float](s *skeleton, thresholds, weights values) *forest[T] {
	th := convert[T](thresholds)
	w := convert[T](weights)
	f := &forest[T]{
		nodes:  make([]node[T], len(s.nodes)),
		ranges: make([]voteRange, len(s.nodes)),
		votes:  make([]vote[T], len(s.votes)),
		roots:  s.roots,
		depth:  make([]int32, len(s.roots)),
	}
	for i, v := range s.votes {
		f.votes[i] = vote[T]{id: v.id, value: w[v.attr]}
	}
	for i, sn := range s.nodes {
		n := node[T]{value: th[sn.attr], feature: sn.feature, trueIdx: sn.trueIdx, falseIdx: sn.falseIdx, nanIdx: sn.falseIdx, op: sn.op}
		if sn.nanTrue {
			n.nanIdx = sn.trueIdx
		}
		if sn.op == opLeaf {
			n.trueIdx, n.falseIdx, n.nanIdx = int32(i), int32(i), int32(i)
			f.ranges[i] = voteRange{sn.trueIdx, sn.falseIdx}
			if sn.falseIdx > 0 {
				n.value = f.votes[sn.trueIdx].value
			}
		}
		f.nodes[i] = n
	}
	heights := make([]int32, len(f.nodes))
	for i := range heights {
		heights[i] = -1
	}
	for t, root := range f.roots {
		f.depth[t] = f.height(root, heights)
	}
	if leq := rewriteLEQ(f.nodes); leq != nil {
		f.flat = newFlatForest(f, leq, s.outputs)
	}
	return f
}

// height memoizes the longest path below i, counted in branches; the
// skeleton has no cycles, and a node shared between branches is measured
// once.
func (f *forest[T]) height(i int32, memo []int32) int32 {
	if memo[i] >= 0 {
		return memo[i]
	}
	var h int32
	if n := f.nodes[i]; n.op != opLeaf {
		h = 1 + max(f.height(n.trueIdx, memo), f.height(n.falseIdx, memo))
	}
	memo[i] = h
	return h
}

// rewriteLEQ returns nodes with every branch rewritten as an equivalent
// BRANCH_LEQ (x < t is x <= the float below t; GTE and GT swap the
// children of LT and LEQ; nanIdx keeps NaN where it went), or nil when a
// branch compares for equality or a threshold is NaN or -Inf, which have
// no such rewrite.
func rewriteLEQ[T float](nodes []node[T]) []node[T] {
	out := make([]node[T], len(nodes))
	for i, n := range nodes {
		t := n.value
		switch n.op {
		case opLeaf, opLEQ:
		case opGT:
			n.op, n.trueIdx, n.falseIdx = opLEQ, n.falseIdx, n.trueIdx
		case opLT:
			n.op, n.value = opLEQ, below(t)
		case opGTE:
			n.op, n.value, n.trueIdx, n.falseIdx = opLEQ, below(t), n.falseIdx, n.trueIdx
		default:
			return nil
		}
		if n.op != opLeaf && (t != t || math.IsInf(float64(t), -1)) {
			return nil
		}
		out[i] = n
	}
	return out
}

// below returns the largest T less than t.
func below[T float](t T) T {
	if _, single := any(t).(float32); single {
		return T(math.Nextafter32(float32(t), float32(math.Inf(-1))))
	}
	return T(math.Nextafter(float64(t), math.Inf(-1)))
}

// leaf walks one tree from root for the row x and returns the leaf it
// reaches. It handles every op; walk, on the flat form, is the faster one
// for forests that have it.
func (f *forest[T]) leaf(root int32, x []T) int32 {
	nodes := f.nodes
	i := root
	for {
		n := &nodes[i]
		if n.op == opLeaf {
			return i
		}
		v := x[n.feature]
		var yes bool
		switch n.op {
		case opLEQ:
			yes = v <= n.value
		case opLT:
			yes = v < n.value
		case opGTE:
			yes = v >= n.value
		case opGT:
			yes = v > n.value
		case opEQ:
			yes = v == n.value
		default: // opNEQ
			yes = v != n.value
		}
		switch {
		case v != v:
			i = n.nanIdx
		case yes:
			i = n.trueIdx
		default:
			i = n.falseIdx
		}
	}
}

// aggregate is how leaves' votes combine across trees.
type aggregate uint8

const (
	aggSum aggregate = iota
	aggAverage
	aggMin
	aggMax
)

var aggregateNames = [...]string{"SUM", "AVERAGE", "MIN", "MAX"}

func parseAggregate(s string) (aggregate, error) {
	if s == "" {
		return aggSum, nil
	}
	for i, name := range aggregateNames {
		if s == name {
			return aggregate(i), nil
		}
	}
	// ONNX Runtime reads any unknown name as MAX.
	return 0, fmt.Errorf("aggregate_function %q is not one of SUM, AVERAGE, MIN, MAX", s)
}

// blockRows is how many rows share one pass over the trees: ONNX Runtime's
// batch of 128 keeps a block of rows and one tree's nodes in L1 together.
const blockRows = 128

// blockScratch is the per-call working memory of scoreBlock.
type blockScratch[T float] struct {
	acc    []T    // blockRows×outputs scores
	has    []bool // whether a vote set each score
	off    []int  // per row of the block, rounded up to whole lanes: where it starts in x
	leaves [lanes]int32
}

func newBlockScratch[T float](rows, outputs int) *blockScratch[T] {
	block := min(rows, blockRows)
	return &blockScratch[T]{
		acc: make([]T, block*outputs), has: make([]bool, block*outputs),
		off: make([]int, (block+lanes-1)/lanes*lanes),
	}
}

// scoreBlock runs every tree on rows of x (stride values apart) and
// combines the leaves into s.acc (rows×outputs) and s.has. outputs == 1 is
// ONNX Runtime's single-output path: each leaf gives its first vote only,
// and has stays unused for sums.
func (f *forest[T]) scoreBlock(x []T, rows, stride int, agg aggregate, outputs int, s *blockScratch[T]) {
	clear(s.acc)
	clear(s.has)
	if f.flat == nil {
		for _, root := range f.roots {
			for r := range rows {
				f.add(f.leaf(root, x[r*stride:(r+1)*stride]), r, agg, outputs, s)
			}
		}
		return
	}
	// A short last group repeats its last row in the spare lanes.
	for r := range s.off {
		s.off[r] = min(r, rows-1) * stride
	}
	ff := f.flat
	if (agg == aggSum || agg == aggAverage) && (outputs == 1 || ff.staticHas != nil) {
		ff.sum(x, rows, outputs, s)
		return
	}
	for t, root := range ff.roots {
		for r := 0; r < rows; r += lanes {
			walk(ff.nodes, root, ff.depth[t], x, (*[lanes]int)(s.off[r:]), &s.leaves)
			for l, leaf := range s.leaves[:min(lanes, rows-r)] {
				f.add(ff.leaf[leaf], r+l, agg, outputs, s)
			}
		}
	}
}

// add combines the votes of leaf into row r's scores.
func (f *forest[T]) add(leaf int32, r int, agg aggregate, outputs int, s *blockScratch[T]) {
	if outputs == 1 {
		v := f.nodes[leaf].value
		switch agg {
		case aggSum, aggAverage:
			s.acc[r] += v
		case aggMin:
			if !s.has[r] || v < s.acc[r] {
				s.acc[r] = v
			}
			s.has[r] = true
		case aggMax:
			if !s.has[r] || v > s.acc[r] {
				s.acc[r] = v
			}
			s.has[r] = true
		}
		return
	}
	a, h := s.acc[r*outputs:(r+1)*outputs], s.has[r*outputs:(r+1)*outputs]
	vr := f.ranges[leaf]
	for _, v := range f.votes[vr.first : vr.first+vr.n] {
		switch agg {
		case aggSum, aggAverage:
			a[v.id] += v.value
		case aggMin:
			if !h[v.id] || v.value < a[v.id] {
				a[v.id] = v.value
			}
		case aggMax:
			if !h[v.id] || v.value > a[v.id] {
				a[v.id] = v.value
			}
		}
		h[v.id] = true
	}
}

// checkMatrix validates a row-major input of rows×features against the
// width the ensemble reads.
func checkMatrix(n, rows, features, need int) error {
	switch {
	case rows < 0 || features < 0:
		return fmt.Errorf("negative shape %d×%d", rows, features)
	case n < rows*features:
		return fmt.Errorf("input has %d values, fewer than %d rows × %d features", n, rows, features)
	case features < need && rows > 0:
		return fmt.Errorf("input has %d features, the model reads feature %d", features, need-1)
	}
	return nil
}
