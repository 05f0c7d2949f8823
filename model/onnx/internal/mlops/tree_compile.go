package mlops

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
)

// TreeNodes holds the nodes_* attributes that both tree ensembles share.
// Entry i of every slice describes one node. nodes_hitrates is absent on
// purpose: ONNX Runtime ignores it and so does this package.
type TreeNodes struct {
	NodesTreeIDs    []int64  // nodes_treeids
	NodesNodeIDs    []int64  // nodes_nodeids
	NodesFeatureIDs []int64  // nodes_featureids
	NodesModes      []string // nodes_modes: BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT, BRANCH_EQ, BRANCH_NEQ or LEAF
	// NodesValues (nodes_values) or NodesValuesAsTensor
	// (nodes_values_as_tensor, for double models): exactly one is set.
	NodesValues         []float32
	NodesValuesAsTensor []float64
	NodesTrueNodeIDs    []int64 // nodes_truenodeids
	NodesFalseNodeIDs   []int64 // nodes_falsenodeids
	// NodesMissingValueTracksTrue (nodes_missing_value_tracks_true) is empty
	// or has one entry per node; 1 sends a NaN feature down the true branch.
	NodesMissingValueTracksTrue []int64
}

// nodeOp is a node's comparison: a row goes to the true child when
// x[feature] op threshold holds.
type nodeOp uint8

const (
	opLeaf nodeOp = iota
	opLEQ
	opLT
	opGTE
	opGT
	opEQ
	opNEQ
)

var nodeModes = map[string]nodeOp{
	"LEAF":       opLeaf,
	"BRANCH_LEQ": opLEQ,
	"BRANCH_LT":  opLT,
	"BRANCH_GTE": opGTE,
	"BRANCH_GT":  opGT,
	"BRANCH_EQ":  opEQ,
	"BRANCH_NEQ": opNEQ,
}

// leafVotes holds the class_* or target_* attributes: the weights that
// leaves add to a class or target.
type leafVotes struct {
	prefix    string // "class" or "target", for error messages
	treeIDs   []int64
	nodeIDs   []int64
	ids       []int64
	weights   []float32
	weights64 []float64
}

// skeleton is an ensemble validated and laid out, independent of the
// threshold type; forest[T] is built from it once per input type.
type skeleton struct {
	nodes       []skelNode // every tree, each in depth-first order, false child first
	roots       []int32
	votes       []skelVote // grouped by leaf
	numFeatures int        // ONNX Runtime's max feature id + 1, leaves included
	outputs     int        // the classes or targets that votes' ids index
}

type skelNode struct {
	attr    int // index into the nodes_* attributes
	op      nodeOp
	feature int32
	// nanTrue sends NaN down the true branch: BRANCH_NEQ does by its
	// comparison (NaN != t holds), the others when
	// nodes_missing_value_tracks_true says so; every other comparison
	// with NaN is false.
	nanTrue bool
	// A branch's children, or a leaf's votes: votes[trueIdx:trueIdx+falseIdx].
	trueIdx, falseIdx int32
}

type skelVote struct {
	attr int // index into the class_* or target_* attributes
	id   int32
}

type nodeKey struct{ tree, node int64 }

// compileTrees validates the attributes as ONNX Runtime reads them and lays
// the nodes out for evaluation. outputs is the number of classes or
// targets the votes' ids index.
func compileTrees(n *TreeNodes, v *leafVotes, outputs int) (*skeleton, error) {
	if err := checkNodeLengths(n); err != nil {
		return nil, err
	}
	ops, index, numFeatures, err := indexNodes(n)
	if err != nil {
		return nil, err
	}
	trueChild, falseChild, err := linkChildren(n, ops, index)
	if err != nil {
		return nil, err
	}
	l := newLayout(n, ops, trueChild, falseChild)
	seenTree := map[int64]int{}
	for start, end := range treeSpans(n.NodesTreeIDs) {
		tree := n.NodesTreeIDs[start]
		if first, again := seenTree[tree]; again {
			return nil, fmt.Errorf("nodes_treeids[%d]: the nodes of tree %d are not contiguous (the tree starts at index %d)",
				start, tree, first)
		}
		seenTree[tree] = start
		if err := l.tree(start, end); err != nil {
			return nil, err
		}
	}
	l.linkPositions()
	s := &skeleton{nodes: l.nodes, roots: l.roots, numFeatures: numFeatures, outputs: outputs}
	if err := s.addVotes(v, index, l.pos, outputs); err != nil {
		return nil, err
	}
	return s, nil
}

// checkNodeLengths checks that every nodes_* attribute has one entry per
// node, and that exactly one of the thresholds' attributes is set.
func checkNodeLengths(n *TreeNodes) error {
	count := len(n.NodesTreeIDs)
	if count == 0 {
		return errors.New("nodes_treeids is empty: the ensemble has no nodes")
	}
	if count > math.MaxInt32/2 {
		return fmt.Errorf("nodes_treeids has %d nodes, more than this package supports", count)
	}
	lengths := []struct {
		name string
		n    int
	}{
		{"nodes_nodeids", len(n.NodesNodeIDs)},
		{"nodes_featureids", len(n.NodesFeatureIDs)},
		{"nodes_modes", len(n.NodesModes)},
		{"nodes_truenodeids", len(n.NodesTrueNodeIDs)},
		{"nodes_falsenodeids", len(n.NodesFalseNodeIDs)},
	}
	for _, l := range lengths {
		if l.n != count {
			return fmt.Errorf("%s has %d entries, nodes_treeids has %d", l.name, l.n, count)
		}
	}
	switch {
	case len(n.NodesValues) > 0 && len(n.NodesValuesAsTensor) > 0:
		return errors.New("both nodes_values and nodes_values_as_tensor are set")
	case len(n.NodesValues) != count && len(n.NodesValuesAsTensor) != count:
		return fmt.Errorf("nodes_values has %d entries, nodes_treeids has %d",
			max(len(n.NodesValues), len(n.NodesValuesAsTensor)), count)
	}
	if m := len(n.NodesMissingValueTracksTrue); m != 0 && m != count {
		return fmt.Errorf("nodes_missing_value_tracks_true has %d entries, nodes_treeids has %d", m, count)
	}
	return nil
}

// indexNodes reads each node's comparison, and indexes the nodes by tree
// and node id. numFeatures is ONNX Runtime's count of features: the
// largest feature id + 1, leaves' included.
func indexNodes(n *TreeNodes) (ops []nodeOp, index map[nodeKey]int, numFeatures int, err error) {
	count := len(n.NodesTreeIDs)
	ops = make([]nodeOp, count)
	index = make(map[nodeKey]int, count)
	numFeatures = 1
	for i := range count {
		op, ok := nodeModes[n.NodesModes[i]]
		if !ok {
			return nil, nil, 0, fmt.Errorf("nodes_modes[%d] is %q, not one of BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT, BRANCH_EQ, BRANCH_NEQ, LEAF", i, n.NodesModes[i])
		}
		ops[i] = op
		f := n.NodesFeatureIDs[i]
		if op != opLeaf && (f < 0 || f >= math.MaxInt32) {
			return nil, nil, 0, fmt.Errorf("nodes_featureids[%d] is %d, not a feature index", i, f)
		}
		// ONNX Runtime counts leaves' feature ids too when it checks the
		// input's width.
		if f >= 0 && f < math.MaxInt32 {
			numFeatures = max(numFeatures, int(f)+1)
		}
		key := nodeKey{n.NodesTreeIDs[i], n.NodesNodeIDs[i]}
		if j, dup := index[key]; dup {
			return nil, nil, 0, fmt.Errorf("nodes_nodeids[%d]: node %d of tree %d is already defined at index %d", i, key.node, key.tree, j)
		}
		index[key] = i
	}
	return ops, index, numFeatures, nil
}

// linkChildren finds each branch's children, as attribute indexes, in
// the branch's own tree.
func linkChildren(n *TreeNodes, ops []nodeOp, index map[nodeKey]int) (trueChild, falseChild []int, err error) {
	child := func(attr string, ids []int64, i int) (int, error) {
		key := nodeKey{n.NodesTreeIDs[i], ids[i]}
		j, ok := index[key]
		if !ok {
			return 0, fmt.Errorf("%s[%d]: node %d of tree %d points to node %d, which tree %d does not have",
				attr, i, n.NodesNodeIDs[i], key.tree, key.node, key.tree)
		}
		return j, nil
	}
	trueChild = make([]int, len(ops))
	falseChild = make([]int, len(ops))
	for i, op := range ops {
		if op == opLeaf {
			continue
		}
		if trueChild[i], err = child("nodes_truenodeids", n.NodesTrueNodeIDs, i); err != nil {
			return nil, nil, err
		}
		if falseChild[i], err = child("nodes_falsenodeids", n.NodesFalseNodeIDs, i); err != nil {
			return nil, nil, err
		}
	}
	return trueChild, falseChild, nil
}

// treeSpans yields the runs [start, end) of equal tree ids, in order.
func treeSpans(treeIDs []int64) iter.Seq2[int, int] {
	return func(yield func(int, int) bool) {
		start := 0
		for i := 1; i <= len(treeIDs); i++ {
			if i < len(treeIDs) && treeIDs[i] == treeIDs[start] {
				continue
			}
			if !yield(start, i) {
				return
			}
			start = i
		}
	}
}

// visitState is where a node is in the depth-first layout.
type visitState uint8

const (
	unseen visitState = iota
	open              // on the current path: reaching it again is a cycle
	done
)

// layoutFrame is a node on the layout's stack and the next of its
// children to visit: 0, itself; 1, its false child; 2, its true child.
type layoutFrame struct {
	attr  int
	stage uint8
}

// layout lays trees out depth first, false child first, each node once.
type layout struct {
	n                     *TreeNodes
	ops                   []nodeOp
	trueChild, falseChild []int

	nodes []skelNode
	roots []int32
	pos   []int32 // attribute index -> position in nodes
	state []visitState
	stack []layoutFrame
}

// newLayout is a layout of no trees yet.
func newLayout(n *TreeNodes, ops []nodeOp, trueChild, falseChild []int) *layout {
	count := len(ops)
	return &layout{n: n, ops: ops, trueChild: trueChild, falseChild: falseChild,
		nodes: make([]skelNode, 0, count), pos: make([]int32, count), state: make([]visitState, count)}
}

// tree lays out the tree of nodes [start, end), whose root ONNX Runtime
// takes to be the first, and fails on a cycle or a node the root does not
// reach.
func (l *layout) tree(start, end int) error {
	l.roots = append(l.roots, int32(len(l.nodes)))
	l.stack = append(l.stack[:0], layoutFrame{attr: start})
	for len(l.stack) > 0 {
		if err := l.step(); err != nil {
			return err
		}
	}
	for j := start; j < end; j++ {
		if l.state[j] != done {
			return fmt.Errorf("nodes_nodeids[%d]: node %d of tree %d cannot be reached from the tree's root, node %d (ONNX Runtime takes a tree's first node as its root)",
				j, l.n.NodesNodeIDs[j], l.n.NodesTreeIDs[j], l.n.NodesNodeIDs[start])
		}
	}
	return nil
}

// step takes the next stage of the node on top of the stack.
func (l *layout) step() error {
	f := &l.stack[len(l.stack)-1]
	a := f.attr
	switch f.stage {
	case 0:
		l.place(a)
		if l.ops[a] == opLeaf {
			l.finish(a)
			return nil
		}
		f.stage = 1
		return l.visit(a, l.falseChild[a], "nodes_falsenodeids")
	case 1:
		f.stage = 2
		return l.visit(a, l.trueChild[a], "nodes_truenodeids")
	default:
		l.finish(a)
		return nil
	}
}

// place appends node a to the layout and marks it open.
func (l *layout) place(a int) {
	l.state[a] = open
	l.pos[a] = int32(len(l.nodes))
	var feature int32 // a leaf reads none, whatever its attribute says
	if l.ops[a] != opLeaf {
		feature = int32(l.n.NodesFeatureIDs[a])
	}
	tracks := l.n.NodesMissingValueTracksTrue
	l.nodes = append(l.nodes, skelNode{
		attr: a, op: l.ops[a], feature: feature,
		nanTrue: l.ops[a] == opNEQ || len(tracks) > 0 && tracks[a] == 1,
	})
}

// finish marks node a, on top of the stack, done and pops it.
func (l *layout) finish(a int) {
	l.state[a] = done
	l.stack = l.stack[:len(l.stack)-1]
}

// visit pushes a node not yet laid out; a node already done is shared
// between branches (LightGBM's converter writes set membership as
// BRANCH_EQ chains whose true branches meet), which is harmless.
func (l *layout) visit(from, to int, attr string) error {
	switch l.state[to] {
	case open:
		return fmt.Errorf("%s[%d]: node %d of tree %d leads back to node %d: the tree has a cycle",
			attr, from, l.n.NodesNodeIDs[from], l.n.NodesTreeIDs[from], l.n.NodesNodeIDs[to])
	case unseen:
		l.stack = append(l.stack, layoutFrame{attr: to})
	}
	return nil
}

// linkPositions points each laid-out branch at its children's positions.
func (l *layout) linkPositions() {
	for i := range l.nodes {
		sn := &l.nodes[i]
		if sn.op != opLeaf {
			sn.trueIdx = l.pos[l.trueChild[sn.attr]]
			sn.falseIdx = l.pos[l.falseChild[sn.attr]]
		}
	}
}

// addVotes attaches the votes to their leaves, in ONNX Runtime's order:
// sorted by tree and node id, attribute order within one leaf. That order
// matters where a single-output ensemble uses only a leaf's first vote.
func (s *skeleton) addVotes(v *leafVotes, index map[nodeKey]int, pos []int32, outputs int) error {
	count := len(v.treeIDs)
	for _, l := range []struct {
		suffix string
		n      int
	}{{"nodeids", len(v.nodeIDs)}, {"ids", len(v.ids)}} {
		if l.n != count {
			return fmt.Errorf("%s_%s has %d entries, %s_treeids has %d", v.prefix, l.suffix, l.n, v.prefix, count)
		}
	}
	switch {
	case len(v.weights) > 0 && len(v.weights64) > 0:
		return fmt.Errorf("both %s_weights and %s_weights_as_tensor are set", v.prefix, v.prefix)
	case len(v.weights) != count && len(v.weights64) != count:
		return fmt.Errorf("%s_weights has %d entries, %s_treeids has %d",
			v.prefix, max(len(v.weights), len(v.weights64)), v.prefix, count)
	}
	order := make([]int, count)
	for i := range order {
		order[i] = i
		if id := v.ids[i]; id < 0 || id >= int64(outputs) {
			return fmt.Errorf("%s_ids[%d] is %d, outside [0, %d)", v.prefix, i, id, outputs)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(v.treeIDs[a], v.treeIDs[b]), cmp.Compare(v.nodeIDs[a], v.nodeIDs[b]))
	})
	s.votes = make([]skelVote, 0, count)
	for _, i := range order {
		attr, ok := index[nodeKey{v.treeIDs[i], v.nodeIDs[i]}]
		if !ok {
			return fmt.Errorf("%s_nodeids[%d]: tree %d has no node %d", v.prefix, i, v.treeIDs[i], v.nodeIDs[i])
		}
		leaf := &s.nodes[pos[attr]]
		if leaf.op != opLeaf {
			// Old onnxmltools releases put weights on branch nodes; ONNX
			// Runtime ignores them, and so does this.
			continue
		}
		if leaf.falseIdx == 0 {
			leaf.trueIdx = int32(len(s.votes))
		}
		leaf.falseIdx++
		s.votes = append(s.votes, skelVote{attr: i, id: int32(v.ids[i])})
	}
	return nil
}
