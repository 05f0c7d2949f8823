package onnx

import (
	"fmt"
	"slices"

	"github.com/dfbatch/dfbatch/internal/onnxpb"
	"google.golang.org/protobuf/proto"
)

// A mixed graph has ai.onnx.ml operators and standard operators the ML
// graph lacks, as skl2onnx writes a network classifier: the dense layers
// (MatMul, Add, Relu, Softmax...) then ArgMax, ArrayFeatureExtractor and
// Reshape to turn the probabilities into class labels. Its standard
// operators that read only the graph's inputs, its constants and each
// other's outputs form its front: they compile into one plan, which runs
// first on each batch; the other nodes run on the ML graph over the
// values the front exports.

// frontPlan is the compiled front of a mixed graph and the names of the
// values it exports, in the order of the plan's outputs: those the ML
// nodes read and the graph outputs it computes.
type frontPlan struct {
	plan    *plan
	outputs []string
}

// checkMixed splits a mixed graph into its front plan and its ML nodes
// and compiles both.
func (l *Loader) checkMixed(g *onnxpb.GraphProto) error {
	dense, rest := splitFront(g)
	if err := refuseDenseAfterML(rest); err != nil {
		return err
	}
	if len(dense) > 0 {
		exported := exportedBy(dense, rest, g.GetOutput())
		p, err := compilePlan(frontGraph(g, dense, exported), l.inputs)
		if err != nil {
			return fmt.Errorf("the dense layers before the ML operators run on the compiled plan, which cannot take them: %w", err)
		}
		l.front = &frontPlan{plan: p, outputs: exported}
	}
	nodes, err := compileML(rest, graphConstants(g))
	if err != nil {
		return err
	}
	l.mlNodes = nodes
	l.mlInputs = inputsReadBy(l.inputs, rest, g.GetOutput())
	return nil
}

// splitFront sorts g's nodes into the front (see frontTakes) and the
// rest, each in graph order.
func splitFront(g *onnxpb.GraphProto) (dense, rest []*onnxpb.NodeProto) {
	initializers := map[string]bool{}
	for _, t := range g.GetInitializer() {
		initializers[t.GetName()] = true
	}
	inputs, floats := map[string]bool{}, map[string]bool{}
	for _, v := range g.GetInput() {
		if initializers[v.GetName()] {
			continue
		}
		inputs[v.GetName()] = true
		_, _, elem, _ := onnxpb.ShapeOf(v)
		floats[v.GetName()] = elem == onnxpb.TensorProto_FLOAT
	}
	for _, n := range g.GetNode() {
		if !frontTakes(n, floats, inputs, initializers) {
			rest = append(rest, n)
			continue
		}
		dense = append(dense, n)
		for _, o := range n.GetOutput() {
			floats[o] = true
		}
	}
	return dense, rest
}

// frontTakes says the front plan takes n: an operator the plan compiles
// (planCompiles), computing floats (a Cast only to FLOAT, a Constant only of a
// float value) from float values of the front or the graph's inputs and
// from initializers; a Cast to FLOAT may read any graph input.
func frontTakes(n *onnxpb.NodeProto, floats, inputs, initializers map[string]bool) bool {
	op := n.GetOpType()
	if !planCompiles(n) {
		return false
	}
	switch op {
	case "Cast":
		if onnxpb.AttrIntOr(n, "to", 0) != int64(onnxpb.TensorProto_FLOAT) {
			return false
		}
	case "Constant":
		t, ok := onnxpb.AttrTensor(n, "value")
		return ok && onnxpb.DataTypeOf(t) == onnxpb.TensorProto_FLOAT
	}
	for _, in := range n.GetInput() {
		if in != "" && !floats[in] && !initializers[in] && !(op == "Cast" && inputs[in]) {
			return false
		}
	}
	return true
}

// refuseDenseAfterML names a standard operator of the plan that reads
// what an ML operator computes, which neither part can run.
func refuseDenseAfterML(rest []*onnxpb.NodeProto) error {
	for _, n := range rest {
		domain := onnxpb.CanonicalDomain(n.GetDomain())
		if domain == onnxpb.DefaultDomain && slices.Contains(planOperators, n.GetOpType()) && !runsOnMLGraph(n) && !isConstantNode(n) {
			return fmt.Errorf("operator %s of node %q reads a value computed by an ML operator (or a non-float value); in a graph with ML operators, standard operators run on the compiled plan only over the graph's float inputs and each other's outputs", n.GetOpType(), n.GetName())
		}
	}
	return nil
}

// exportedBy lists, in order of first need, the values dense computes
// that the rest reads or that are graph outputs.
func exportedBy(dense, rest []*onnxpb.NodeProto, outputs []*onnxpb.ValueInfoProto) []string {
	computed := map[string]bool{}
	for _, n := range dense {
		for _, o := range n.GetOutput() {
			computed[o] = true
		}
	}
	var names []string
	need := func(name string) {
		if computed[name] && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	for _, n := range rest {
		for _, in := range n.GetInput() {
			need(in)
		}
	}
	for _, o := range outputs {
		need(o.GetName())
	}
	return names
}

// frontGraph is g cut down to the front: its nodes, g's inputs and
// initializers, and the exported values as outputs.
func frontGraph(g *onnxpb.GraphProto, dense []*onnxpb.NodeProto, exported []string) *onnxpb.GraphProto {
	sub := &onnxpb.GraphProto{Name: proto.String(g.GetName() + " front"), Node: dense, Input: g.GetInput(), Initializer: g.GetInitializer()}
	for _, name := range exported {
		sub.Output = append(sub.Output, &onnxpb.ValueInfoProto{Name: proto.String(name)})
	}
	return sub
}

// inputsReadBy lists the indexes of the inputs that nodes read or that
// are graph outputs themselves.
func inputsReadBy(inputs []tensorSpec, nodes []*onnxpb.NodeProto, outputs []*onnxpb.ValueInfoProto) []int {
	read := map[string]bool{}
	for _, n := range nodes {
		for _, in := range n.GetInput() {
			read[in] = true
		}
	}
	for _, o := range outputs {
		read[o.GetName()] = true
	}
	var idx []int
	for i, spec := range inputs {
		if read[spec.name] {
			idx = append(idx, i)
		}
	}
	return idx
}
