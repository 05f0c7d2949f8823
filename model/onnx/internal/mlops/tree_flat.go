package mlops

import (
	"math"
	"unsafe"
)

// lanes is how many rows walk a tree together. Each step of a row depends
// on the previous one, so one row at a time leaves the core waiting on
// loads; interleaving independent rows keeps it busy, and the
// branch-free step spares it mispredicting half of all branches.
const lanes = 8

// flatNode is a node of the flat form: a BRANCH_LEQ whose children sit
// side by side, true child first, so that a step is arithmetic:
// next = child + (x > threshold, or x is NaN and NaN goes to the false
// child). A leaf is its own child, with threshold +Inf and nanFalse 0, so
// rows that reach it early stay there while the others walk on.
type flatNode[T float] struct {
	threshold T
	feature   int32
	child     int32
	nanFalse  int32 // 1 when a NaN feature goes to the false child
}

// flatForest is a forest as rows walk it branch-free, with each leaf's
// votes laid out for the sums: one node per path from a root (a subtree
// that two branches share is copied for each), trees breadth-first.
type flatForest[T float] struct {
	nodes []flatNode[T]
	roots []int32
	depth []int32 // per tree, the forest's
	leaf  []int32 // per flat node, the forest node it copies
	// value is per flat leaf the leaf's first vote, or its nodes_values
	// entry when it has none: all a single-output ensemble adds.
	value []T
	// target is per flat leaf the id of its only vote, when every leaf has
	// exactly one (gradient boosting's trees, one per class); nil
	// otherwise.
	target []int32
	ranges []voteRange // per flat leaf, its votes in votes
	votes  []vote[T]
	// staticHas says per output whether every row gets a vote for it, when
	// that does not depend on the row: each output either has no votes at
	// all, or a tree whose every leaf votes for it. nil otherwise.
	staticHas []bool
}

// flatGrowth bounds the flat form's size against the forest's: copying
// shared subtrees apart may grow a forest exponentially in the worst case.
const flatGrowth = 4

// newFlatForest lays out the BRANCH_LEQ form leq of f; it returns nil when
// copying shared subtrees apart would grow the forest past flatGrowth
// times its size.
func newFlatForest[T float](f *forest[T], leq []node[T], outputs int) *flatForest[T] {
	ff := &flatForest[T]{roots: make([]int32, len(f.roots)), depth: f.depth, votes: f.votes}
	limit := flatGrowth*len(leq) + 2
	inf := T(math.Inf(1))
	for t, root := range f.roots {
		start := len(ff.nodes)
		ff.roots[t] = int32(start)
		ff.nodes = append(ff.nodes, flatNode[T]{})
		ff.leaf = append(ff.leaf, root)
		for i := start; i < len(ff.nodes); i++ {
			n := leq[ff.leaf[i]]
			if n.op == opLeaf {
				ff.nodes[i] = flatNode[T]{threshold: inf, child: int32(i)}
				continue
			}
			if len(ff.nodes)+2 > limit {
				return nil
			}
			fn := flatNode[T]{threshold: n.value, feature: n.feature, child: int32(len(ff.nodes))}
			if n.nanIdx != n.trueIdx {
				fn.nanFalse = 1
			}
			ff.nodes[i] = fn
			ff.nodes = append(ff.nodes, flatNode[T]{}, flatNode[T]{})
			ff.leaf = append(ff.leaf, n.trueIdx, n.falseIdx)
		}
	}
	ff.layOutVotes(f, leq, outputs)
	return ff
}

// layOutVotes fills value, ranges, target and staticHas.
func (ff *flatForest[T]) layOutVotes(f *forest[T], leq []node[T], outputs int) {
	ff.value = make([]T, len(ff.nodes))
	ff.ranges = make([]voteRange, len(ff.nodes))
	ff.target = make([]int32, len(ff.nodes))
	oneVote := true
	for i, orig := range ff.leaf {
		if leq[orig].op != opLeaf {
			continue
		}
		ff.value[i] = f.nodes[orig].value
		vr := f.ranges[orig]
		ff.ranges[i] = vr
		if vr.n == 1 {
			ff.target[i] = f.votes[vr.first].id
		} else {
			oneVote = false
		}
	}
	if !oneVote {
		ff.target = nil
	}
	ff.staticHas = ff.votedEverywhere(leq, outputs)
}

// votedEverywhere returns, per output, whether some tree votes for it at
// every leaf, or nil when an output that has votes has no such tree, so
// that whether a row gets a vote for it depends on the row.
func (ff *flatForest[T]) votedEverywhere(leq []node[T], outputs int) []bool {
	always := make([]bool, outputs)
	some := make([]bool, outputs)
	for _, v := range ff.votes {
		some[v.id] = true
	}
	count := make([]int, outputs) // per tree: its leaves that vote for each output
	seen := make([]int, outputs)  // the leaf that last counted for each output, plus one
	for t := range ff.roots {
		end := len(ff.nodes)
		if t+1 < len(ff.roots) {
			end = int(ff.roots[t+1])
		}
		clear(count)
		clear(seen)
		leaves := 0
		for i := int(ff.roots[t]); i < end; i++ {
			if leq[ff.leaf[i]].op != opLeaf {
				continue
			}
			leaves++
			vr := ff.ranges[i]
			for _, v := range ff.votes[vr.first : vr.first+vr.n] {
				if seen[v.id] != i+1 {
					seen[v.id] = i + 1
					count[v.id]++
				}
			}
		}
		for j, c := range count {
			if c == leaves {
				always[j] = true
			}
		}
	}
	for j := range always {
		if some[j] && !always[j] {
			return nil
		}
	}
	return always
}

// walk walks the tree at root for the rows starting at x[off[l]], depth
// steps, and leaves their flat leaves in idx. The lanes' indexes live in
// registers: through memory, each step would wait on a store.
func walk[T float](nodes []flatNode[T], root, depth int32, x []T, off *[lanes]int, idx *[lanes]int32) {
	// Every index step computes is in range: children and leaves point
	// into nodes by construction, a feature is below the row width
	// checkMatrix checked, and off[l] starts a row of x. So the steps read
	// through pointers, without a bounds check per load.
	np, xp := unsafe.Pointer(unsafe.SliceData(nodes)), unsafe.Pointer(unsafe.SliceData(x))
	i0, i1, i2, i3, i4, i5, i6, i7 := root, root, root, root, root, root, root, root
	for range depth {
		i0 = step[T](np, xp, off[0], i0)
		i1 = step[T](np, xp, off[1], i1)
		i2 = step[T](np, xp, off[2], i2)
		i3 = step[T](np, xp, off[3], i3)
		i4 = step[T](np, xp, off[4], i4)
		i5 = step[T](np, xp, off[5], i5)
		i6 = step[T](np, xp, off[6], i6)
		i7 = step[T](np, xp, off[7], i7)
	}
	*idx = [lanes]int32{i0, i1, i2, i3, i4, i5, i6, i7}
}

// step moves a row, starting at x[off], at node i of nodes one level down.
func step[T float](nodes, x unsafe.Pointer, off int, i int32) int32 {
	n := (*flatNode[T])(unsafe.Add(nodes, uintptr(i)*unsafe.Sizeof(flatNode[T]{})))
	v := *(*T)(unsafe.Add(x, uintptr(off+int(n.feature))*unsafe.Sizeof(n.threshold)))
	// Both comparisons read the flags of one compare. They differ only for
	// NaN, where above is 0 and notAtMost 1: NaN goes to the false child
	// where nanFalse is 1.
	var above, notAtMost int32
	if v > n.threshold {
		above = 1
	}
	if !(v <= n.threshold) {
		notAtMost = 1
	}
	return n.child + (above | notAtMost&n.nanFalse)
}

// sum adds every tree's leaves for the block's rows into s.acc, and sets
// s.has from staticHas: sums and averages of a single output, or of
// outputs that every row gets votes for or none does.
func (ff *flatForest[T]) sum(x []T, rows, outputs int, s *blockScratch[T]) {
	for t, root := range ff.roots {
		for r := 0; r < rows; r += lanes {
			walk(ff.nodes, root, ff.depth[t], x, (*[lanes]int)(s.off[r:]), &s.leaves)
			n := min(lanes, rows-r)
			switch {
			case outputs == 1:
				ff.addFirst(s.acc[r:r+n], &s.leaves)
			case ff.target != nil:
				ff.addOne(s.acc[r*outputs:(r+n)*outputs], n, outputs, &s.leaves)
			default:
				ff.addMany(s.acc[r*outputs:(r+n)*outputs], n, outputs, &s.leaves)
			}
		}
	}
	if outputs > 1 {
		for r := range rows {
			copy(s.has[r*outputs:(r+1)*outputs], ff.staticHas)
		}
	}
}

// addFirst adds each leaf's value to its row's single score.
func (ff *flatForest[T]) addFirst(acc []T, leaves *[lanes]int32) {
	for l := range acc {
		acc[l] += ff.value[leaves[l]]
	}
}

// addOne adds each of n leaves' only vote to its row's scores.
func (ff *flatForest[T]) addOne(acc []T, n, outputs int, leaves *[lanes]int32) {
	for l := range n {
		i := leaves[l]
		acc[l*outputs+int(ff.target[i])] += ff.value[i]
	}
}

// addMany adds every vote of each of n leaves to its row's scores.
func (ff *flatForest[T]) addMany(acc []T, n, outputs int, leaves *[lanes]int32) {
	for l := range n {
		a := acc[l*outputs : (l+1)*outputs]
		vr := ff.ranges[leaves[l]]
		for _, v := range ff.votes[vr.first : vr.first+vr.n] {
			a[v.id] += v.value
		}
	}
}
