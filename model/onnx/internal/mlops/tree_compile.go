package mlops

import (
	"cmp"
	"errors"
	"fmt"
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
	count := len(n.NodesTreeIDs)
	if count == 0 {
		return nil, errors.New("nodes_treeids is empty: the ensemble has no nodes")
	}
	if count > math.MaxInt32/2 {
		return nil, fmt.Errorf("nodes_treeids has %d nodes, more than this package supports", count)
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
			return nil, fmt.Errorf("%s has %d entries, nodes_treeids has %d", l.name, l.n, count)
		}
	}
	switch {
	case len(n.NodesValues) > 0 && len(n.NodesValuesAsTensor) > 0:
		return nil, errors.New("both nodes_values and nodes_values_as_tensor are set")
	case len(n.NodesValues) != count && len(n.NodesValuesAsTensor) != count:
		return nil, fmt.Errorf("nodes_values has %d entries, nodes_treeids has %d",
			max(len(n.NodesValues), len(n.NodesValuesAsTensor)), count)
	}
	if m := len(n.NodesMissingValueTracksTrue); m != 0 && m != count {
		return nil, fmt.Errorf("nodes_missing_value_tracks_true has %d entries, nodes_treeids has %d", m, count)
	}

	ops := make([]nodeOp, count)
	index := make(map[nodeKey]int, count)
	numFeatures := 1
	for i := range count {
		op, ok := nodeModes[n.NodesModes[i]]
		if !ok {
			return nil, fmt.Errorf("nodes_modes[%d] is %q, not one of BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT, BRANCH_EQ, BRANCH_NEQ, LEAF", i, n.NodesModes[i])
		}
		ops[i] = op
		f := n.NodesFeatureIDs[i]
		if op != opLeaf && (f < 0 || f >= math.MaxInt32) {
			return nil, fmt.Errorf("nodes_featureids[%d] is %d, not a feature index", i, f)
		}
		// ONNX Runtime counts leaves' feature ids too when it checks the
		// input's width.
		if f >= 0 && f < math.MaxInt32 {
			numFeatures = max(numFeatures, int(f)+1)
		}
		key := nodeKey{n.NodesTreeIDs[i], n.NodesNodeIDs[i]}
		if j, dup := index[key]; dup {
			return nil, fmt.Errorf("nodes_nodeids[%d]: node %d of tree %d is already defined at index %d", i, key.node, key.tree, j)
		}
		index[key] = i
	}

	child := func(attr string, ids []int64, i int) (int, error) {
		key := nodeKey{n.NodesTreeIDs[i], ids[i]}
		j, ok := index[key]
		if !ok {
			return 0, fmt.Errorf("%s[%d]: node %d of tree %d points to node %d, which tree %d does not have",
				attr, i, n.NodesNodeIDs[i], key.tree, key.node, key.tree)
		}
		return j, nil
	}
	trueChild := make([]int, count)
	falseChild := make([]int, count)
	for i, op := range ops {
		if op == opLeaf {
			continue
		}
		var err error
		if trueChild[i], err = child("nodes_truenodeids", n.NodesTrueNodeIDs, i); err != nil {
			return nil, err
		}
		if falseChild[i], err = child("nodes_falsenodeids", n.NodesFalseNodeIDs, i); err != nil {
			return nil, err
		}
	}

	s := &skeleton{nodes: make([]skelNode, 0, count), numFeatures: numFeatures, outputs: outputs}
	pos := make([]int32, count) // attribute index -> position in s.nodes
	state := make([]uint8, count)
	const (
		unseen = iota
		open   // on the current path: reaching it again is a cycle
		done
	)
	type frame struct {
		attr  int
		stage uint8
	}
	var stack []frame
	// visit pushes a node not yet laid out; a node already done is shared
	// between branches (LightGBM's converter writes set membership as
	// BRANCH_EQ chains whose true branches meet), which is harmless.
	visit := func(from, to int, attr string) error {
		switch state[to] {
		case open:
			return fmt.Errorf("%s[%d]: node %d of tree %d leads back to node %d: the tree has a cycle",
				attr, from, n.NodesNodeIDs[from], n.NodesTreeIDs[from], n.NodesNodeIDs[to])
		case unseen:
			stack = append(stack, frame{attr: to})
		}
		return nil
	}
	treeStart := 0
	seenTree := map[int64]int{}
	for i := 0; i <= count; i++ {
		if i < count && i > treeStart && n.NodesTreeIDs[i] == n.NodesTreeIDs[treeStart] {
			continue
		}
		if i > treeStart {
			// nodes [treeStart, i) form one tree; ONNX Runtime takes the
			// first of them as its root.
			s.roots = append(s.roots, int32(len(s.nodes)))
			stack = append(stack[:0], frame{attr: treeStart})
			for len(stack) > 0 {
				f := &stack[len(stack)-1]
				a := f.attr
				switch f.stage {
				case 0:
					state[a] = open
					pos[a] = int32(len(s.nodes))
					var feature int32 // a leaf reads none, whatever its attribute says
					if ops[a] != opLeaf {
						feature = int32(n.NodesFeatureIDs[a])
					}
					s.nodes = append(s.nodes, skelNode{
						attr: a, op: ops[a], feature: feature,
						nanTrue: ops[a] == opNEQ || len(n.NodesMissingValueTracksTrue) > 0 && n.NodesMissingValueTracksTrue[a] == 1,
					})
					if ops[a] == opLeaf {
						state[a] = done
						stack = stack[:len(stack)-1]
						continue
					}
					f.stage = 1
					if err := visit(a, falseChild[a], "nodes_falsenodeids"); err != nil {
						return nil, err
					}
				case 1:
					f.stage = 2
					if err := visit(a, trueChild[a], "nodes_truenodeids"); err != nil {
						return nil, err
					}
				default:
					state[a] = done
					stack = stack[:len(stack)-1]
				}
			}
			for j := treeStart; j < i; j++ {
				if state[j] != done {
					return nil, fmt.Errorf("nodes_nodeids[%d]: node %d of tree %d cannot be reached from the tree's root, node %d (ONNX Runtime takes a tree's first node as its root)",
						j, n.NodesNodeIDs[j], n.NodesTreeIDs[j], n.NodesNodeIDs[treeStart])
				}
			}
		}
		if i == count {
			break
		}
		if first, again := seenTree[n.NodesTreeIDs[i]]; again {
			return nil, fmt.Errorf("nodes_treeids[%d]: the nodes of tree %d are not contiguous (the tree starts at index %d)",
				i, n.NodesTreeIDs[i], first)
		}
		seenTree[n.NodesTreeIDs[i]] = i
		treeStart = i
	}
	for i := range s.nodes {
		sn := &s.nodes[i]
		if sn.op != opLeaf {
			sn.trueIdx = pos[trueChild[sn.attr]]
			sn.falseIdx = pos[falseChild[sn.attr]]
		}
	}
	if err := s.addVotes(v, index, pos, outputs); err != nil {
		return nil, err
	}
	return s, nil
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
